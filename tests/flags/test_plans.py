"""Rollout plans: steps applied once, watched by monitoring checks, moved by verdicts and people."""

from __future__ import annotations

from datetime import timedelta

import pytest

from audit.models import AuditEvent
from core.exceptions import Conflict, NotFound, PermissionDenied, ValidationFailed
from flags.choices import PlanStatus, StepStatus
from flags.models import Flag, PlanHookCall, RolloutPlan
from flags.services import (
    flags_tick,
    plan_abort,
    plan_advance,
    plan_complete,
    plan_create,
    plan_pause,
    plan_resume,
    plan_skip,
    plan_start,
    step_conclude,
)

MINUTE = 60


def _plan(release, prod, people, health, **kwargs):
    kwargs.setdefault("steps", [{"percent": p, "hold_seconds": MINUTE} for p in (10, 25, 50, 100)])
    return plan_create(
        release=release,
        environment=prod,
        actor=people.alice,
        flag_key="fast-checkout",
        rollback_hook_url=health.hook_url,
        **kwargs,
    )


def _run_step(plan, *, bad_after: int | None = None, health=None):
    """Tick through the current step's hold time, ten seconds at a time."""
    step = plan.steps.get(position=plan.current_position)
    start = step.started_at
    for n in range(1, 8):
        if bad_after is not None and n > bad_after:
            health.bad = True
        flags_tick(now=start + timedelta(seconds=10 * n + 0.5))
    plan.refresh_from_db()
    return plan


def _percent(flag):
    flag.refresh_from_db()
    return flag.rollout


def test_healthy_plan_advances_by_itself_to_100(
    release, prod, people, flag, watched, health, django_capture_on_commit_callbacks
):
    plan = _plan(release, prod, people, health)
    plan = plan_start(plan=plan, actor=people.alice)
    assert plan.current_percent == 10 and _percent(flag) == 10
    for expected in (25, 50, 100):
        plan = _run_step(plan)
        assert plan.current_percent == expected, plan.reason
    plan = _run_step(plan)
    assert plan.status == PlanStatus.COMPLETED
    assert _percent(flag) == 100
    assert [s.status for s in plan.steps.all()] == [StepStatus.PASSED] * 4
    events = list(
        AuditEvent.objects.filter(action__startswith="flags.plan_")
        .order_by("id")
        .values_list("action", "data")
    )
    moves = [
        (a, d["before_percent"], d["after_percent"]) for a, d in events if a != "flags.plan_created"
    ]
    assert moves == [
        ("flags.plan_started", 0, 10),
        ("flags.plan_advanced", 10, 25),
        ("flags.plan_advanced", 25, 50),
        ("flags.plan_advanced", 50, 100),
        ("flags.plan_completed", 100, 100),
    ]
    advanced = [d for a, d in events if a == "flags.plan_advanced"]
    assert all(d["verdict"]["status"] == "passed" for d in advanced)
    assert not PlanHookCall.objects.exists()


def test_failing_check_at_third_step_pauses_sets_zero_and_calls_hook_once(
    release, prod, people, flag, watched, health, django_capture_on_commit_callbacks
):
    plan = plan_start(plan=_plan(release, prod, people, health), actor=people.alice)
    plan = _run_step(plan)
    plan = _run_step(plan)
    assert plan.current_percent == 50
    with django_capture_on_commit_callbacks(execute=True):
        plan = _run_step(plan, bad_after=2, health=health)
        # More ticks after the failure change nothing and call nothing again.
        flags_tick()
    assert plan.status == PlanStatus.PAUSED
    step = plan.steps.get(position=2)
    assert step.status == StepStatus.FAILED and step.percent == 50
    assert "api health" in plan.reason
    assert _percent(flag) == 0 and plan.current_percent == 0
    assert health.server.hits["/hook"] == 1
    assert PlanHookCall.objects.get().status == "succeeded"
    paused = AuditEvent.objects.get(action="flags.plan_paused")
    assert paused.data["before_percent"] == 50 and paused.data["after_percent"] == 0
    assert paused.data["verdict"]["status"] == "failed"
    assert AuditEvent.objects.filter(action="flags.hook_called").count() == 1
    # A person resumes: the step's percentage is set again and watched afresh.
    health.bad = False
    plan = plan_resume(plan=plan, actor=people.alice, reason="Fixed the slow query")
    assert plan.status == PlanStatus.RUNNING and _percent(flag) == 50
    assert plan.steps.get(position=2).status == StepStatus.WATCHING


