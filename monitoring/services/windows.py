"""Monitoring windows: opened by deployments, closed by verdicts or by people.

The deployment side is driven through ``releases.registry``:

* a deployment starts → baselines of every metric are queued, and a canary
  deployment opens its canary window;
* a deployment succeeds → refused while its canary is still watched or waits
  for a person; otherwise the post-deploy window opens (and ``release_hold``
  keeps a production release from being marked released while it runs);
* a deployment fails or is rolled back some other way → its open windows
  are cancelled.

A window's verdict then acts (``window_close``): failed → the deployment
fails, people are told at once, the rollback hook is called once; canary
passed → full rollout, or a person is asked; post-deploy passed → the
deployment is verified and the release released; inconclusive or error →
people are told at once and a person decides (``window_decide``).
"""

from __future__ import annotations

import contextvars
import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from core.exceptions import (
    Conflict,
    NotFound,
    PeopleOnly,
    TransitionNotAllowed,
    ValidationFailed,
)
from core.notifications import notification_send
from core.transitions import transition_check
from core.when import format_when
from monitoring.choices import (
    WINDOW_OPEN_STATES,
    WINDOW_TRANSITIONS,
    WINDOW_WAITING_STATES,
    CheckKind,
    CheckVerdictStatus,
    DecisionAction,
    RolloutState,
    WindowKind,
    WindowStatus,
)
from monitoring.conf import tick_seconds
from monitoring.models import Baseline, MonitoringWindow, WindowCheck, WindowDecision
from monitoring.permissions import can_decide_window, can_view_monitoring
from monitoring.services.config import enabled_checks, health_config, metric_config, policy_for
from monitoring.verdicts import Verdict
from projects.choices import Role
from projects.models import Membership
from projects.permissions import role_refusal
from projects.principals import is_token
from releases.choices import DeploymentStatus, DeploymentStrategy, ReleaseStatus
from releases.models import Deployment

logger = logging.getLogger(__name__)

MAX_EXTENSION = timedelta(hours=2)
# A canary share asked for by ``deployment_start``, read by the listener that opens the window.
_canary_percent: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "canary_percent", default=None
)


def _slot_time(window: MonitoringWindow, slot: int):
    return window.started_at + window.poll_interval * slot


def _window_url(window: MonitoringWindow) -> str:
    return window.get_absolute_url()


def _notify(
    window: MonitoringWindow, *, subject: str, body: str, urgent: bool, everyone: bool
) -> None:
    """Tell the release manager, and with ``everyone`` the whole project, about a window."""
    release = window.deployment.release
    recipients = [release.release_manager]
    if everyone:
        members = Membership.objects.filter(project_id=release.project_id).select_related("user")
        recipients += [m.user for m in members]
    notification_send(
        recipients=recipients,
        subject=subject,
        body=body,
        url=_window_url(window),
        project=release.project,
        urgent=urgent,
    )


def _label(window: MonitoringWindow) -> str:
    deployment = window.deployment
    return (
        f"{window.get_kind_display()} of {deployment.release.version} in {deployment.environment}"
    )


# --- Opening -------------------------------------------------------------------------------


def window_open(*, deployment: Deployment, kind: str, actor) -> MonitoringWindow | None:
    """Open a window on ``deployment`` (inside the deployment's transaction). Audit: ``monitoring.window_opened``.

    Returns None when the environment has nothing to watch, or the policy asks
    for no window of this kind.
    """
    environment = deployment.environment
    policy = policy_for(environment)
    duration = policy.canary_duration if kind == WindowKind.CANARY else policy.post_deploy_duration
    health, metrics = enabled_checks(environment)
    if not duration or not (health or metrics):
        return None
    now = timezone.now()
    # A policy saved before the scheduler's limit held may ask for more than the
    # scheduler can honour; the window polls at the tick instead of pretending.
    interval = max(policy.poll_interval, timedelta(seconds=tick_seconds()))
    window = MonitoringWindow.objects.create(
        deployment=deployment,
        kind=kind,
        status=WindowStatus.RUNNING,
        poll_interval=interval,
        started_at=now,
        ends_at=now + duration,
        next_slot=1,
        next_poll_at=now + interval,
        traffic_percent=(_canary_percent.get() or policy.canary_percent)
        if kind == WindowKind.CANARY
        else None,
        rollout_state=RolloutState.CANARY if kind == WindowKind.CANARY else "",
        reason=f"Watching {len(health) + len(metrics)} checks every {interval.total_seconds():g} s.",
    )
    baselines = {b.metric_check_id: b for b in Baseline.objects.filter(deployment=deployment)}
    rows = []
    for position, check in enumerate(health):
        rows.append(
            WindowCheck(
                window=window,
                kind=CheckKind.HEALTH,
                health_check=check,
                name=check.name,
                position=position,
                config=health_config(check),
                is_critical=check.is_critical,
            )
        )
    for position, check in enumerate(metrics, start=len(health)):
        rows.append(
            WindowCheck(
                window=window,
                kind=CheckKind.METRIC,
                metric_check=check,
                name=check.name,
                position=position,
                config=metric_config(check),
                is_critical=check.is_critical,
                baseline=baselines.get(check.pk),
            )
        )
    WindowCheck.objects.bulk_create(rows)
    audit_record(
        actor=actor,
        action="monitoring.window_opened",
        obj=window,
        project=deployment.release.project_id,
        release=deployment.release,
        to_state=window.status,
        data={
            "kind": kind,
            "environment": environment.name,
            "deployment": deployment.pk,
            "duration_seconds": duration.total_seconds(),
            "interval_seconds": interval.total_seconds(),
            "traffic_percent": window.traffic_percent,
            "checks": [r.name for r in rows],
        },
    )
    return window


