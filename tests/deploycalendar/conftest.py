"""Helpers for the calendar tests: freezes and windows around now, a release ready for production."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from deploycalendar.services import freeze_create, window_create
from releases.services import deployment_finish, release_promote


def wall(moment: datetime, tz: str = "UTC") -> str:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%dT%H:%M")


def minute(offset_minutes: int = 0) -> datetime:
    now = timezone.now().astimezone(UTC).replace(second=0, microsecond=0)
    return now + timedelta(minutes=offset_minutes)


def deploy(release, environment, actor):
    deployment = release_promote(release=release, environment=environment, actor=actor)
    return deployment_finish(deployment=deployment, succeeded=True, actor=actor)


@pytest.fixture
def staged(release, envs, people, gates_only):
    """2.4.0 succeeded in dev and staging; only the core and calendar gates are evaluated."""
    gates_only("deploycalendar")
    deploy(release, envs["dev"], people.alice)
    deploy(release, envs["staging"], people.alice)
    return release


@pytest.fixture
def freeze_now(envs, people):
    """A one-off production freeze from an hour ago to two hours ahead."""

    def _make(environment=None, *, name="Year-end freeze", hours=2, tz="Europe/Berlin"):
        return freeze_create(
            environment=environment or envs["production"],
            actor=people.alice,
            name=name,
            reason="Peak sales",
            start=wall(minute(-60), tz),
            end=wall(minute(hours * 60), tz),
            time_zone=tz,
        )

    return _make


@pytest.fixture
def window_later(envs, people):
    """A daily production window that opens ``minutes`` from now and lasts an hour."""

    def _make(minutes=120, *, tz="UTC", environment=None, **kwargs):
        start = minute(minutes)
        return window_create(
            environment=environment or envs["production"],
            actor=people.alice,
            name="Production window",
            start=wall(start, tz),
            end=wall(start + timedelta(hours=1), tz),
            time_zone=tz,
            rrule="FREQ=DAILY",
            **kwargs,
        )

    return _make
