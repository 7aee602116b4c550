"""Rollout plans: a release's flag stepped 10 → 25 → 50 → 100 %, each step watched by monitoring.

Every action (start, advance, pause, resume, skip, abort, complete) and every
verdict that moves a plan locks the plan row, writes one audit event with the
percentage before and after and the verdict that justified it, and commits
with the change. A step's percentage is applied exactly once: the conditional
UPDATE that sets its ``applied_at`` decides, however many workers or people
race (a resume re-applies the paused step on purpose, audited as such).
A worker restart loses nothing: the plan's state and the step's poll
schedule are rows, and the next tick carries on from them.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from audit.services import audit_record
from core.exceptions import Conflict, NotFound, ValidationFailed
from core.transitions import transition_check
from flags.adapters import AdapterError
from flags.choices import (
    PLAN_OPEN_STATES,
    PLAN_TRANSITIONS,
    FlagSource,
    PlanStatus,
    StepStatus,
)
from flags.models import Flag, FlagSystem, RolloutPlan, RolloutStep
from flags.services.steps import (
    percent_set,
    plan_audit,
    plan_authorize,
    plan_finish,
    plan_go_to,
    plan_locked,
    plan_move,
    plan_pause_for_error,
    plan_steps,
    step_apply,
    step_close,
    step_current,
    step_next_pending,
    steps_clean,
)
from flags.services.watch import step_verdict
from projects.models import Environment
from releases.models import Release

# --- Creating --------------------------------------------------------------------------------


@transaction.atomic
def plan_create(
    *,
    release: Release,
    environment: Environment,
    actor: Any,
    flag_key: Any,
    source: Any = FlagSource.SHIPCHECK,
    steps: Any = None,
    auto_advance: Any = True,
    disable_on_fail: Any = True,
    check_names: Any = None,
    rollback_hook_url: Any = "",
    rollback_hook_secret: Any = "",
) -> RolloutPlan:
    """Plan the gradual rollout of a flag on ``release`` (not started). Audit: ``flags.plan_created``."""
    plan_authorize(release=release, actor=actor)
    if environment.project_id != release.project_id:
        raise NotFound("No such environment in this release's project.")
    if source not in FlagSource.values:
        raise ValidationFailed(
            "The flag lives in 'shipcheck' or 'unleash'.", details={"source": "?"}
        )
    if not isinstance(flag_key, str) or not flag_key.strip() or len(flag_key) > 100:
        raise ValidationFailed("Name the flag the plan rolls out.", details={"flag": "Required."})
    flag_key = flag_key.strip()
    flag = None
    if source == FlagSource.SHIPCHECK:
        flag = Flag.objects.filter(environment=environment, key=flag_key).first()
        if flag is None:
            raise ValidationFailed(
                f"{environment.name} has no flag '{flag_key}': create it on the flags page first.",
                details={"flag": "Unknown flag."},
            )
    elif not FlagSystem.objects.filter(environment=environment).exists():
        raise ValidationFailed(
            f"{environment.name} has no external flag system: configure its Unleash first.",
            details={"source": "No flag system."},
        )
    clean_steps = steps_clean(steps)
    if not isinstance(auto_advance, bool) or not isinstance(disable_on_fail, bool):
        raise ValidationFailed(
            "auto_advance and disable_on_fail are true or false.",
            details={"auto_advance": "Boolean."},
        )
    names = check_names or []
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValidationFailed("checks is a list of check names.", details={"checks": "Names."})
    if not isinstance(rollback_hook_url, str) or (
        rollback_hook_url and not rollback_hook_url.startswith(("http://", "https://"))
    ):
        raise ValidationFailed(
            "The rollback hook is an http(s) URL.", details={"rollback_hook_url": "A URL."}
        )
    if RolloutPlan.objects.filter(
        environment=environment,
        flag_key=flag_key,
        status__in=(*PLAN_OPEN_STATES, PlanStatus.DRAFT),
    ).exists():
        raise Conflict(
            f"'{flag_key}' is already being rolled out in {environment.name}; finish or abort "
            "that plan first.",
        )
    plan = RolloutPlan.objects.create(
        release=release,
        environment=environment,
        source=source,
        flag=flag,
        flag_key=flag_key,
        auto_advance=auto_advance,
        disable_on_fail=disable_on_fail,
        check_names=list(dict.fromkeys(names)),
        rollback_hook_url=rollback_hook_url,
        rollback_hook_secret=rollback_hook_secret or "",
        created_by=actor
        if getattr(actor, "pk", None) and not getattr(actor, "is_token", False)
        else None,
        reason="Not started.",
    )
    RolloutStep.objects.bulk_create(
        [
            RolloutStep(plan=plan, position=i, percent=percent, hold=hold)
            for i, (percent, hold) in enumerate(clean_steps)
        ]
    )
    audit_record(
        actor=actor,
        action="flags.plan_created",
        obj=plan,
        project=release.project_id,
        release=release,
        to_state=plan.status,
        data={
            "flag": flag_key,
            "environment": environment.name,
            "source": source,
            "steps": [{"percent": p, "hold_seconds": h.total_seconds()} for p, h in clean_steps],
            "auto_advance": auto_advance,
            "disable_on_fail": disable_on_fail,
            "checks": plan.check_names,
        },
    )
    return plan


@transaction.atomic
def plan_start(*, plan: RolloutPlan, actor: Any) -> RolloutPlan:
    """Start a plan: its first step's percentage is applied and watched. Audit: ``flags.plan_started``."""
    plan_authorize(release=plan.release, actor=actor)
    plan = plan_locked(plan)
    transition_check(
        transitions=PLAN_TRANSITIONS,
        choices=PlanStatus,
        noun="rollout plan",
        from_state=plan.status,
        to_state=PlanStatus.RUNNING,
    )
    if plan.status != PlanStatus.DRAFT:
        raise Conflict("This plan has started already.")
    steps = plan_steps(plan)
    return plan_go_to(
        plan, steps, steps[0], actor=actor, action="started", reason="Started.", verdict=None
    )