@transaction.atomic
def deployment_start(
    *,
    release,
    environment,
    actor,
    strategy: str = DeploymentStrategy.ALL_AT_ONCE,
    canary_percent: int | None = None,
    artifact_version: str = "",
    commit_sha: str = "",
    notes: str = "",
) -> Deployment:
    """Start a deployment with a strategy: ``release_promote`` plus the canary's traffic share.

    Same callers, gates and audit events as ``release_promote``; a canary
    deployment opens its window through the ``deployment_changed`` listener.
    """
    from releases.services import release_promote

    if canary_percent is not None:
        if strategy != DeploymentStrategy.CANARY:
            raise ValidationFailed(
                "A traffic share only applies to a canary deployment.",
                details={"canary_percent": "Only for strategy canary."},
            )
        if not isinstance(canary_percent, int) or not 1 <= canary_percent <= 100:
            raise ValidationFailed(
                "The canary's traffic share is a whole percentage from 1 to 100.",
                details={"canary_percent": "1 to 100."},
            )
    token = _canary_percent.set(canary_percent)
    try:
        return release_promote(
            release=release,
            environment=environment,
            actor=actor,
            strategy=strategy,
            artifact_version=artifact_version,
            commit_sha=commit_sha,
            notes=notes,
        )
    finally:
        _canary_percent.reset(token)


def _baselines_queue(deployment: Deployment) -> None:
    _health, metrics = enabled_checks(deployment.environment)
    if not metrics:
        return
    Baseline.objects.bulk_create(
        [Baseline(deployment=deployment, metric_check=m, name=m.name) for m in metrics],
        ignore_conflicts=True,
    )
    from monitoring.tasks import baselines_take

    deployment_id = deployment.pk
    transaction.on_commit(lambda: baselines_take.delay(deployment_id), robust=True)


def on_deployment_changed(
    *, deployment: Deployment, actor, from_status: str, to_status: str
) -> None:
    """``deployment_changed`` listener (runs inside the releases service's transaction)."""
    if not from_status and to_status == DeploymentStatus.IN_PROGRESS:
        _baselines_queue(deployment)
        if deployment.strategy == DeploymentStrategy.CANARY:
            window_open(deployment=deployment, kind=WindowKind.CANARY, actor=actor)
    elif to_status == DeploymentStatus.SUCCEEDED:
        canary = MonitoringWindow.objects.filter(
            deployment=deployment, kind=WindowKind.CANARY
        ).first()
        if canary is not None and canary.status in WINDOW_OPEN_STATES:
            raise Conflict(
                f"The canary of {deployment.release.version} in {deployment.environment} is still being "
                f"watched ({canary.get_status_display().lower()}); wait for its verdict before reporting "
                "the deployment finished.",
                details={"window": canary.pk, "window_status": canary.status},
            )
        if canary is not None and canary.rollout_state == RolloutState.AWAITING_PROMOTION:
            raise Conflict(
                "The canary passed and waits for a person to approve the full rollout.",
                details={"window": canary.pk, "rollout_state": canary.rollout_state},
            )
        window_open(deployment=deployment, kind=WindowKind.POST_DEPLOY, actor=actor)
    elif to_status in (DeploymentStatus.FAILED, DeploymentStatus.ROLLED_BACK):
        open_windows = MonitoringWindow.objects.select_for_update().filter(
            deployment=deployment, status__in=WINDOW_OPEN_STATES
        )
        for window in open_windows:
            window.deployment = deployment
            verb = "failed" if to_status == DeploymentStatus.FAILED else "was rolled back"
            _transition(
                window,
                Verdict(WindowStatus.CANCELLED, f"Stopped: the deployment {verb}."),
                actor=actor,
            )


