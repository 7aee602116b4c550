"""The release-history report: production deployments with their evidence and separation-of-duties findings."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from approvals.models import Approval
from compliance.filters import audit_filters_parse
from compliance.history import release_history
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
    csv_body = b"".join(client.get("/audit/release-history.csv").streaming_content).decode()
    assert "Separation-of-duties findings" in csv_body.splitlines()[0]
    assert client.get("/audit/release-history/", {"from": "nonsense"}).status_code == 200


def _production_deployments(release, envs, people, count):
    started = timezone.now() - timedelta(days=1)
    for n in range(count):
        DeploymentFactory(
            release=release,
            environment=envs["production"],
            status="failed",
            deployed_by=people.bob,
            started_at=started + timedelta(minutes=n),
        )


def test_history_page__pages_and_query_count_stay_the_same_as_deployments_grow(
    client, release, envs, people, django_assert_max_num_queries
):
    from compliance.history import HISTORY_PAGE_SIZE

    client.force_login(people.aud)
    _production_deployments(release, envs, people, 3)
    with django_assert_max_num_queries(40) as small:
        body = client.get("/audit/release-history/").content.decode()
    assert "3 production deployments" in body
    _production_deployments(release, envs, people, HISTORY_PAGE_SIZE * 2)
    with django_assert_max_num_queries(len(small.captured_queries)):
        body = client.get("/audit/release-history/").content.decode()
    total = HISTORY_PAGE_SIZE * 2 + 3
    assert f"{total} production deployments, 1 to {HISTORY_PAGE_SIZE} shown" in body
    assert body.count("data-deployment=") == HISTORY_PAGE_SIZE
    assert "Page 1 of 3" in body
    last = client.get("/audit/release-history/", {"page": "3"}).content.decode()
    assert last.count("data-deployment=") == 3


def test_history_api__paginates_with_links(client, release, envs, people):
    client.force_login(people.aud)
    _production_deployments(release, envs, people, 5)
    first = client.get("/api/v1/audit/release-history/", {"page_size": 2}).json()
    assert (first["count"], first["page"], first["pages"]) == (5, 1, 3)
    assert len(first["deployments"]) == 2 and first["previous"] is None
    second = client.get(first["next"]).json()
    assert second["page"] == 2 and second["previous"]
    seen = {d["deployment_id"] for d in first["deployments"] + second["deployments"]}
    assert len(seen) == 4
    bad = client.get("/api/v1/audit/release-history/", {"page_size": 0})
    assert bad.status_code == 400 and "page_size" in bad.json()["message"]


def test_history_exports__stream_every_deployment_in_batches(
    client, release, envs, people, monkeypatch
):
    import json

    from compliance import history

    client.force_login(people.aud)
    _production_deployments(release, envs, people, 7)
    # Several batches, to show they join up without gaps or repeats.
    monkeypatch.setattr(history, "HISTORY_BATCH", 3)
    rows = b"".join(client.get("/audit/release-history.csv").streaming_content).decode()
    document = json.loads(b"".join(client.get("/audit/release-history.json").streaming_content))
    assert len(rows.strip().splitlines()) == 1 + 7
    ids = [d["deployment_id"] for d in document["deployments"]]
    assert len(ids) == 7 == len(set(ids))
