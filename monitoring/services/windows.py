"""Monitoring windows: opened by deployments, closed by verdicts or by people.

The deployment side is driven through ``releases.registry``:

* a deployment starts → baselines of every metric are queued, and a canary
  deployment opens its canary window;
* a deployment succeeds → refused while its canary is still watched or waits
  for a person; otherwise the post-deploy window opens (and ``release_hold``
  keeps a production release from being marked released while it runs);
* a deployment fails or is rolled back some other way → its open windows
  are cancelled.

A window's verdict then acts (``window_close``, in ``monitoring.services.closing``):
failed → the deployment fails, people are told at once, the rollback hook is
called once; canary passed → full rollout, or a person is asked; post-deploy
passed → the deployment is verified and the release released; inconclusive or
error → people are told at once and a person decides (``window_decide``, in
``monitoring.services.decisions``). The names of those modules stay importable
from here.
"""

from __future__ import annotations

import contextvars
import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from core.exceptions import Conflict, ValidationFailed
from core.oncommit import after_commit
from monitoring.choices import (
    WINDOW_OPEN_STATES,
    RolloutState,
    WindowKind,
    WindowStatus,
)
from monitoring.conf import tick_seconds
from monitoring.models import Baseline, HealthCheck, MetricCheck, MonitoringWindow, WindowCheck
from monitoring.services.closing import release_hold, window_close, window_transition
from monitoring.services.config import check_config, enabled_checks, policy_for
from monitoring.services.decisions import MAX_EXTENSION, window_authorize, window_decide
from monitoring.services.tallies import final_verdicts
from monitoring.verdicts import Verdict
from projects.models import Environment
from releases.choices import DeploymentStatus, DeploymentStrategy
from releases.models import Deployment, Release

__all__ = [
    "MAX_EXTENSION",
    "deployment_start",
    "on_deployment_changed",
    "release_hold",
    "window_authorize",
    "window_close",
    "window_conclude",
    "window_decide",
    "window_open",
]

logger = logging.getLogger(__name__)


# A canary share asked for by ``deployment_start``, read by the listener that opens the window.
_canary_percent: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "canary_percent", default=None
)


# --- Opening -------------------------------------------------------------------------------


def window_open(*, deployment: Deployment, kind: str, actor: Any) -> MonitoringWindow | None:
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
    checks: list[HealthCheck | MetricCheck] = [*health, *metrics]
    rows = [
        WindowCheck(
            window=window,
            kind=check.kind,
            health_check=check if isinstance(check, HealthCheck) else None,
            metric_check=check if isinstance(check, MetricCheck) else None,
            name=check.name,
            position=position,
            config=check_config(check),
            is_critical=check.is_critical,
            baseline=baselines.get(check.pk) if isinstance(check, MetricCheck) else None,
        )
        for position, check in enumerate(checks)
    ]
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
    release: Release,
    environment: Environment,
    actor: Any,
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
    after_commit(baselines_take.delay, deployment_id)


def on_deployment_changed(
    *, deployment: Deployment, actor: Any, from_status: str, to_status: str
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
            window_transition(
                window,
                Verdict(WindowStatus.CANCELLED, f"Stopped: the deployment {verb}."),
                actor=actor,
            )


# --- Concluding from the measurements ----------------------------------------------------------


def window_conclude(*, window_id: int, now: datetime | None = None) -> MonitoringWindow | None:
    """Reach the final verdict of a window whose time is up. Safe to call twice (the lock decides)."""
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
        if window.slot_time(window.next_slot) <= window.ends_at:
            return window  # a last poll is still due
        verdict = final_verdicts(window)
        window_close(window, verdict, actor=None)
        return window
