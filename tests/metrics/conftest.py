"""A known delivery history, built through the services at known times.

Time is controlled by updating rows after the services ran: ``release_promote`` and
``deployment_finish`` stamp deployments with the real clock, then ``ship`` moves each
deployment's ``started_at``/``finished_at`` to the instants the test names (no clock is
frozen) and has metrics recompute the stored first deployments of the release's commits,
as its listener did when the deployment succeeded. Commits, incidents and escaped defects take their times as arguments.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from metrics.firsts import firsts_refresh_release
from releases.models import Deployment, Release
from releases.services import (
    deployment_finish,
    deployment_rollback,
    release_commits_add,
    release_create,
    release_promote,
)


def at(text: str) -> datetime:
    """'2026-03-02 12:00' as a UTC instant."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class History:
    def __init__(self, project, people, envs):
        self.project, self.people, self.envs = project, people, envs

    def release(self, version: str, *, type: str = "minor", commits=(), emergency=False):
        release = release_create(
            project=self.project,
            version=version,
            title=f"Release {version}",
            actor=self.people.alice,
            type=type,
            rollback_plan="Redeploy the previous version.",
        )
        if commits:
            release_commits_add(
                release=release,
                commits=[{"sha": sha, "committed_at": when} for sha, when in commits],
                actor=self.people.alice,
            )
        if emergency:
            # The emergency path (approvals) sets this flag; the history only needs the flag.
            Release.objects.filter(pk=release.pk).update(is_emergency=True)
            release.refresh_from_db()
        return release

    def _run(self, release, env: str, start: datetime, minutes: float, ok: bool = True):
        deployment = release_promote(
            release=release, environment=self.envs[env], actor=self.people.alice
        )
        deployment = deployment_finish(deployment=deployment, succeeded=ok, actor=self.people.alice)
        Deployment.objects.filter(pk=deployment.pk).update(
            started_at=start, finished_at=start + timedelta(minutes=minutes)
        )
        # The stored first deployments were written when it succeeded, at the real time: what
        # the listener does then, again now that the deployment has moved.
        firsts_refresh_release(release.pk, release.project_id)
        deployment.refresh_from_db()
        return deployment

    def ship(self, release, start: datetime, minutes: float, *, ok: bool = True, redeploy=False):
        """Dev 3 h before ``start`` (5 min), staging 2 h before (10 min), then production."""
        if not redeploy:
            self._run(release, "dev", start - timedelta(hours=3), 5)
            self._run(release, "staging", start - timedelta(hours=2), 10)
        return self._run(release, "production", start, minutes, ok)

    def rollback(self, deployment):
        return deployment_rollback(deployment=deployment, actor=self.people.alice, reason="Broke")


@pytest.fixture
def history(project, people, envs, gates_only):
    gates_only("releases")
    return History(project, people, envs)