@transaction.atomic
def plan_advance(*, plan: RolloutPlan, actor: Any, reason: str = "") -> RolloutPlan:
    """Move to the next step now (or complete after the last). Audit: ``flags.plan_advanced``."""
    plan_authorize(release=plan.release, actor=actor)
    plan = plan_locked(plan)
    if plan.status not in (PlanStatus.RUNNING, PlanStatus.WAITING):
        raise Conflict(f"A {plan.get_status_display().lower()} plan cannot advance.")
    steps = plan_steps(plan)
    current = step_current(steps, plan)
    verdict = step_verdict(current, finished=False) if current is not None else None
    text = reason or "Advanced by a person."
    step_close(current, StepStatus.ADVANCED, text)
    target = step_next_pending(steps, plan)
    if target is None:
        return plan_finish(plan, steps, actor=actor, reason=text, verdict=verdict)
    return plan_go_to(
        plan, steps, target, actor=actor, action="advanced", reason=text, verdict=verdict
    )


@transaction.atomic
def plan_pause(*, plan: RolloutPlan, actor: Any, reason: str = "") -> RolloutPlan:
    """Pause: the percentage stays, the watch stops. Audit: ``flags.plan_paused``."""
    plan_authorize(release=plan.release, actor=actor)
    plan = plan_locked(plan)
    before = plan_move(plan, PlanStatus.PAUSED)
    steps = plan_steps(plan)
    current = step_current(steps, plan)
    text = reason or "Paused by a person."
    step_close(current, StepStatus.STOPPED, text)
    plan.reason = f"Paused at {plan.current_percent} %: {text}"
    plan.save()
    plan_audit(
        plan,
        actor=actor,
        action="paused",
        from_state=before,
        before=plan.current_percent,
        reason=text,
        step=current,
    )
    return plan


