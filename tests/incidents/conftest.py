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
