"""Windows driven by a real Celery worker.

On PostgreSQL + Redis (``DATABASE_URL`` and ``REDIS_URL`` set) a real
``celery worker`` process runs the tasks and the test plays the scheduler,
sending ``monitoring.tasks.tick`` to the worker's own queue; one test kills the
worker mid-window and checks that a new one resumes within two intervals. On
SQLite (no shared database for another process) the same windows are driven
by calling the task functions in real time.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

from monitoring.choices import HookCallStatus, WindowKind, WindowStatus
from monitoring.models import HookCall, MonitoringWindow, PollGap, Sample
from monitoring.services import deployment_start
from releases.choices import DeploymentStatus, DeploymentStrategy
from tests.monitoring.conftest import configure
from tests.monitoring.servers import Answer, by_query, prom_vector, sequence

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("allow_loopback"),
    # The test plays the scheduler with send_task, which never runs eagerly (as intended).
    pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored"),
]

REAL_WORKER = bool(os.environ.get("REDIS_URL")) and connection.vendor == "postgresql"
needs_real_worker = pytest.mark.skipif(
    not REAL_WORKER, reason="needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL)"
)
INTERVAL = 0.5
TICK_EVERY = 0.1


class WorkerProcess:
    """``celery worker`` in a subprocess on the test database and a queue of its own."""

    def __init__(self, queue: str, tmp_path: Path):
        db = connection.settings_dict
        url = (
            f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        )
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "SHIPCHECK_TEST_QUEUE": queue,
            "PYTHONUNBUFFERED": "1",
            "SHIPCHECK_FETCH_ALLOWLIST": "127.0.0.1",
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "SHIPCHECK_VAR_DIR": str(tmp_path),
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tests.monitoring.worker_app",
            "worker",
            "-Q",
            queue,
            "-P",
            "threads",
            "-c",
            "4",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "INFO",
            "-n",
            f"{queue}-{uuid.uuid4().hex[:6]}@%h",
        ]
        self.output: list[str] = []
        self.ready = threading.Event()
        self.process = subprocess.Popen(
            command,
            cwd=str(django_settings.BASE_DIR),
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        if not self.ready.wait(60):
            self.kill()
            raise AssertionError("The worker did not start:\n" + "".join(self.output[-40:]))
        self.ready_at = time.monotonic()

    def _read(self):
        for line in self.process.stdout:
            self.output.append(line)
            if " ready." in line:
                self.ready.set()

    def kill(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


class Scheduler:
    """Plays celery beat: sends a tick to the queue every TICK_EVERY seconds (or runs it, on SQLite)."""

    def __init__(self, queue: str | None):
        self.queue = queue
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        from config.celery import app

        while not self.stop.wait(TICK_EVERY):
            if self.queue:
                app.send_task("monitoring.tasks.tick", queue=self.queue, expires=2.0)

    def close(self):
        self.stop.set()
        self.thread.join(timeout=5)


def run_ticks_inline(until, timeout: float) -> None:
    """SQLite: the task function itself, called on the scheduler's rhythm."""
    from monitoring.tasks import tick

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not until():
        tick()
        time.sleep(TICK_EVERY)