def release_hold(deployment: Deployment) -> str | None:
    """``@release_hold``: a production release is not released while its post-deploy window is open."""
    window = MonitoringWindow.objects.filter(
        deployment=deployment, kind=WindowKind.POST_DEPLOY, status__in=WINDOW_OPEN_STATES
    ).first()
    if window is None:
        return None
    return (
        f"Post-deploy monitoring of {deployment.environment} runs until "
        f"{format_when(window.ends_at)}; the release is released when it passes."
    )


# --- Closing -------------------------------------------------------------------------------


def _transition(
    window: MonitoringWindow, verdict: Verdict, *, actor, data: dict | None = None
) -> str:
    """Move a locked window to the verdict's status and write its audit event; returns the old status."""
    from_status = window.status
    to_status = verdict.status
    if to_status != from_status:
        transition_check(
            transitions=WINDOW_TRANSITIONS,
            choices=WindowStatus,
            noun="window",
            from_state=from_status,
            to_state=to_status,
        )
    now = timezone.now()
    window.status = to_status
    window.reason = verdict.reason
    if to_status != WindowStatus.RUNNING:
        window.next_poll_at = None
    if to_status in (WindowStatus.PASSED, WindowStatus.FAILED, WindowStatus.CANCELLED):
        window.finished_at = now
    window.save()
    deployment = window.deployment
    audit_record(
        actor=actor,
        action=f"monitoring.window_{to_status}",
        obj=window,
        project=deployment.release.project_id,
        release=deployment.release,
        from_state=from_status,
        to_state=to_status,
        reason=verdict.reason,
        data={
            "kind": window.kind,
            "environment": deployment.environment.name,
            "deployment": deployment.pk,
            **(data or {}),
        },
    )
    return from_status


def window_close(window: MonitoringWindow, verdict: Verdict, *, actor) -> None:
    """Apply a verdict to a locked window and act on it (see the module docstring).

    Runs inside the caller's transaction. ``actor`` is None when the verdict
    came from the measurements, a person when they decided.
    """
    if verdict.status in (WindowStatus.PASSED, WindowStatus.FAILED, WindowStatus.CANCELLED):
        _settle_checks(window)
    checks = {c.name: c.status for c in window.checks.all()}
    _transition(window, verdict, actor=actor, data={"checks": checks})
    status = verdict.status
    label = _label(window)
    if status == WindowStatus.PASSED:
        if window.kind == WindowKind.CANARY:
            _canary_passed(window, actor=actor)
        else:
            _post_deploy_passed(window, actor=actor)
    elif status == WindowStatus.FAILED:
        _window_failed(window, actor=actor)
    elif status in WINDOW_WAITING_STATES:
        word = "holds on an error" if status == WindowStatus.ERROR else "is inconclusive"
        _notify(
            window,
            subject=f"Decide: {label} {word}",
            body=verdict.reason,
            urgent=True,
            everyone=True,
        )


def _settle_checks(window: MonitoringWindow) -> None:
    """Checks still running when the window ends get their verdict on what they measured."""
    from monitoring.services.polling import settle_running_checks

    settle_running_checks(window)


def _canary_passed(window: MonitoringWindow, *, actor) -> None:
    deployment = window.deployment
    policy = policy_for(deployment.environment)
    if policy.auto_promote_canary or actor is not None:
        _promote(
            window,
            actor=actor,
            reason="The environment's policy promotes a passed canary automatically."
            if actor is None
            else "Accepted by a person.",
        )
        _notify(
            window,
            subject=f"Canary passed: {deployment.release.version} in {deployment.environment}",
            body=f"{window.reason} Full rollout proceeds.",
            urgent=False,
            everyone=False,
        )
    else:
        window.rollout_state = RolloutState.AWAITING_PROMOTION
        window.save(update_fields=["rollout_state"])
        _notify(
            window,
            subject=f"Approve full rollout: {deployment.release.version} in {deployment.environment}",
            body=f"{window.reason} The canary waits for a person to approve the full rollout.",
            urgent=False,
            everyone=False,
        )


