"""What every rollout-plan service shares: locking, audit, notices, setting the percentage.

A step's percentage is applied exactly once: the conditional UPDATE that sets
its ``applied_at`` decides, however many workers or people race. Every helper
here runs inside the caller's transaction, with the plan row locked first and
its steps after it (the one order every service follows).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from audit.services import audit_record
from core.events import publish
from core.exceptions import Conflict, NotFound, ValidationFailed
from core.transitions import transition_check
from flags.adapters import AdapterError, adapter_for
from flags.choices import (
    DEFAULT_STEPS,
    PLAN_TRANSITIONS,
    FlagSource,
    PlanStatus,
    StepStatus,
)
from flags.conf import min_hold_seconds
from flags.models import FlagSystem, RolloutPlan, RolloutStep
from flags.permissions import can_steer_plan
from flags.services.flags import flag_set_rollout
from flags.services.watch import watch_open
from monitoring.verdicts import Verdict
from projects.choices import Role, TokenScope
from projects.permissions import can_view_project, role_refusal
from releases.models import Release

DEFAULT_HOLD = timedelta(days=7)
MAX_HOLD = timedelta(days=90)
MAX_STEPS = 20


# --- Rights and shapes ----------------------------------------------------------------------


def plan_authorize(*, release: Release, actor: Any) -> None:
    """Raise unless ``actor`` may steer the rollout plans of ``release`` (404 when unseen)."""
    if not can_view_project(actor, release.project_id):
        raise NotFound("No such release.")
    if not can_steer_plan(actor, release):
        raise role_refusal(
            Role.RELEASE_MANAGER,
            Role.ENGINEER,
            Role.ADMIN,
            to="steer this release's flag rollouts",
            token_scope=TokenScope.DEPLOYMENTS,
        )


def _hold(raw: Any, index: int) -> timedelta:
    if isinstance(raw, timedelta):
        value = raw
    else:
        if isinstance(raw, bool) or not isinstance(raw, int | float) or raw != raw:
            raise ValidationFailed(
                f"Step {index + 1} has no hold time: give hold_seconds (a number).",
                details={"steps": f"Step {index + 1}: hold_seconds required."},
            )
        value = timedelta(seconds=float(raw))
    floor = min_hold_seconds()
    if value.total_seconds() < floor or value > MAX_HOLD:
        raise ValidationFailed(
            f"Step {index + 1}'s hold time must be between {floor:g} seconds and 90 days.",
            details={"steps": f"Step {index + 1}: hold from {floor:g} s to 90 days."},
        )
    return value


def steps_clean(raw: Any) -> list[tuple[int, timedelta]]:
    """Steps as (percent, hold): rising whole percentages from 1 to 100, each with a hold time."""
    if raw is None:
        return [(p, DEFAULT_HOLD) for p in DEFAULT_STEPS]
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_STEPS:
        raise ValidationFailed(
            f"Give from 1 to {MAX_STEPS} steps, each a percentage with a hold time.",
            details={"steps": "A list of {percent, hold_seconds}."},
        )
    steps: list[tuple[int, timedelta]] = []
    previous = 0
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise ValidationFailed(
                f"Step {index + 1} is not a {{percent, hold_seconds}} object.",
                details={"steps": f"Step {index + 1}: an object."},
            )
        percent = item.get("percent")
        if isinstance(percent, bool) or not isinstance(percent, int) or not 1 <= percent <= 100:
            raise ValidationFailed(
                f"Step {index + 1}'s percentage must be a whole number from 1 to 100.",
                details={"steps": f"Step {index + 1}: percent from 1 to 100."},
            )
        if percent <= previous:
            raise ValidationFailed(
                f"Step {index + 1} ({percent} %) does not rise above the step before ({previous} %): "
                "each step must give the flag to more users.",
                details={"steps": "Percentages must rise."},
            )
        previous = percent
        hold = item.get("hold", item.get("hold_seconds", DEFAULT_HOLD.total_seconds()))
        steps.append((percent, _hold(hold, index)))
    return steps


def plan_locked(plan: RolloutPlan) -> RolloutPlan:
    return (
        RolloutPlan.objects.select_for_update(of=("self",))
        .select_related("release__project", "environment", "flag")
        .get(pk=plan.pk)
    )


def plan_steps(plan: RolloutPlan) -> list[RolloutStep]:
    return list(RolloutStep.objects.select_for_update().filter(plan=plan).order_by("position"))


def verdict_data(verdict: Verdict | None) -> dict[str, str] | None:
    return {"status": verdict.status, "reason": verdict.reason} if verdict else None


def plan_audit(
    plan: RolloutPlan,
    *,
    actor: Any,
    action: str,
    from_state: str,
    before: int,
    reason: str = "",
    verdict: Verdict | None = None,
    step: RolloutStep | None = None,
    **extra: Any,
) -> None:
    audit_record(
        actor=actor,
        action=f"flags.plan_{action}",
        obj=plan,
        project=plan.release.project_id,
        release=plan.release,
        from_state=from_state,
        to_state=plan.status,
        reason=reason,
        data={
            "flag": plan.flag_key,
            "environment": plan.environment.name,
            "source": plan.source,
            "before_percent": before,
            "after_percent": plan.current_percent,
            "step": (step.position + 1) if step else None,
            "verdict": verdict_data(verdict),
            **extra,
        },
    )


def plan_announce(plan: RolloutPlan, key: str, subject: str, body: str, *, urgent: bool) -> None:
    release = plan.release
    recipients = [p for p in {release.release_manager, plan.created_by} if p is not None]
    publish(
        key,
        project=release.project,
        subject=subject,
        body=body,
        url=plan.get_absolute_url(),
        release=release,
        recipients=recipients,
        urgent=urgent,
        data={"plan": plan.pk, "flag": plan.flag_key, "percent": plan.current_percent},
    )


# --- Setting the percentage -----------------------------------------------------------------


def plan_system(plan: RolloutPlan) -> FlagSystem:
    system = FlagSystem.objects.filter(environment_id=plan.environment_id).first()
    if system is None:
        raise AdapterError(f"{plan.environment.name} has no flag system configured.")
    return system


def percent_set(plan: RolloutPlan, percent: int, *, actor: Any, reason: str) -> None:
    """Set the flag to ``percent`` where it lives; AdapterError when an external system refuses."""
    if plan.source == FlagSource.SHIPCHECK:
        assert plan.flag is not None
        flag_set_rollout(flag=plan.flag, percent=percent, actor=actor, reason=reason, plan=plan)
    else:
        adapter = adapter_for(plan_system(plan))
        if percent == 0:
            adapter.set_rollout(plan.flag_key, 0)
            adapter.disable(plan.flag_key)
        else:
            adapter.set_rollout(plan.flag_key, percent)
        plan.last_set_percent = percent
        plan.drift = ""
    plan.current_percent = percent


def step_apply(
    plan: RolloutPlan,
    step: RolloutStep,
    *,
    actor: Any,
    reason: str,
    again: bool = False,
    now: datetime | None = None,
) -> bool:
    """Apply ``step``'s percentage once and start watching it; False when it was applied already."""
    now = now or timezone.now()
    if not again:
        won = RolloutStep.objects.filter(pk=step.pk, applied_at__isnull=True).update(applied_at=now)
        if not won:
            return False
        step.applied_at = now
    percent_set(plan, step.percent, actor=actor, reason=reason)
    plan.current_position = step.position
    watch_open(step, plan, now)
    step.save()
    return True


