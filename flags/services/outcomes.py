"""What the verdicts do: the tick that polls watched steps, and a step's end on its verdict.

passed → the next step (by itself, or a person is asked); failed → pause, 0 %
if the plan says so, the rollback hook once, an urgent notice; inconclusive
or error → a person decides. An external flag is read back at every poll: a
value Shipcheck did not set pauses the plan.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from core.oncommit import after_commit
from flags.adapters import AdapterError, adapter_for
from flags.choices import (
    FlagSource,
    PlanStatus,
    StepStatus,
)
from flags.models import PlanHookCall, RolloutPlan, RolloutStep
from flags.services.steps import (
    percent_set,
    plan_announce,
    plan_audit,
    plan_finish,
    plan_go_to,
    plan_locked,
    plan_steps,
    plan_system,
    step_close,
    step_current,
    step_next_pending,
)
from flags.services.watch import check_headers, check_probe, check_record, step_verdict
from monitoring.choices import WindowStatus
from monitoring.verdicts import (
    Reading,
    Verdict,
)

logger = logging.getLogger(__name__)


# --- What the verdicts do --------------------------------------------------------------------


def step_conclude(*, step_id: int, now: datetime, verdict: Verdict | None) -> bool:
    """End a watched step on its verdict (``None``: the final one, once the hold time is over).

    passed → next step (auto) or wait for a person; failed → pause, 0 % if the plan
    says so, the rollback hook once, an urgent notice; inconclusive or error → wait
    for a person. Safe to call twice: the locked rows decide.
    """
    with transaction.atomic():
        row = RolloutStep.objects.filter(pk=step_id).select_related("plan").first()
        if row is None or row.status != StepStatus.WATCHING:
            return False
        plan = plan_locked(
            row.plan
        )  # the plan first, then its steps: every service locks in this order
        steps = plan_steps(plan)
        step = steps[row.position]
        if plan.status != PlanStatus.RUNNING or plan.current_position != step.position:
            return False
        if step.status != StepStatus.WATCHING:
            return False
        if verdict is None:
            assert step.ends_at is not None
            if now < step.ends_at:
                return False
            verdict = step_verdict(step, finished=True)
        if verdict.status == WindowStatus.FAILED:
            _step_failed(plan, steps, step, verdict)
        elif verdict.status == WindowStatus.PASSED:
            _step_passed(plan, steps, step, verdict, now)
        else:
            _step_undecided(plan, step, verdict)
        return True


def _step_passed(
    plan: RolloutPlan, steps: list[RolloutStep], step: RolloutStep, verdict: Verdict, now: datetime
) -> None:
    step.status, step.reason = StepStatus.PASSED, verdict.reason
    step.finished_at, step.next_poll_at = timezone.now(), None
    step.save()
    target = step_next_pending(steps, plan)
    if not plan.auto_advance:
        before = plan.status
        plan.status = PlanStatus.WAITING
        plan.reason = (
            f"Step {step.position + 1} ({step.percent} %) passed; waiting for a person to "
            + ("advance." if target else "complete the plan.")
        )
        plan.save()
        plan_audit(
            plan,
            actor=None,
            action="waiting",
            from_state=before,
            before=plan.current_percent,
            reason=plan.reason,
            verdict=verdict,
            step=step,
        )
        plan_announce(
            plan,
            "flags.plan_waiting",
            f"Rollout of {plan.flag_key} waits for you",
            plan.reason,
            urgent=False,
        )
        return
    reason = f"Step {step.position + 1} passed its hold time: {verdict.reason}"
    if target is None:
        plan_finish(plan, steps, actor=None, reason=reason, verdict=verdict)
    else:
        plan_go_to(
            plan,
            steps,
            target,
            actor=None,
            action="advanced",
            reason=reason,
            verdict=verdict,
            now=now,
        )


def _step_undecided(plan: RolloutPlan, step: RolloutStep, verdict: Verdict) -> None:
    step.status, step.reason = StepStatus.INCONCLUSIVE, verdict.reason
    step.finished_at, step.next_poll_at = timezone.now(), None
    step.save()
    before = plan.status
    plan.status = PlanStatus.WAITING
    plan.reason = f"Step {step.position + 1} ({step.percent} %) is inconclusive: {verdict.reason}"
    plan.save()
    plan_audit(
        plan,
        actor=None,
        action="waiting",
        from_state=before,
        before=plan.current_percent,
        reason=plan.reason,
        verdict=verdict,
        step=step,
    )
    plan_announce(
        plan,
        "flags.plan_waiting",
        f"Rollout of {plan.flag_key} needs a decision",
        plan.reason,
        urgent=True,
    )


def _step_failed(
    plan: RolloutPlan, steps: list[RolloutStep], step: RolloutStep, verdict: Verdict
) -> None:
    step.status, step.reason = StepStatus.FAILED, verdict.reason
    step.finished_at, step.next_poll_at = timezone.now(), None
    step.save()
    before_status, before_percent = plan.status, plan.current_percent
    plan.status = PlanStatus.PAUSED
    disabled_error = ""
    if plan.disable_on_fail:
        try:
            percent_set(plan, 0, actor=None, reason=f"Step {step.position + 1} failed.")
        except AdapterError as error:
            disabled_error = error.message
    plan.reason = f"Paused at step {step.position + 1} ({step.percent} %): {verdict.reason}" + (
        f" Setting the flag to 0 % failed: {disabled_error}" if disabled_error else ""
    )
    plan.save()
    hook = _hook_request(plan, verdict.reason)
    plan_audit(
        plan,
        actor=None,
        action="paused",
        from_state=before_status,
        before=before_percent,
        reason=plan.reason,
        verdict=verdict,
        step=step,
        hook=hook.pk if hook else None,
    )
    plan_announce(
        plan,
        "flags.plan_paused",
        f"Rollout of {plan.flag_key} paused: {plan.release.version} failed a check",
        plan.reason,
        urgent=True,
    )


def _hook_request(plan: RolloutPlan, reason: str) -> PlanHookCall | None:
    if not plan.rollback_hook_url:
        return None
    existing = PlanHookCall.objects.filter(plan=plan).first()
    if existing is not None:
        return existing
    call = PlanHookCall.objects.create(
        plan=plan,
        url=plan.rollback_hook_url,
        idempotency_key=f"shipcheck-flag-rollback-{uuid.uuid4().hex}",
        reason=reason[:2000],
    )
    from flags.tasks import hook_send

    call_id = call.pk
    after_commit(hook_send.delay, call_id)
    return call


def plan_drift_check(*, plan_id: int) -> str:
    """Read an external flag's rollout back; a value Shipcheck did not set pauses the plan.

    Returns the drift sentence ("" when the value is what Shipcheck set). Audit:
    ``flags.plan_paused`` with the value seen.
    """
    plan = RolloutPlan.objects.select_related("environment").filter(pk=plan_id).first()
    if plan is None or plan.source == FlagSource.SHIPCHECK or plan.last_set_percent is None:
        return ""
    try:
        seen = adapter_for(plan_system(plan)).read_rollout(plan.flag_key)
        problem = (
            ""
            if seen == plan.last_set_percent
            else f"Unleash reports {seen} % for {plan.flag_key}, but Shipcheck set "
            f"{plan.last_set_percent} %: changed outside Shipcheck."
        )
    except AdapterError as error:
        problem = f"Reading the rollout back failed: {error.message}"
    if not problem:
        return ""
    with transaction.atomic():
        plan = plan_locked(plan)
        if plan.status != PlanStatus.RUNNING:
            return problem
        steps = plan_steps(plan)
        current = step_current(steps, plan)
        step_close(current, StepStatus.STOPPED, problem)
        plan.drift = problem[:300]
        plan.status = PlanStatus.PAUSED
        plan.reason = f"Paused: {problem}"
        plan.save()
        plan_audit(
            plan,
            actor=None,
            action="paused",
            from_state=PlanStatus.RUNNING,
            before=plan.current_percent,
            reason=problem,
            step=current,
        )
        plan_announce(
            plan, "flags.plan_paused", f"Rollout of {plan.flag_key} paused", problem, urgent=True
        )
    return problem


@dataclass
class TickReport:
    polled: int = 0
    concluded: int = 0
    failed: int = 0


def claim_slot(step: RolloutStep, now: datetime) -> int | None:
    """Take the step's next slot with a conditional UPDATE: one worker wins each slot.

    Slots that passed with no worker to take them (a restart, an outage) are
    not counted as watched: the step's end moves by as much, so the hold time
    is always time spent watching.
    """
    assert step.started_at is not None and step.ends_at is not None
    elapsed = (now - step.started_at) / step.poll_interval
    upcoming = max(step.next_slot + 1, int(elapsed) + 1)
    missed = upcoming - (step.next_slot + 1)
    won = RolloutStep.objects.filter(
        pk=step.pk, status=StepStatus.WATCHING, next_slot=step.next_slot
    ).update(
        next_slot=upcoming,
        next_poll_at=step.started_at + step.poll_interval * upcoming,
        ends_at=step.ends_at + step.poll_interval * missed,
    )
    return step.next_slot if won else None


def flags_tick(*, now: datetime | None = None) -> TickReport:
    """Poll every due step, then conclude the steps whose hold time is over. Safe to run twice."""
    now = now or timezone.now()
    report = TickReport()
    due = list(
        RolloutStep.objects.filter(
            status=StepStatus.WATCHING,
            next_poll_at__lte=now,
            plan__status=PlanStatus.RUNNING,
        ).select_related("plan")
    )
    for step in due:
        assert step.ends_at is not None
        if step.started_at and step.started_at + step.poll_interval * step.next_slot > step.ends_at:
            continue  # the last poll was taken; the conclusion below ends the step
        slot = claim_slot(step, now)
        if slot is None:
            continue
        headers = check_headers(step.checks)
        readings = [
            check_probe(check, headers.get((check["kind"], check["id"]), {}))
            for check in step.checks
        ]
        if step.plan.source != FlagSource.SHIPCHECK:
            plan_drift_check(plan_id=step.plan_id)
        _record_slot(step.pk, slot, readings, report, now)
    ended = RolloutStep.objects.filter(
        status=StepStatus.WATCHING, ends_at__lte=now, plan__status=PlanStatus.RUNNING
    ).values_list("pk", flat=True)
    for step_id in list(ended):
        if step_conclude(step_id=step_id, now=now, verdict=None):
            report.concluded += 1
    return report


def _record_slot(
    step_id: int, slot: int, readings: list[Reading], report: TickReport, now: datetime
) -> None:
    with transaction.atomic():
        step = RolloutStep.objects.select_for_update().filter(pk=step_id).first()
        if step is None or step.status != StepStatus.WATCHING or len(readings) != len(step.checks):
            return
        for check, reading in zip(step.checks, readings, strict=True):
            check_record(check, reading)
        step.save(update_fields=["checks"])
        report.polled += 1
        verdict = step_verdict(step, finished=False)
    if verdict.status == WindowStatus.FAILED:
        step_conclude(step_id=step_id, now=now, verdict=verdict)
        report.failed += 1