def _promote(window: MonitoringWindow, *, actor, reason: str) -> None:
    from_state = window.rollout_state
    window.rollout_state = RolloutState.FULL
    window.save(update_fields=["rollout_state"])
    deployment = window.deployment
    audit_record(
        actor=actor,
        action="monitoring.canary_promoted",
        obj=window,
        project=deployment.release.project_id,
        release=deployment.release,
        from_state=from_state,
        to_state=RolloutState.FULL,
        reason=reason,
        data={"environment": deployment.environment.name, "deployment": deployment.pk},
    )


def _post_deploy_passed(window: MonitoringWindow, *, actor) -> None:
    from releases.registry import holds
    from releases.services import release_mark_released

    deployment = window.deployment
    now = timezone.now()
    # Deployment belongs to releases; its verification time is the one field we own the meaning of.
    Deployment.objects.filter(pk=deployment.pk).update(verified_at=now)
    deployment.verified_at = now
    release = deployment.release
    others = [why for hold in holds() if hold is not release_hold and (why := hold(deployment))]
    if (
        deployment.environment.is_production
        and release.status == ReleaseStatus.IN_PROGRESS
        and not others
    ):
        release_mark_released(
            release=release,
            actor=actor,
            reason=f"Post-deploy monitoring of {deployment.environment} passed.",
        )
    _notify(
        window,
        subject=f"Verified: {release.version} in {deployment.environment}",
        body=window.reason,
        urgent=False,
        everyone=False,
    )


def _window_failed(window: MonitoringWindow, *, actor) -> None:
    from monitoring.services.hooks import hook_call_request
    from releases.services import deployment_finish

    deployment = (
        Deployment.objects.select_for_update(of=("self",))
        .select_related("release", "environment")
        .get(pk=window.deployment_id)
    )
    if deployment.status in (DeploymentStatus.IN_PROGRESS, DeploymentStatus.SUCCEEDED):
        deployment_finish(
            deployment=deployment,
            succeeded=False,
            actor=actor,
            reason=f"{window.get_kind_display()} window failed: {window.reason}"[:2000],
        )
    call = hook_call_request(
        deployment=deployment, window=window, actor=actor, reason=window.reason
    )
    action = (
        "The rollback hook is being called."
        if call is not None
        else "Roll back now: no rollback hook is configured for this environment."
    )
    _notify(
        window,
        subject=f"Failed: {_label(window)}. Rollback recommended",
        body=f"{window.reason} {action}",
        urgent=True,
        everyone=True,
    )


# --- Concluding from the measurements ----------------------------------------------------------


def window_conclude(*, window_id: int, now=None) -> MonitoringWindow | None:
    """Reach the final verdict of a window whose time is up. Safe to call twice (the lock decides)."""
    from monitoring.services.polling import final_verdicts

    now = now or timezone.now()
    with transaction.atomic():
        window = (
            MonitoringWindow.objects.select_for_update(of=("self",))
            .select_related("deployment__release__project", "deployment__environment")
            .filter(pk=window_id)
            .first()
        )
        if window is None or window.status != WindowStatus.RUNNING or now < window.ends_at:
            return window
        if _slot_time(window, window.next_slot) <= window.ends_at:
            return window  # a last poll is still due
        verdict = final_verdicts(window)
        window_close(window, verdict, actor=None)
        return window


# --- People deciding ---------------------------------------------------------------------------

_DECISIONS = {
    DecisionAction.ACCEPT: {WindowStatus.RUNNING, WindowStatus.INCONCLUSIVE, WindowStatus.ERROR},
    DecisionAction.EXTEND: {WindowStatus.RUNNING, WindowStatus.INCONCLUSIVE, WindowStatus.ERROR},
    DecisionAction.ROLLBACK: {WindowStatus.RUNNING, WindowStatus.INCONCLUSIVE, WindowStatus.ERROR},
    DecisionAction.PROMOTE: {WindowStatus.PASSED},
}


def window_authorize(*, window: MonitoringWindow, actor) -> None:
    """Raise unless ``actor`` may decide on ``window`` (views ask before reading the form)."""
    release = window.deployment.release
    if not can_view_monitoring(actor, release.project_id):
        raise NotFound("No such monitoring window.")
    if is_token(actor):
        raise PeopleOnly(
            "Only people decide on monitoring; an API token reports deployments but never judges them."
        )
    if not can_decide_window(actor, release):
        raise role_refusal(
            Role.RELEASE_MANAGER,
            Role.ENGINEER,
            Role.ADMIN,
            to="decide on the monitoring of this release",
        )


