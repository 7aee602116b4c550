"""Promotion gates of the monitoring app (registered in ``MonitoringConfig.ready``)."""

from __future__ import annotations

from django.utils import timezone

from core.when import format_when
from monitoring.choices import WINDOW_OPEN_STATES, WindowKind, WindowStatus
from monitoring.models import HealthCheck, MetricCheck, MonitoringWindow
from monitoring.services.config import policy_for
from monitoring.services.prechecks import precheck_latest
from releases.gates import GateContext, closed, opened

PRECHECK_TITLE = "Pre-deployment checks"
VERIFIED_TITLE = "Previous environment verified"


def prechecks_gate(ctx: GateContext):
    """Production only: health endpoints answer, CPU/memory within bounds, certificates valid."""
    environment = ctx.environment
    if not environment.is_production:
        return None
    has_checks = (
        HealthCheck.objects.filter(environment=environment, enabled=True).exists()
        or MetricCheck.objects.filter(
            environment=environment, enabled=True, use_in_precheck=True
        ).exists()
    )
    if not has_checks:
        return None
    latest = precheck_latest(environment)
    policy = policy_for(environment)
    if latest is None:
        return closed(
            "monitoring_prechecks",
            PRECHECK_TITLE,
            f"The pre-deployment checks of {environment} have not run yet.",
        )
    age = timezone.now() - latest.finished_at
    if age > policy.precheck_max_age:
        minutes = int(policy.precheck_max_age.total_seconds() // 60)
        return closed(
            "monitoring_prechecks",
            PRECHECK_TITLE,
            f"The pre-deployment checks of {environment} last ran {int(age.total_seconds() // 60)} "
            f"minutes ago; they must have run within {minutes} minutes.",
        )
    if not latest.passed:
        return closed("monitoring_prechecks", PRECHECK_TITLE, latest.summary)
    return opened(
        "monitoring_prechecks",
        PRECHECK_TITLE,
        f"{latest.summary} (checked {int(age.total_seconds() // 60)} min ago)",
    )


def verified_gate(ctx: GateContext):
    """The previous environment's post-deploy window for this release, if any, has passed."""
    previous = ctx.previous_environment
    if previous is None:
        return None
    deployments = [d for d in ctx.release_deployments if d.environment_id == previous.pk]
    if not deployments:
        return None
    latest = deployments[-1]
    window = MonitoringWindow.objects.filter(deployment=latest, kind=WindowKind.POST_DEPLOY).first()
    if window is None:
        return None
    if window.status in WINDOW_OPEN_STATES:
        return closed(
            "monitoring_verified",
            VERIFIED_TITLE,
            f"The post-deploy window in {previous} is {window.get_status_display().lower()} "
            f"(until {format_when(window.ends_at)}).",
        )
    if window.status == WindowStatus.FAILED:
        return closed(
            "monitoring_verified", VERIFIED_TITLE, f"The post-deploy window in {previous} failed."
        )
    return opened(
        "monitoring_verified",
        VERIFIED_TITLE,
        f"Post-deploy monitoring in {previous}: {window.get_status_display().lower()}.",
    )