@transaction.atomic
def plan_resume(*, plan: RolloutPlan, actor: Any, reason: str = "") -> RolloutPlan:
    """Resume a paused plan: the current step's percentage is set again and watched afresh.

    Audit: ``flags.plan_resumed``.
    """
    plan_authorize(release=plan.release, actor=actor)
    plan = plan_locked(plan)
    if plan.status != PlanStatus.PAUSED:
        raise Conflict("Only a paused plan can be resumed.")
    steps = plan_steps(plan)
    current = step_current(steps, plan)
    if current is None:
        raise Conflict("This plan has no step to resume.")
    before_status, before_percent = plan.status, plan.current_percent
    text = reason or "Resumed by a person."
    plan.status = PlanStatus.RUNNING
    try:
        step_apply(plan, current, actor=actor, reason=text, again=True)
    except AdapterError as error:
        plan.status = before_status
        plan_pause_for_error(plan, current, error)
        return plan
    plan.reason = f"At {current.percent} %: step {current.position + 1} of {len(steps)}."
    plan.save()
    plan_audit(
        plan,
        actor=actor,
        action="resumed",
        from_state=before_status,
        before=before_percent,
        reason=text,
        step=current,
    )
    return plan


@transaction.atomic
def plan_skip(*, plan: RolloutPlan, actor: Any, reason: str = "") -> RolloutPlan:
    """Skip the next step: it is never applied and the plan moves to the one after it.

    Audit: ``flags.plan_skipped``.
    """
    plan_authorize(release=plan.release, actor=actor)
    plan = plan_locked(plan)
    if plan.status not in (PlanStatus.RUNNING, PlanStatus.WAITING):
        raise Conflict(f"A {plan.get_status_display().lower()} plan cannot skip a step.")
    steps = plan_steps(plan)
    skipped = step_next_pending(steps, plan)
    if skipped is None or skipped.position == len(steps) - 1:
        raise Conflict("The last step cannot be skipped; complete the plan instead.")
    text = reason or "Skipped by a person."
    current = step_current(steps, plan)
    verdict = step_verdict(current, finished=False) if current is not None else None
    step_close(current, StepStatus.ADVANCED, text)
    skipped.status, skipped.reason = StepStatus.SKIPPED, text
    skipped.save()
    target = step_next_pending(steps, plan)
    assert target is not None
    return plan_go_to(
        plan, steps, target, actor=actor, action="skipped", reason=text, verdict=verdict
    )


@transaction.atomic
def plan_abort(*, plan: RolloutPlan, actor: Any, reason: str = "") -> RolloutPlan:
    """Abort: the flag goes back to 0 % at once and the plan ends. Audit: ``flags.plan_aborted``."""
    plan_authorize(release=plan.release, actor=actor)
    plan = plan_locked(plan)
    if plan.status not in (*PLAN_OPEN_STATES, PlanStatus.DRAFT):
        raise Conflict(f"A {plan.get_status_display().lower()} plan cannot be aborted.")
    steps = plan_steps(plan)
    current = step_current(steps, plan)
    before_status, before_percent = plan.status, plan.current_percent
    text = reason or "Aborted by a person."
    try:
        if plan.status != PlanStatus.DRAFT:
            percent_set(plan, 0, actor=actor, reason=text)
    except AdapterError as error:
        plan_pause_for_error(plan, current, error)
        return plan
    step_close(current, StepStatus.STOPPED, text)
    for step in steps:
        if step.status == StepStatus.PENDING:
            step.status, step.reason = StepStatus.SKIPPED, "Not taken: the plan was aborted."
            step.save()
    plan.status = PlanStatus.ABORTED
    plan.reason = f"Aborted: {text}"
    plan.save()
    plan_audit(
        plan,
        actor=actor,
        action="aborted",
        from_state=before_status,
        before=before_percent,
        reason=text,
        step=current,
    )
    return plan


@transaction.atomic
def plan_complete(*, plan: RolloutPlan, actor: Any, reason: str = "") -> RolloutPlan:
    """Complete now: 100 %, the remaining steps skipped. Audit: ``flags.plan_completed``."""
    plan_authorize(release=plan.release, actor=actor)
    plan = plan_locked(plan)
    if plan.status not in PLAN_OPEN_STATES:
        raise Conflict(f"A {plan.get_status_display().lower()} plan cannot be completed.")
    steps = plan_steps(plan)
    text = reason or "Completed by a person."
    current = step_current(steps, plan)
    verdict = step_verdict(current, finished=False) if current is not None else None
    step_close(current, StepStatus.ADVANCED, text)
    return plan_finish(plan, steps, actor=actor, reason=text, verdict=verdict)