def plan_pause_for_error(plan: RolloutPlan, step: RolloutStep | None, error: AdapterError) -> None:
    """An external system refused: the plan is recorded as paused with the sentence why."""
    before_status = plan.status
    plan.status = PlanStatus.PAUSED
    plan.reason = f"Paused: {error.message}"
    plan.save()
    plan_audit(
        plan,
        actor=None,
        action="paused",
        from_state=before_status,
        before=plan.current_percent,
        reason=plan.reason,
        step=step,
    )
    plan_announce(
        plan,
        "flags.plan_paused",
        f"Rollout of {plan.flag_key} paused: {plan.release.version}",
        plan.reason,
        urgent=True,
    )


# --- People's actions ------------------------------------------------------------------------


def plan_move(plan: RolloutPlan, to: str) -> str:
    transition_check(
        transitions=PLAN_TRANSITIONS,
        choices=PlanStatus,
        noun="rollout plan",
        from_state=plan.status,
        to_state=to,
    )
    before = plan.status
    plan.status = to
    return before


def step_current(steps: list[RolloutStep], plan: RolloutPlan) -> RolloutStep | None:
    return steps[plan.current_position] if 0 <= plan.current_position < len(steps) else None


def step_close(step: RolloutStep | None, status: str, reason: str) -> None:
    if step is None or step.status not in (
        StepStatus.WATCHING,
        StepStatus.INCONCLUSIVE,
        StepStatus.PASSED,
    ):
        return
    if step.status == StepStatus.WATCHING or status != StepStatus.ADVANCED:
        step.status = status
    step.reason = reason
    step.finished_at = step.finished_at or timezone.now()
    step.next_poll_at = None
    step.save()


