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

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from core.events import publish
from core.exceptions import Conflict, NotFound, ValidationFailed
from core.transitions import transition_check
from flags.adapters import AdapterError, adapter_for
from flags.choices import (
    DEFAULT_STEPS,
    PLAN_OPEN_STATES,
    PLAN_TRANSITIONS,
    FlagSource,
    PlanStatus,
    StepStatus,
)
from flags.conf import min_hold_seconds
from flags.models import Flag, FlagSystem, PlanHookCall, RolloutPlan, RolloutStep
from flags.permissions import can_steer_plan
from flags.services.flags import flag_set_rollout
from flags.services.watch import step_verdict, watch_open
from monitoring.choices import WindowStatus
from monitoring.verdicts import Verdict
from projects.choices import Role, TokenScope
from projects.models import Environment
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


def _locked(plan: RolloutPlan) -> RolloutPlan:
    return (
        RolloutPlan.objects.select_for_update(of=("self",))
        .select_related("release__project", "environment", "flag")
        .get(pk=plan.pk)
    )


def _steps(plan: RolloutPlan) -> list[RolloutStep]:
    return list(RolloutStep.objects.select_for_update().filter(plan=plan).order_by("position"))


def _verdict_data(verdict: Verdict | None) -> dict[str, str] | None:
    return {"status": verdict.status, "reason": verdict.reason} if verdict else None


def _audit(
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
            "verdict": _verdict_data(verdict),
            **extra,
        },
    )


def _announce(plan: RolloutPlan, key: str, subject: str, body: str, *, urgent: bool) -> None:
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


def _system(plan: RolloutPlan) -> FlagSystem:
    system = FlagSystem.objects.filter(environment_id=plan.environment_id).first()
    if system is None:
        raise AdapterError(f"{plan.environment.name} has no flag system configured.")
    return system


def _set_percent(plan: RolloutPlan, percent: int, *, actor: Any, reason: str) -> None:
    """Set the flag to ``percent`` where it lives; AdapterError when an external system refuses."""
    if plan.source == FlagSource.SHIPCHECK:
        assert plan.flag is not None
        flag_set_rollout(flag=plan.flag, percent=percent, actor=actor, reason=reason, plan=plan)
    else:
        adapter = adapter_for(_system(plan))
        if percent == 0:
            adapter.set_rollout(plan.flag_key, 0)
            adapter.disable(plan.flag_key)
        else:
            adapter.set_rollout(plan.flag_key, percent)
        plan.last_set_percent = percent
        plan.drift = ""
    plan.current_percent = percent


