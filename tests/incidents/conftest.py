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
def failed_canary(people, envs, release, settings):
    """``failed_canary()``: ``release`` on production as a canary that a person aborted."""
    from tests.incidents.scenarios import make_failed_canary

    return lambda: make_failed_canary(release=release, envs=envs, people=people, settings=settings)
