"""The stored first production deployment of each commit follows the deployments as they happen.

Nothing here moves rows in time: the services stamp the real clock, and the table must say
what lead time for changes reads at that moment (docs/metrics.md, "How lead time is stored").
"""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from metrics.models import FirstDeployment
from releases.services import (
    deployment_finish,
    deployment_rollback,
    release_commits_add,
    release_commits_remove,
    release_create,
    release_promote,
)

pytestmark = pytest.mark.django_db

SHA_A = "a" * 40
SHA_B = "b" * 40


@pytest.fixture
def ship(project, people, envs, gates_only):
    gates_only("releases")

    def _release(version, shas):
        release = release_create(
            project=project,
            version=version,
            title=f"Release {version}",
            actor=people.alice,
            rollback_plan="Redeploy the previous version.",
        )
        committed = timezone.now() - timedelta(hours=2)
        release_commits_add(
            release=release,
            commits=[{"sha": sha, "committed_at": committed} for sha in shas],
            actor=people.alice,
        )
        return release

    def _run(release, env, ok=True):
        deployment = release_promote(release=release, environment=envs[env], actor=people.alice)
        return deployment_finish(deployment=deployment, succeeded=ok, actor=people.alice)

    def _deploy(release, env="production", ok=True):
        """Through the environments before ``env`` (the promotion order gate), then ``env``."""
        for before in ("dev", "staging"):
            if before == env:
                break
            if not release.deployments.filter(environment=envs[before]).exists():
                _run(release, before)
        return _run(release, env, ok)

    return _release, _deploy


def _rows(project):
    return {
        row.sha: row
        for row in FirstDeployment.objects.filter(project=project).select_related("deployment")
    }


def test_success__stores_each_commit_at_its_first_production_deployment(project, ship):
    release, deploy = ship
    first = release("1.0.0", [SHA_A, SHA_B])
    deploy(first, "staging")
    assert _rows(project) == {}  # only production counts
    d1 = deploy(first)
    rows = _rows(project)
    assert set(rows) == {SHA_A, SHA_B}
    a = rows[SHA_A]
    assert a.deployment_id == d1.pk and a.deployed_at == d1.finished_at
    assert a.lead_seconds == pytest.approx((d1.finished_at - a.committed_at).total_seconds())

    second = release("1.1.0", [SHA_B])  # the same commit deployed to production again
    deploy(second)
    assert _rows(project)[SHA_B].deployment_id == d1.pk


def test_rollback_keeps_and_failure_moves_the_first_deployment(project, people, ship):
    release, deploy = ship
    first = release("1.0.0", [SHA_A])
    d1 = deploy(first)
    deployment_rollback(deployment=d1, actor=people.alice, reason="Broke")
    assert _rows(project)[SHA_A].deployment_id == d1.pk  # it reached production
    failed = release("1.1.0", [SHA_B])
    d2 = deploy(failed, ok=False)
    assert SHA_B not in _rows(project)
    again = release("1.2.0", [SHA_B])
    d3 = deploy(again)
    assert _rows(project)[SHA_B].deployment_id == d3.pk
    assert d2.pk != d3.pk


def test_a_succeeded_deployment_marked_failed_gives_up_its_commits(project, people, ship):
    release, deploy = ship
    first = release("1.0.0", [SHA_A])
    d1 = deploy(first)
    later = release("1.1.0", [SHA_A])
    d2 = deploy(later)
    assert _rows(project)[SHA_A].deployment_id == d1.pk
    deployment_finish(deployment=d1, succeeded=False, actor=None, reason="Monitoring failed")
    assert _rows(project)[SHA_A].deployment_id == d2.pk


def test_commits_attached_or_detached_after_the_deployment(project, people, ship):
    release, deploy = ship
    first = release("1.0.0", [SHA_A])
    d1 = deploy(first)
    release_commits_add(
        release=first,
        commits=[{"sha": SHA_B, "committed_at": timezone.now() - timedelta(hours=1)}],
        actor=people.alice,
    )
    assert _rows(project)[SHA_B].deployment_id == d1.pk
    release_commits_remove(release=first, shas=[SHA_B], actor=people.alice)
    assert SHA_B not in _rows(project)


def test_rebuild_command__recomputes_the_same_rows(project, ship):
    release, deploy = ship
    deploy(release("1.0.0", [SHA_A, SHA_B]))
    before = {
        sha: (r.deployment_id, r.deployed_at, r.lead_seconds) for sha, r in _rows(project).items()
    }
    FirstDeployment.objects.all().delete()
    out = StringIO()
    call_command("metrics_firsts_rebuild", "--project", project.slug, stdout=out)
    assert "2 commits" in out.getvalue()
    after = {
        sha: (r.deployment_id, r.deployed_at, r.lead_seconds) for sha, r in _rows(project).items()
    }
    assert after == before