def wait_for(predicate, timeout: float, step: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


@pytest.fixture
def worker_queue(tmp_path):
    """Start a worker on its own queue and a scheduler for it (PostgreSQL + Redis), or nothing."""
    if not REAL_WORKER:
        yield None
        return
    queue = f"monitoring-test-{uuid.uuid4().hex[:10]}"
    worker = WorkerProcess(queue, tmp_path)
    scheduler = Scheduler(queue)
    try:
        yield queue
    finally:
        scheduler.close()
        worker.kill()


def drive(queue, until, timeout: float):
    if queue is None:
        run_ticks_inline(until, timeout)
    else:
        wait_for(until, timeout)


def canary(release, env, actor):
    deployment = deployment_start(
        release=release, environment=env, actor=actor, strategy=DeploymentStrategy.CANARY
    )
    return deployment, MonitoringWindow.objects.get(deployment=deployment, kind=WindowKind.CANARY)


def window_done(window):
    def check():
        window.refresh_from_db()
        return window.status != WindowStatus.RUNNING

    return check


def test_failing_canary__worker_fails_it_and_calls_the_hook_once(
    release, envs, people, stub, hook_server, worker_queue
):
    stub.route("/healthz", Answer(200))
    stub.route("/api/v1/query", by_query({"errors": sequence(prom_vector(0.4), prom_vector(7.5))}))
    hook_server.route("/rollback", Answer(200, {"ok": True}))
    configure(
        envs["dev"],
        people.adam,
        poll_interval=INTERVAL,
        canary_duration=30,
        rollback_hook_url=hook_server.url("/rollback"),
        health=[{"name": "Health", "url": stub.url("/healthz")}],
        metrics=[
            {
                "name": "Error rate",
                "url": stub.url(),
                "query": "errors",
                "unit": "%",
                "max_value": 2,
                "failure_limit": 1,
            }
        ],
    )
    deployment, window = canary(release, envs["dev"], people.bob)

    drive(worker_queue, window_done(window), timeout=30)
    assert window.status == WindowStatus.FAILED, window.reason
    assert "7.5 % is above the maximum 2 %" in window.reason
    assert wait_for(lambda: HookCall.objects.filter(status=HookCallStatus.SUCCEEDED).exists(), 20)
    drive(worker_queue, lambda: False, timeout=4 * INTERVAL)  # later ticks must not call it again
    assert hook_server.hits["/rollback"] == 1
    deployment.refresh_from_db()
    assert deployment.status == DeploymentStatus.ROLLED_BACK


def test_provider_outage__worker_ends_the_window_as_error(
    release, envs, people, stub, hook_server, worker_queue
):
    stub.route(
        "/api/v1/query", Answer(503, {"status": "error", "error": "prometheus is restarting"})
    )
    hook_server.route("/rollback", Answer(200))
    configure(
        envs["dev"],
        people.adam,
        poll_interval=INTERVAL,
        canary_duration=30,
        rollback_hook_url=hook_server.url("/rollback"),
        metrics=[
            {
                "name": "Error rate",
                "url": stub.url(),
                "query": "errors",
                "max_value": 2,
                "consecutive_error_limit": 2,
            }
        ],
    )
    deployment, window = canary(release, envs["dev"], people.bob)

    drive(worker_queue, window_done(window), timeout=30)
    assert window.status == WindowStatus.ERROR
    assert "prometheus is restarting" in window.reason
    deployment.refresh_from_db()
    assert deployment.status == DeploymentStatus.IN_PROGRESS
    assert hook_server.hits["/rollback"] == 0


@needs_real_worker
def test_worker_killed_mid_window__a_new_one_resumes_within_two_intervals(
    release, envs, people, stub, tmp_path
):
    interval = 1.0
    stub.route("/healthz", Answer(200))
    configure(
        envs["dev"],
        people.adam,
        poll_interval=interval,
        canary_duration=120,
        health=[{"name": "Health", "url": stub.url("/healthz")}],
    )
    queue = f"monitoring-test-{uuid.uuid4().hex[:10]}"
    first = WorkerProcess(queue, tmp_path)
    scheduler = Scheduler(queue)
    second = None
    try:
        _deployment, window = canary(release, envs["dev"], people.bob)
        samples = Sample.objects.filter(window_check__window=window)
        assert wait_for(lambda: samples.count() >= 2, 20), "".join(first.output[-30:])

        first.kill()
        killed_at = time.monotonic()
        before = samples.count()
        time.sleep(3.5 * interval)  # several slots pass with nobody polling
        assert samples.count() <= before + 1  # at most a poll that was already in flight

        second = WorkerProcess(queue, tmp_path)
        resumed = wait_for(
            lambda: samples.filter(
                taken_at__gt=_now_minus(time.monotonic() - second.ready_at)
            ).exists(),
            10,
            step=0.05,
        )
        resumed_after = time.monotonic() - second.ready_at
        assert resumed, "".join(second.output[-30:])
        assert resumed_after < 2 * interval, (
            f"resumed {resumed_after:.2f} s after the new worker was ready"
        )
        print(
            f"\nresumed {resumed_after:.2f} s after the restarted worker was ready (interval {interval} s)"
        )

        # The slots nobody took are a recorded gap, not a burst of late polls.
        assert wait_for(lambda: PollGap.objects.filter(window=window).exists(), 5)
        slots = list(samples.values_list("slot", flat=True))
        assert len(slots) == len(set(slots))
        down = time.monotonic() - killed_at
        assert samples.count() <= before + 2 + (time.monotonic() - second.ready_at) / interval
        assert down > 3 * interval
    finally:
        scheduler.close()
        first.kill()
        if second is not None:
            second.kill()


def _now_minus(seconds: float):
    from datetime import timedelta

    from django.utils import timezone

    return timezone.now() - timedelta(seconds=seconds)