def plan_go_to(
    plan: RolloutPlan,
    steps: list[RolloutStep],
    target: RolloutStep,
    *,
    actor: Any,
    action: str,
    reason: str,
    verdict: Verdict | None,
    now: datetime | None = None,
) -> RolloutPlan:
    before_status, before_percent = plan.status, plan.current_percent
    plan.status = PlanStatus.RUNNING
    try:
        if not step_apply(plan, target, actor=actor, reason=reason, now=now):
            raise Conflict(f"Step {target.position + 1} was already applied.")
    except AdapterError as error:
        plan.status = before_status
        plan_pause_for_error(plan, target, error)
        return plan
    plan.reason = f"At {target.percent} %: step {target.position + 1} of {len(steps)}."
    plan.save()
    plan_audit(
        plan,
        actor=actor,
        action=action,
        from_state=before_status,
        before=before_percent,
        reason=reason,
        verdict=verdict,
        step=target,
    )
    return plan


def step_next_pending(steps: list[RolloutStep], plan: RolloutPlan) -> RolloutStep | None:
    for step in steps[plan.current_position + 1 :]:
        if step.status == StepStatus.PENDING:
            return step
    return None


def plan_finish(
    plan: RolloutPlan,
    steps: list[RolloutStep],
    *,
    actor: Any,
    reason: str,
    verdict: Verdict | None,
) -> RolloutPlan:
    """Complete: 100 %, every step not taken is skipped."""
    before_status, before_percent = plan.status, plan.current_percent
    last = steps[-1]
    try:
        if plan.current_percent != 100 or plan.source != FlagSource.SHIPCHECK:
            percent_set(plan, 100, actor=actor, reason=reason)
    except AdapterError as error:
        plan_pause_for_error(plan, step_current(steps, plan), error)
        return plan
    for step in steps:
        if step.status == StepStatus.PENDING:
            step.status, step.reason = StepStatus.SKIPPED, "Skipped: the plan was completed."
            step.save()
    plan_move(plan, PlanStatus.COMPLETED)
    plan.current_position = last.position
    plan.reason = "Completed: the flag is on for everybody."
    plan.save()
    plan_audit(
        plan,
        actor=actor,
        action="completed",
        from_state=before_status,
        before=before_percent,
        reason=reason,
        verdict=verdict,
        step=last,
    )
    plan_announce(
        plan,
        "flags.plan_completed",
        f"Rollout of {plan.flag_key} completed: {plan.release.version}",
        f"{plan.flag_key} is on for 100 % in {plan.environment.name}.",
        urgent=False,
    )
    return plan
