"""Rollout plans driven by a real Celery worker (PostgreSQL + Redis), as in production.

The test plays celery beat, sending ``flags.tasks.tick`` to the worker's own
queue; a local metrics server answers an error rate that turns bad once the
plan reaches its third step. On SQLite (no database another process can
share) the same plans are driven by calling the task in real time.
"""

from __future__ import annotations

import threading
import time
import uuid
from types import SimpleNamespace

import pytest

from audit.models import AuditEvent
from flags.choices import PlanStatus, StepStatus
from flags.models import Flag, PlanHookCall, RolloutPlan
from flags.services import plan_create, plan_start
from monitoring.services import check_create
from tests.monitoring.servers import Answer
from tests.monitoring.test_worker import REAL_WORKER, WorkerProcess

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored"),
]

HOLD = 2.5  # seconds per step (SHIPCHECK_FLAGS_MIN_HOLD lowers the floor for tests)
TICK_EVERY = 0.1


@pytest.fixture
def short_steps(monkeypatch):
    monkeypatch.setenv("SHIPCHECK_FLAGS_MIN_HOLD", "1")
    monkeypatch.setenv("SHIPCHECK_MONITORING_TICK", str(TICK_EVERY))
    monkeypatch.setenv("SHIPCHECK_FETCH_ALLOWLIST", "127.0.0.1")


class Beat:
    def __init__(self, queue: str):
        self.queue, self.stop = queue, threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        from config.celery import app

        while not self.stop.wait(TICK_EVERY):
            app.send_task("flags.tasks.tick", queue=self.queue, expires=2.0)

    def close(self):
        self.stop.set()
        self.thread.join(timeout=5)


@pytest.fixture
def driver(tmp_path, short_steps):
    """``driver.run(until, timeout)``: a real worker and beat on PG+Redis, inline ticks otherwise."""
    state = SimpleNamespace(worker=None, beat=None, queue=None)
    if REAL_WORKER:
        state.queue = f"flags-test-{uuid.uuid4().hex[:10]}"
        state.worker = WorkerProcess(state.queue, tmp_path)
        state.beat = Beat(state.queue)

    def run(until, timeout: float, on_each=lambda: None):
        from flags.tasks import tick

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            on_each()
            if until():
                return True
            if not REAL_WORKER:
                tick()
            time.sleep(TICK_EVERY)
        return until()

    def restart():
        if REAL_WORKER:
            state.worker.kill()
            state.worker = WorkerProcess(state.queue, tmp_path)

    state.run, state.restart = run, restart
    yield state
    if state.beat:
        state.beat.close()
    if state.worker:
        state.worker.kill()


@pytest.fixture
def metrics(server, allow_loopback):
    state = SimpleNamespace(bad=False, hook_calls=0)

    def error_rate(seen):
        return Answer(200, {"error_rate": 9.0 if state.bad else 0.4})

    def hook(seen):
        state.hook_calls += 1
        return Answer(200, {"ok": True})

    server.route("/errors", error_rate)
    server.route("/hook", hook)
    state.url, state.hook_url = server.url("/errors"), server.url("/hook")
    return state


def _plan(release, prod, people, metrics):
    check_create(
        environment=prod,
        kind="metric",
        actor=people.adam,
        name="error rate",
        provider="json",
        url=metrics.url,
        json_path="$.error_rate",
        unit="%",
        max_value=5.0,
    )
    plan = plan_create(
        release=release,
        environment=prod,
        actor=people.alice,
        flag_key="fast-checkout",
        steps=[{"percent": p, "hold_seconds": HOLD} for p in (10, 25, 50, 100)],
        rollback_hook_url=metrics.hook_url,
    )
    return plan_start(plan=plan, actor=people.alice)


def _status(plan):
    return RolloutPlan.objects.get(pk=plan.pk)


def test_plan_pauses_at_third_step_sets_zero_and_calls_hook_once(
    release, prod, people, flag, metrics, driver
):
    plan = _plan(release, prod, people, metrics)

    def turn_bad_at_50():
        if _status(plan).current_percent == 50:
            metrics.bad = True

    assert driver.run(
        lambda: _status(plan).status == PlanStatus.PAUSED, timeout=40, on_each=turn_bad_at_50
    ), _status(plan).reason
    # Give a late duplicate every chance to show up.
    driver.run(lambda: False, timeout=1.5)
    plan = _status(plan)
    failed = plan.steps.get(position=2)
    assert failed.percent == 50 and failed.status == StepStatus.FAILED
    assert [s.status for s in plan.steps.all()][:2] == [StepStatus.PASSED, StepStatus.PASSED]
    assert plan.current_percent == 0 and Flag.objects.get().rollout == 0
    assert "error rate" in plan.reason
    assert driver.run(lambda: PlanHookCall.objects.filter(status="succeeded").exists(), timeout=10)
    assert metrics.hook_calls == 1
    paused = AuditEvent.objects.get(action="flags.plan_paused")
    assert (paused.data["before_percent"], paused.data["after_percent"]) == (50, 0)
    assert paused.data["verdict"]["status"] == "failed"
    advanced = AuditEvent.objects.filter(action="flags.plan_advanced").order_by("id")
    assert [(e.data["before_percent"], e.data["after_percent"]) for e in advanced] == [
        (10, 25),
        (25, 50),
    ]


def test_plan_completes_to_100_across_a_worker_restart(
    release, prod, people, flag, metrics, driver
):
    plan = _plan(release, prod, people, metrics)
    assert driver.run(lambda: _status(plan).current_percent >= 25, timeout=20), _status(plan).reason
    driver.restart()
    assert driver.run(lambda: _status(plan).status == PlanStatus.COMPLETED, timeout=40), _status(
        plan
    ).reason
    plan = _status(plan)
    assert plan.current_percent == 100 and Flag.objects.get().rollout == 100
    assert [s.status for s in plan.steps.all()] == [StepStatus.PASSED] * 4
    assert AuditEvent.objects.filter(action="flags.plan_advanced").count() == 3
    assert metrics.hook_calls == 0
