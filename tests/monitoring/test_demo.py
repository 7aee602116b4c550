"""The monitoring demo: a passed canary, a failed one with its recommendation, one running; idempotent."""

from __future__ import annotations

from io import StringIO

import pytest

from demo import monitoring as demo
from demo import releases as releases_demo
from monitoring.choices import RolloutState, WindowKind, WindowStatus
from monitoring.models import HealthCheck, MonitoringWindow, Sample
from releases.choices import DeploymentStatus, ReleaseStatus

pytestmark = pytest.mark.django_db


def _seed():
    ctx = releases_demo.foundation(StringIO())
    releases_demo.seed(ctx)
    demo.seed(ctx)
    releases_demo.seed_late(ctx)
    demo.seed_late(ctx)
    return ctx


def _window(project, version, kind=WindowKind.CANARY):
    return MonitoringWindow.objects.select_related("deployment__release").get(
        deployment__release__project__slug=project, deployment__release__version=version, kind=kind
    )


def test_demo__has_passed_failed_and_running_canaries_and_is_idempotent(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    _seed()

    passed = _window("payments-api", "1.4.0")
    assert passed.status == WindowStatus.PASSED and passed.rollout_state == RolloutState.FULL
    post = _window("payments-api", "1.4.0", WindowKind.POST_DEPLOY)
    assert post.status == WindowStatus.PASSED
    assert post.deployment.release.status == ReleaseStatus.RELEASED and post.deployment.verified_at

    failed = _window("payments-api", "1.4.1")
    assert failed.status == WindowStatus.FAILED
    assert "Rollback recommended" in failed.reason and "6." in failed.reason
    assert failed.deployment.status == DeploymentStatus.FAILED

    running = _window("payments-api", "1.5.0")
    assert running.status == WindowStatus.RUNNING and running.next_poll_at is not None

    history = _window("storefront", "2.2.0", WindowKind.POST_DEPLOY)
    assert history.status == WindowStatus.FAILED and "p95 latency" in history.reason

    counts = (MonitoringWindow.objects.count(), Sample.objects.count(), HealthCheck.objects.count())
    _seed()
    assert (
        MonitoringWindow.objects.count(),
        Sample.objects.count(),
        HealthCheck.objects.count(),
    ) == counts
