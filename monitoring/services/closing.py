"""Closing a window: its verdict, and what the verdict does to the deployment and the release.

``window_close`` applies a verdict to a locked window (see ``monitoring.services.windows``
for when windows open and close): failed → the deployment fails, people are
told at once, the rollback hook is called once; canary passed → full rollout,
or a person is asked; post-deploy passed → the deployment is verified and the
release released (``release_hold`` keeps it from being released before);
inconclusive or error → people are told at once and a person decides
(``monitoring.services.decisions``).
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from audit.services import audit_record
from core.events import publish
from core.transitions import transition_check
from core.when import format_when
from monitoring.choices import (
    WINDOW_OPEN_STATES,
    WINDOW_TRANSITIONS,
    WINDOW_WAITING_STATES,
    RolloutState,
    WindowKind,
    WindowStatus,
)
from monitoring.models import MonitoringWindow
from monitoring.services.config import policy_for
from monitoring.services.hooks import hook_call_request
from monitoring.services.tallies import settle_running_checks
from monitoring.verdicts import Verdict
from projects.models import Membership
from releases.choices import DeploymentStatus, ReleaseStatus
from releases.models import Deployment


def _window_url(window: MonitoringWindow) -> str:
    return window.get_absolute_url()


def _notify(
    window: MonitoringWindow, *, subject: str, body: str, urgent: bool, everyone: bool
) -> None:
    """Tell the release manager, and with ``everyone`` the whole project, about a window.

    Announced as ``monitoring.canary_verdict`` (canary windows) or ``monitoring.results``
    (post-deploy windows), with each check's figures in ``data["figures"]``; a window that
    waits for a person is ``monitoring.decision_needed``.
    """
    release = window.deployment.release
    recipients = [release.release_manager]
    if everyone:
        members = Membership.objects.filter(project_id=release.project_id).select_related("user")
        recipients += [m.user for m in members]
    if window.status in WINDOW_WAITING_STATES:
        key = "monitoring.decision_needed"
    elif window.kind == WindowKind.CANARY:
        key = "monitoring.canary_verdict"
    else:
        key = "monitoring.results"
    figures = [
        {
            "check": check.name,
            "verdict": check.status,
            "detail": check.last_detail,
            "baseline": check.baseline.value if check.baseline is not None else None,
            "passes": check.passes,
            "failures": check.failures,
        }
        for check in window.checks.select_related("baseline")
    ]
    publish(
        key,
        recipients=recipients,
        subject=subject,
        body=body,
        url=_window_url(window),
        project=release.project,
        release=release,
        urgent=urgent,
        data={
            "environment": window.deployment.environment.name,
            "window": window.kind,
            "verdict": window.status,
            "reason": window.reason,
            "figures": figures,
        },
    )


def _label(window: MonitoringWindow) -> str:
    deployment = window.deployment
    return (
        f"{window.get_kind_display()} of {deployment.release.version} in {deployment.environment}"
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


def window_transition(
    window: MonitoringWindow, verdict: Verdict, *, actor: Any, data: dict | None = None
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


def window_close(window: MonitoringWindow, verdict: Verdict, *, actor: Any) -> None:
    """Apply a verdict to a locked window and act on it (see the module docstring).

    Runs inside the caller's transaction. ``actor`` is None when the verdict
    came from the measurements, a person when they decided.
    """
    if verdict.status in (WindowStatus.PASSED, WindowStatus.FAILED, WindowStatus.CANCELLED):
        # Checks still running when the window ends get their verdict on what they measured.
        settle_running_checks(window)
    checks = {c.name: c.status for c in window.checks.all()}
    window_transition(window, verdict, actor=actor, data={"checks": checks})
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


def _canary_passed(window: MonitoringWindow, *, actor: Any) -> None:
    deployment = window.deployment
    policy = policy_for(deployment.environment)
    if policy.auto_promote_canary or actor is not None:
        canary_promote(
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


def canary_promote(window: MonitoringWindow, *, actor: Any, reason: str) -> None:
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


def _post_deploy_passed(window: MonitoringWindow, *, actor: Any) -> None:
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


def _window_failed(window: MonitoringWindow, *, actor: Any) -> None:
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