def _apply_step(
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
    _set_percent(plan, step.percent, actor=actor, reason=reason)
    plan.current_position = step.position
    watch_open(step, plan, now)
    step.save()
    return True


def _pause_for_error(plan: RolloutPlan, step: RolloutStep | None, error: AdapterError) -> None:
    """An external system refused: the plan is recorded as paused with the sentence why."""
    before_status = plan.status
    plan.status = PlanStatus.PAUSED
    plan.reason = f"Paused: {error.message}"
    plan.save()
    _audit(
        plan,
        actor=None,
        action="paused",
        from_state=before_status,
        before=plan.current_percent,
        reason=plan.reason,
        step=step,
    )
    _announce(
        plan,
        "flags.plan_paused",
        f"Rollout of {plan.flag_key} paused: {plan.release.version}",
        plan.reason,
        urgent=True,
    )


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


# --- People's actions ------------------------------------------------------------------------


def _move(plan: RolloutPlan, to: str) -> str:
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


def _current(steps: list[RolloutStep], plan: RolloutPlan) -> RolloutStep | None:
    return steps[plan.current_position] if 0 <= plan.current_position < len(steps) else None


def _close_step(step: RolloutStep | None, status: str, reason: str) -> None:
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


def _go_to(
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
        if not _apply_step(plan, target, actor=actor, reason=reason, now=now):
            raise Conflict(f"Step {target.position + 1} was already applied.")
    except AdapterError as error:
        plan.status = before_status
        _pause_for_error(plan, target, error)
        return plan
    plan.reason = f"At {target.percent} %: step {target.position + 1} of {len(steps)}."
    plan.save()
    _audit(
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


@transaction.atomic
def plan_start(*, plan: RolloutPlan, actor: Any) -> RolloutPlan:
    """Start a plan: its first step's percentage is applied and watched. Audit: ``flags.plan_started``."""
    plan_authorize(release=plan.release, actor=actor)
    plan = _locked(plan)
    transition_check(
        transitions=PLAN_TRANSITIONS,
        choices=PlanStatus,
        noun="rollout plan",
        from_state=plan.status,
        to_state=PlanStatus.RUNNING,
    )
    if plan.status != PlanStatus.DRAFT:
        raise Conflict("This plan has started already.")
    steps = _steps(plan)
    return _go_to(
        plan, steps, steps[0], actor=actor, action="started", reason="Started.", verdict=None
    )


def _next_pending(steps: list[RolloutStep], plan: RolloutPlan) -> RolloutStep | None:
    for step in steps[plan.current_position + 1 :]:
        if step.status == StepStatus.PENDING:
            return step
    return None


def _finish(
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
            _set_percent(plan, 100, actor=actor, reason=reason)
    except AdapterError as error:
        _pause_for_error(plan, _current(steps, plan), error)
        return plan
    for step in steps:
        if step.status == StepStatus.PENDING:
            step.status, step.reason = StepStatus.SKIPPED, "Skipped: the plan was completed."
            step.save()
    _move(plan, PlanStatus.COMPLETED)
    plan.current_position = last.position
    plan.reason = "Completed: the flag is on for everybody."
    plan.save()
    _audit(
        plan,
        actor=actor,
        action="completed",
        from_state=before_status,
        before=before_percent,
        reason=reason,
        verdict=verdict,
        step=last,
    )
    _announce(
        plan,
        "flags.plan_completed",
        f"Rollout of {plan.flag_key} completed: {plan.release.version}",
        f"{plan.flag_key} is on for 100 % in {plan.environment.name}.",
        urgent=False,
    )
    return plan


@transaction.atomic
def plan_advance(*, plan: RolloutPlan, actor: Any, reason: str = "") -> RolloutPlan:
    """Move to the next step now (or complete after the last). Audit: ``flags.plan_advanced``."""
    plan_authorize(release=plan.release, actor=actor)
    plan = _locked(plan)
    if plan.status not in (PlanStatus.RUNNING, PlanStatus.WAITING):
        raise Conflict(f"A {plan.get_status_display().lower()} plan cannot advance.")
    steps = _steps(plan)
    current = _current(steps, plan)
    verdict = step_verdict(current, finished=False) if current is not None else None
    text = reason or "Advanced by a person."
    _close_step(current, StepStatus.ADVANCED, text)
    target = _next_pending(steps, plan)
    if target is None:
        return _finish(plan, steps, actor=actor, reason=text, verdict=verdict)
    return _go_to(plan, steps, target, actor=actor, action="advanced", reason=text, verdict=verdict)


@transaction.atomic
def plan_pause(*, plan: RolloutPlan, actor: Any, reason: str = "") -> RolloutPlan:
    """Pause: the percentage stays, the watch stops. Audit: ``flags.plan_paused``."""
    plan_authorize(release=plan.release, actor=actor)
    plan = _locked(plan)
    before = _move(plan, PlanStatus.PAUSED)
    steps = _steps(plan)
    current = _current(steps, plan)
    text = reason or "Paused by a person."
    _close_step(current, StepStatus.STOPPED, text)
    plan.reason = f"Paused at {plan.current_percent} %: {text}"
    plan.save()
    _audit(
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
    plan = _locked(plan)
    if plan.status != PlanStatus.PAUSED:
        raise Conflict("Only a paused plan can be resumed.")
    steps = _steps(plan)
    current = _current(steps, plan)
    if current is None:
        raise Conflict("This plan has no step to resume.")
    before_status, before_percent = plan.status, plan.current_percent
    text = reason or "Resumed by a person."
    plan.status = PlanStatus.RUNNING
    try:
        _apply_step(plan, current, actor=actor, reason=text, again=True)
    except AdapterError as error:
        plan.status = before_status
        _pause_for_error(plan, current, error)
        return plan
    plan.reason = f"At {current.percent} %: step {current.position + 1} of {len(steps)}."
    plan.save()
    _audit(
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
    plan = _locked(plan)
    if plan.status not in (PlanStatus.RUNNING, PlanStatus.WAITING):
        raise Conflict(f"A {plan.get_status_display().lower()} plan cannot skip a step.")
    steps = _steps(plan)
    skipped = _next_pending(steps, plan)
    if skipped is None or skipped.position == len(steps) - 1:
        raise Conflict("The last step cannot be skipped; complete the plan instead.")
    text = reason or "Skipped by a person."
    current = _current(steps, plan)
    verdict = step_verdict(current, finished=False) if current is not None else None
    _close_step(current, StepStatus.ADVANCED, text)
    skipped.status, skipped.reason = StepStatus.SKIPPED, text
    skipped.save()
    target = _next_pending(steps, plan)
    assert target is not None
    return _go_to(plan, steps, target, actor=actor, action="skipped", reason=text, verdict=verdict)


@transaction.atomic
def plan_abort(*, plan: RolloutPlan, actor: Any, reason: str = "") -> RolloutPlan:
    """Abort: the flag goes back to 0 % at once and the plan ends. Audit: ``flags.plan_aborted``."""
    plan_authorize(release=plan.release, actor=actor)
    plan = _locked(plan)
    if plan.status not in (*PLAN_OPEN_STATES, PlanStatus.DRAFT):
        raise Conflict(f"A {plan.get_status_display().lower()} plan cannot be aborted.")
    steps = _steps(plan)
    current = _current(steps, plan)
    before_status, before_percent = plan.status, plan.current_percent
    text = reason or "Aborted by a person."
    try:
        if plan.status != PlanStatus.DRAFT:
            _set_percent(plan, 0, actor=actor, reason=text)
    except AdapterError as error:
        _pause_for_error(plan, current, error)
        return plan
    _close_step(current, StepStatus.STOPPED, text)
    for step in steps:
        if step.status == StepStatus.PENDING:
            step.status, step.reason = StepStatus.SKIPPED, "Not taken: the plan was aborted."
            step.save()
    plan.status = PlanStatus.ABORTED
    plan.reason = f"Aborted: {text}"
    plan.save()
    _audit(
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
    plan = _locked(plan)
    if plan.status not in PLAN_OPEN_STATES:
        raise Conflict(f"A {plan.get_status_display().lower()} plan cannot be completed.")
    steps = _steps(plan)
    text = reason or "Completed by a person."
    current = _current(steps, plan)
    verdict = step_verdict(current, finished=False) if current is not None else None
    _close_step(current, StepStatus.ADVANCED, text)
    return _finish(plan, steps, actor=actor, reason=text, verdict=verdict)


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
        plan = _locked(
            row.plan
        )  # the plan first, then its steps: every service locks in this order
        steps = _steps(plan)
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
    target = _next_pending(steps, plan)
    if not plan.auto_advance:
        before = plan.status
        plan.status = PlanStatus.WAITING
        plan.reason = (
            f"Step {step.position + 1} ({step.percent} %) passed; waiting for a person to "
            + ("advance." if target else "complete the plan.")
        )
        plan.save()
        _audit(
            plan,
            actor=None,
            action="waiting",
            from_state=before,
            before=plan.current_percent,
            reason=plan.reason,
            verdict=verdict,
            step=step,
        )
        _announce(
            plan,
            "flags.plan_waiting",
            f"Rollout of {plan.flag_key} waits for you",
            plan.reason,
            urgent=False,
        )
        return
    reason = f"Step {step.position + 1} passed its hold time: {verdict.reason}"
    if target is None:
        _finish(plan, steps, actor=None, reason=reason, verdict=verdict)
    else:
        _go_to(
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
    _audit(
        plan,
        actor=None,
        action="waiting",
        from_state=before,
        before=plan.current_percent,
        reason=plan.reason,
        verdict=verdict,
        step=step,
    )
    _announce(
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
            _set_percent(plan, 0, actor=None, reason=f"Step {step.position + 1} failed.")
        except AdapterError as error:
            disabled_error = error.message
    plan.reason = f"Paused at step {step.position + 1} ({step.percent} %): {verdict.reason}" + (
        f" Setting the flag to 0 % failed: {disabled_error}" if disabled_error else ""
    )
    plan.save()
    hook = _hook_request(plan, verdict.reason)
    _audit(
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
    _announce(
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
    transaction.on_commit(lambda: hook_send.delay(call_id), robust=True)
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
        seen = adapter_for(_system(plan)).read_rollout(plan.flag_key)
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
        plan = _locked(plan)
        if plan.status != PlanStatus.RUNNING:
            return problem
        steps = _steps(plan)
        current = _current(steps, plan)
        _close_step(current, StepStatus.STOPPED, problem)
        plan.drift = problem[:300]
        plan.status = PlanStatus.PAUSED
        plan.reason = f"Paused: {problem}"
        plan.save()
        _audit(
            plan,
            actor=None,
            action="paused",
            from_state=PlanStatus.RUNNING,
            before=plan.current_percent,
            reason=problem,
            step=current,
        )
        _announce(
            plan, "flags.plan_paused", f"Rollout of {plan.flag_key} paused", problem, urgent=True
        )
    return problem
