"""The release-history report: production deployments with their evidence and separation-of-duties findings."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from approvals.models import Approval
from audit.filters import audit_filters_parse
from audit.history import release_history
from releases import models as release_models
from tests.factories import DeploymentFactory

pytestmark = pytest.mark.django_db


def _approve(release, env, person, *, at, state="active", kind="deployment", changed_at=None):
    return Approval.objects.create(
        release=release,
        environment=env if kind != "scope" else None,
        kind=kind,
        person=person,
        role="approver",
        decision="approve",
        state=state,
        release_version=release.version,
        created_at=at,
        state_changed_at=changed_at,
        state_reason="Scope changed." if state == "invalidated" else "",
    )


@pytest.fixture
def deployed(release, envs, people):
    """A production deployment by bob an hour ago, with passing tests recorded before it."""
    started = timezone.now() - timedelta(hours=1)
    release_models.TestRun.objects.create(
        release=release, environment=envs["staging"], name="e2e", total=120, failures=0
    )
    release_models.TestRun.objects.filter(release=release).update(
        created_at=started - timedelta(hours=2)
    )
    return DeploymentFactory(
        release=release,
        environment=envs["production"],
        status="succeeded",
        deployed_by=people.bob,
        started_at=started,
        finished_at=started + timedelta(minutes=5),
    )


def _report(user, **query):
    return release_history(audit_filters_parse(user, query))


def test_history__clean_deployment__has_no_findings(deployed, people, envs):
    started = deployed.started_at
    _approve(deployed.release, envs["production"], people.ada, at=started - timedelta(hours=3))
    _approve(deployed.release, envs["production"], people.abe, at=started - timedelta(hours=2))
    _approve(
        deployed.release,
        envs["staging"],
        people.quinn,
        at=started - timedelta(hours=4),
        kind="qa_signoff",
    )
    [row] = _report(people.aud)
    assert row["findings"] == ""
    assert row["approvals_before"] == 2
    assert row["requested_by"] == "alice" and row["deployed_by"] == "bob"
    assert "ada" in row["approvers"] and "abe" in row["approvers"]
    assert row["qa_signoff"] == "quinn"
    assert "e2e: 120/120 passed" in row["tests"]


def test_history__author_approving_own_change__is_flagged(deployed, people, envs):
    started = deployed.started_at
    _approve(deployed.release, envs["production"], people.alice, at=started - timedelta(hours=3))
    _approve(deployed.release, envs["production"], people.ada, at=started - timedelta(hours=2))
    [row] = _report(people.aud)
    assert "alice approved their own change" in row["findings"]


def test_history__deployer_approving__is_flagged(deployed, people, envs):
    started = deployed.started_at
    _approve(deployed.release, envs["production"], people.bob, at=started - timedelta(hours=3))
    _approve(deployed.release, envs["production"], people.ada, at=started - timedelta(hours=2))
    [row] = _report(people.aud)
    assert "bob approved and deployed" in row["findings"]


def test_history__approval_after_deployment__is_flagged_and_not_counted(deployed, people, envs):
    started = deployed.started_at
    _approve(deployed.release, envs["production"], people.ada, at=started - timedelta(hours=3))
    _approve(deployed.release, envs["production"], people.abe, at=started + timedelta(minutes=2))
    [row] = _report(people.aud)
    assert row["approvals_before"] == 1
    assert "abe approved after the deployment started" in row["findings"]
    assert "1 approver(s) before the deployment, 2 required" in row["findings"]


def test_history__invalidated_before_deployment__does_not_count(deployed, people, envs):
    started = deployed.started_at
    _approve(
        deployed.release,
        envs["production"],
        people.ada,
        at=started - timedelta(hours=3),
        state="invalidated",
        changed_at=started - timedelta(hours=2),
    )
    _approve(deployed.release, envs["production"], people.abe, at=started - timedelta(hours=3))
    [row] = _report(people.aud)
    assert row["approvals_before"] == 1
    assert "2 required" in row["findings"]


def test_history__withdrawn_after_deployment__still_counted(deployed, people, envs):
    started = deployed.started_at
    _approve(
        deployed.release,
        envs["production"],
        people.ada,
        at=started - timedelta(hours=3),
        state="withdrawn",
        changed_at=started + timedelta(hours=1),
    )
    _approve(deployed.release, envs["production"], people.abe, at=started - timedelta(hours=3))
    [row] = _report(people.aud)
    assert row["approvals_before"] == 2


def test_history__no_tests__is_flagged(release, envs, people):
    DeploymentFactory(
        release=release,
        environment=envs["production"],
        status="failed",
        deployed_by=people.bob,
        started_at=timezone.now(),
    )
    [row] = _report(people.aud)
    assert "no test evidence" in row["findings"]
    assert row["status"] == "failed"


def test_history__date_range_and_environment(deployed, release, envs, people):
    DeploymentFactory(
        release=release, environment=envs["staging"], status="succeeded"
    )  # not production
    assert len(_report(people.aud)) == 1
    yesterday = (timezone.now() - timedelta(days=1)).date()
    assert _report(people.aud, to=str(yesterday)) == []
    assert len(_report(people.aud, **{"from": str(yesterday)})) == 1


def test_history__other_projects_stay_out(deployed, people, other_project):
    from releases.services import release_create

    other = release_create(
        project=other_project, version="9.0.0", title="Elsewhere", actor=people.olga
    )
    DeploymentFactory(release=other, environment=other_project.environments.get(name="production"))
    assert [r["release"] for r in _report(people.aud)] == ["2.4.0"]
    assert [r["release"] for r in _report(people.olga)] == ["9.0.0"]


def test_history_page__flags_breaches(client, deployed, people):
    client.force_login(people.aud)
    body = client.get("/audit/release-history/").content.decode()
    assert "1 flagged" in body
    assert "approver(s) before the deployment" in body
    csv_body = client.get("/audit/release-history.csv").content.decode()
    assert "Separation-of-duties findings" in csv_body.splitlines()[0]
    assert client.get("/audit/release-history/", {"from": "nonsense"}).status_code == 200
