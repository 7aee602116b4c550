"""`manage.py seed_demo`: the demo people, projects and releases, idempotent and audited."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from audit.models import AuditEvent
from audit.selectors import audit_chain_verify
from demo.people import DEMO_PEOPLE
from projects.models import Membership, Project
from projects.selectors import project_list
from releases.choices import DeploymentStatus, ReleaseStatus
from releases.models import Deployment, Release

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _counts() -> dict[str, int]:
    return {
        "users": get_user_model().objects.count(),
        "memberships": Membership.objects.count(),
        "releases": Release.objects.count(),
        "deployments": Deployment.objects.count(),
        "audit events": AuditEvent.objects.count(),
    }


def test_seed_demo__every_state_verified_isolated_and_idempotent(seeded, client):
    storefront = Project.objects.get(slug="storefront")
    releases = Release.objects.filter(project=storefront)
    assert releases.count() >= 8
    assert set(releases.values_list("status", flat=True)) == set(ReleaseStatus.values)
    assert releases.filter(type="hotfix").exists()
    assert releases.get(version="2.2.0").status == ReleaseStatus.ROLLED_BACK
    assert releases.get(version="2.4.0").status == ReleaseStatus.IN_PROGRESS
    statuses = set(
        Deployment.objects.filter(release__project=storefront).values_list("status", flat=True)
    )
    assert {
        DeploymentStatus.SUCCEEDED,
        DeploymentStatus.FAILED,
        DeploymentStatus.ROLLED_BACK,
        DeploymentStatus.IN_PROGRESS,
    } <= statuses

    # The history is the services' own, in a chain that verifies.
    count, broken = audit_chain_verify()
    assert broken is None
    assert count > 50
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "release.created",
        "deployment.started",
        "deployment.succeeded",
        "deployment.failed",
        "deployment.rolled_back",
        "release.status_changed",
        "membership.granted",
    } <= actions

    # The logins are printed, and they work.
    for username, *_rest in DEMO_PEOPLE:
        assert f"  {username} " in seeded
    assert "password 'demo'" in seeded
    assert client.login(username="rita", password="demo")

    # Each person sees only their projects.
    people = {u.username: u for u in get_user_model().objects.all()}
    assert [p.slug for p in project_list(user=people["otto"])] == ["mobile-app"]
    assert "mobile-app" not in {p.slug for p in project_list(user=people["rita"])}
    assert {"mobile-app", "storefront"} <= {p.slug for p in project_list(user=people["quinn"])}

    # A second run creates nothing.
    before = _counts()
    again = StringIO()
    call_command("seed_demo", stdout=again)
    assert _counts() == before
    assert "0 releases created" in again.getvalue()


def test_seed_demo__release_history__only_the_emergency_hotfix_is_flagged(
    seeded, client, people_demo_auditor
):
    """The demo's story runs in order: sign-offs, approvals and tests come before each production
    deployment, so the auditor's report flags only the release that took the emergency path."""
    client.force_login(people_demo_auditor)
    rows = client.get("/api/v1/audit/release-history/").json()["deployments"]

    flagged = {row["release"]: row["findings"] for row in rows if row["findings"]}
    assert set(flagged) == {"2.2.2"}, flagged
    assert "emergency path" in flagged["2.2.2"]
    clean = [row for row in rows if row["release"] != "2.2.2"]
    assert {(row["project"], row["release"]) for row in clean} == {
        ("storefront", "2.1.0"),
        ("storefront", "2.1.1"),
        ("storefront", "2.2.0"),
        ("storefront", "2.2.1"),
        ("payments-api", "1.4.0"),
        ("payments-api", "1.4.1"),
        ("payments-api", "1.5.0"),
    }
    assert all(
        row["approvals_before"] == 2 and row["qa_signoff"] and row["tests_ok"] for row in clean
    )


@pytest.fixture
def people_demo_auditor(seeded):
    return get_user_model().objects.get(username="audrey")