def test_manual_plan_waits_for_a_person_then_advances(release, prod, people, flag, watched, health):
    plan = plan_start(
        plan=_plan(release, prod, people, health, auto_advance=False), actor=people.alice
    )
    plan = _run_step(plan)
    assert plan.status == PlanStatus.WAITING and plan.current_percent == 10
    plan = plan_advance(plan=plan, actor=people.alice, reason="Dashboards clean")
    assert plan.status == PlanStatus.RUNNING and plan.current_percent == 25


def test_no_checks_is_inconclusive_and_asks_a_person(release, prod, people, flag, health):
    plan = plan_start(plan=_plan(release, prod, people, health), actor=people.alice)
    plan = _run_step(plan)
    assert plan.status == PlanStatus.WAITING
    assert plan.steps.get(position=0).status == StepStatus.INCONCLUSIVE
    assert "person decides" in plan.reason


def test_actions_pause_skip_complete_abort(release, prod, people, flag, watched, health):
    plan = plan_start(plan=_plan(release, prod, people, health), actor=people.bob)
    plan = plan_pause(plan=plan, actor=people.alice, reason="Wait for support")
    assert plan.status == PlanStatus.PAUSED and _percent(flag) == 10
    # Paused steps are not polled.
    flags_tick(now=plan.steps.get(position=0).ends_at + timedelta(minutes=5))
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PAUSED
    with pytest.raises(Conflict):
        plan_advance(plan=plan, actor=people.alice)
    plan = plan_resume(plan=plan, actor=people.alice)
    plan = plan_skip(plan=plan, actor=people.alice, reason="25 % is pointless for this")
    assert plan.current_percent == 50
    assert plan.steps.get(position=1).status == StepStatus.SKIPPED
    with pytest.raises(Conflict):
        plan_skip(plan=plan, actor=people.alice)  # only the last step is left to skip
    plan = plan_complete(plan=plan, actor=people.alice)
    assert plan.status == PlanStatus.COMPLETED and _percent(flag) == 100
    with pytest.raises(Conflict):
        plan_abort(plan=plan, actor=people.alice)
    second = _plan(release, prod, people, health)
    second = plan_start(plan=second, actor=people.alice)
    second = plan_abort(plan=second, actor=people.alice, reason="Pulled")
    assert second.status == PlanStatus.ABORTED and _percent(flag) == 0
    aborted = AuditEvent.objects.get(action="flags.plan_aborted")
    assert aborted.data["before_percent"] == 10 and aborted.data["after_percent"] == 0


def test_a_step_is_applied_once(release, prod, people, flag, watched, health):
    plan = plan_start(plan=_plan(release, prod, people, health), actor=people.alice)
    step = plan.steps.get(position=0)
    _run_step(plan)
    for _ in range(3):  # the same verdict seen again, by the tick or a second worker
        step_conclude(step_id=step.pk, now=step.ends_at + timedelta(seconds=5), verdict=None)
        flags_tick(now=step.ends_at + timedelta(seconds=5))
    plan.refresh_from_db()
    assert plan.current_percent == 25
    assert AuditEvent.objects.filter(action="flags.plan_advanced").count() == 1
    with pytest.raises(Conflict):
        plan_start(plan=plan, actor=people.alice)


@pytest.mark.parametrize(
    ("steps", "words"),
    [
        ([{"percent": 10, "hold_seconds": MINUTE}, {"percent": 5, "hold_seconds": MINUTE}], "rise"),
        ([{"percent": 120, "hold_seconds": MINUTE}], "1 to 100"),
        ([{"percent": 0, "hold_seconds": MINUTE}], "1 to 100"),
        ([{"percent": 10, "hold_seconds": None}], "no hold time"),
        ([{"percent": 10, "hold_seconds": 1}], "between"),
        ("10,25", "from 1 to"),
    ],
)
def test_bad_steps_are_refused(release, prod, people, flag, health, steps, words):
    with pytest.raises(ValidationFailed) as error:
        _plan(release, prod, people, health, steps=steps)
    assert words in error.value.message
    assert not RolloutPlan.objects.exists()


def test_unknown_flag_and_rights(release, prod, people, flag, health):
    with pytest.raises(ValidationFailed, match="no flag 'nope'"):
        plan_create(release=release, environment=prod, actor=people.alice, flag_key="nope")
    with pytest.raises(PermissionDenied):
        plan_create(release=release, environment=prod, actor=people.aud, flag_key="fast-checkout")
    with pytest.raises(NotFound):
        plan_create(release=release, environment=prod, actor=people.olga, flag_key="fast-checkout")
    plan = _plan(release, prod, people, health)
    with pytest.raises(Conflict, match="already being rolled out"):
        _plan(release, prod, people, health)
    with pytest.raises(PermissionDenied):
        plan_start(plan=plan, actor=people.quinn)
    assert Flag.objects.get().rollout == 10
