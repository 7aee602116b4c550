"""Incident fixtures: production deployments at known times."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import DeploymentFactory, ReleaseFactory


@pytest.fixture
def prod_deploy(project, people, envs):
    """``prod_deploy("2.3.0", minutes_ago=90)``: a release of ``project`` deployed to production."""

    def _make(
        version: str, *, minutes_ago: int, status: str = "succeeded", env: str = "production"
    ):
        release = ReleaseFactory(
            project=project, version=version, release_manager=people.alice, status="released"
        )
        at = timezone.now() - timedelta(minutes=minutes_ago)
        return DeploymentFactory(
            release=release,
            environment=envs[env],
            status=status,
            started_at=at,
            finished_at=at + timedelta(minutes=2),
        )

    return _make


@pytest.fixture
def api():
    from rest_framework.test import APIClient

    def _client(user=None):
        client = APIClient()
        if user is not None:
            client.force_login(user)
        return client

    return _client


@pytest.fixture
def token_client(project):
    from rest_framework.test import APIClient

    from projects.services import api_token_create

    def _client(*scopes: str):
        _token, plain = api_token_create(project=project, name="pager", scopes=scopes, actor=None)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
        return client

    return _client


@pytest.fixture
def failed_canary(project, people, envs, release, gates_only, settings):
    """``failed_canary()``: ``release`` on production as a canary that a person aborted.

    Runs through the services (promotions, monitoring's canary and its decision); the
    production health check points at a closed local port and is never polled here.
    """
    from monitoring.choices import WindowKind
    from monitoring.models import MonitoringWindow
    from monitoring.services import deployment_start, window_decide
    from releases.choices import DeploymentStrategy
    from releases.services import deployment_finish, release_promote
    from tests.monitoring.conftest import configure

    def _make():
        settings.SHIPCHECK_FETCH_ALLOWLIST = ["127.0.0.1"]
        gates_only("releases")
        for name in ("dev", "staging"):
            deployment = release_promote(release=release, environment=envs[name], actor=people.bob)
            deployment_finish(deployment=deployment, succeeded=True, actor=people.bob)
        configure(
            envs["production"],
            people.adam,
            canary_duration=600,
            post_deploy_duration=600,
            poll_interval=60,
            health=[{"name": "Health", "url": "http://127.0.0.1:9/healthz"}],
        )
        deployment = deployment_start(
            release=release,
            environment=envs["production"],
            actor=people.bob,
            strategy=DeploymentStrategy.CANARY,
        )
        window = MonitoringWindow.objects.get(deployment=deployment, kind=WindowKind.CANARY)
        window_decide(
            window=window, actor=people.alice, action="rollback", reason="Checkout errors at 12 %."
        )
        window.refresh_from_db()
        return window

    return _make