@transaction.atomic
def window_decide(
    *,
    window: MonitoringWindow,
    actor,
    action: str,
    reason: str = "",
    extend_minutes: float | None = None,
) -> MonitoringWindow:
    """A person accepts, extends, rolls back, or promotes a passed canary.

    Callers: people who may deploy the release (never API tokens).
    Audit: ``monitoring.decision`` plus the window's own transition event.
    """
    window_authorize(window=window, actor=actor)
    release = window.deployment.release
    if action not in DecisionAction.values:
        raise ValidationFailed(
            f"Unknown decision '{str(action)[:20]}'. Choose one of "
            f"{', '.join(DecisionAction.values)}."
        )
    reason = (reason or "").strip()
    if "\x00" in reason or len(reason) > 2000:
        raise ValidationFailed(
            "The reason must be at most 2,000 characters of text.", details={"reason": "Too long."}
        )
    if action != DecisionAction.PROMOTE and not reason:
        raise ValidationFailed(
            "Say why: the decision goes into the audit trail.",
            details={"reason": "Say why you decide this."},
        )
    window = (
        MonitoringWindow.objects.select_for_update(of=("self",))
        .select_related("deployment__release__project", "deployment__environment")
        .get(pk=window.pk)
    )
    from_status = window.status
    if from_status not in _DECISIONS[action]:
        raise TransitionNotAllowed(
            f"'{DecisionAction(action).label}' is not possible on a window that is "
            f"{window.get_status_display().lower()}."
        )
    who = actor.get_username()
    extend_by = None
    if action == DecisionAction.PROMOTE:
        if (
            window.kind != WindowKind.CANARY
            or window.rollout_state != RolloutState.AWAITING_PROMOTION
        ):
            raise TransitionNotAllowed(
                "Only a passed canary that waits for a person can be promoted."
            )
        _promote(window, actor=actor, reason=reason or f"Full rollout approved by {who}.")
    elif action == DecisionAction.ACCEPT:
        window_close(
            window, Verdict(WindowStatus.PASSED, f"Accepted by {who}: {reason}"), actor=actor
        )
    elif action == DecisionAction.ROLLBACK:
        window_close(
            window,
            Verdict(WindowStatus.FAILED, f"Aborted by {who} to roll back: {reason}"),
            actor=actor,
        )
    else:
        try:
            minutes = float(extend_minutes if extend_minutes not in (None, "") else 15)
        except (TypeError, ValueError):
            raise ValidationFailed(
                "Extend by a number of minutes.", details={"extend_minutes": "A number."}
            ) from None
        extend_by = timedelta(minutes=minutes)
        if not timedelta(seconds=1) <= extend_by <= MAX_EXTENSION:
            raise ValidationFailed(
                "Extend by 1 to 120 minutes.", details={"extend_minutes": "1 to 120 minutes."}
            )
        _extend(
            window,
            extend_by=extend_by,
            actor=actor,
            reason=f"Extended by {who} for {minutes:g} min: {reason}",
        )
    WindowDecision.objects.create(
        window=window,
        action=action,
        actor=actor,
        reason=reason,
        extend_by=extend_by,
        from_status=from_status,
        to_status=window.status,
    )
    audit_record(
        actor=actor,
        action="monitoring.decision",
        obj=window,
        project=release.project_id,
        release=release,
        from_state=from_status,
        to_state=window.status,
        reason=reason,
        data={
            "decision": action,
            "kind": window.kind,
            "extend_minutes": extend_by.total_seconds() / 60 if extend_by else None,
        },
    )
    return window


def _extend(window: MonitoringWindow, *, extend_by: timedelta, actor, reason: str) -> None:
    """Give the window more time; checks that were stuck on missing data or errors count afresh."""
    now = timezone.now()
    window.ends_at = max(window.ends_at, now) + extend_by
    window.extensions += 1
    # Resume with the next slot after now; the idle time was a decision, not a gap.
    window.next_slot = int((now - window.started_at) // window.poll_interval) + 1
    window.save(update_fields=["ends_at", "extensions", "next_slot"])
    for check in window.checks.filter(
        status__in=[CheckVerdictStatus.INCONCLUSIVE, CheckVerdictStatus.ERROR]
    ):
        check.status = CheckVerdictStatus.RUNNING
        check.inconclusives = 0
        check.consecutive_errors = 0
        check.save(update_fields=["status", "inconclusives", "consecutive_errors"])
    if window.status != WindowStatus.RUNNING:
        _transition(window, Verdict(WindowStatus.RUNNING, reason), actor=actor)
    else:
        window.reason = reason
        window.save(update_fields=["reason"])
    window.next_poll_at = _slot_time(window, window.next_slot)
    window.save(update_fields=["next_poll_at"])
