"""`manage.py seed_demo`: the demo people, projects and releases, idempotent and audited."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Q
from django.utils import timezone

from audit.models import AuditEvent
from audit.selectors import audit_chain_verify
from demo.people import DEMO_PEOPLE
from projects.models import Membership, Project
from projects.selectors import project_list
from releases.choices import DeploymentStatus, ReleaseStatus
from releases.models import Deployment, Release

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(demo_seeded_once):
    return demo_seeded_once


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


def test_seed_demo__every_timeline_reads_in_order(seeded):
    """No window before the deployment it watches, no approval after the production deployment
    it cleared, no review due before its approval, nothing of a release's own story after it was
    marked released (release notes, incidents and QA on production come after by nature)."""
    from approvals.choices import ApprovalKind
    from approvals.models import Approval, EmergencyReview, GoNoGoMeeting
    from checklists.models import Item
    from monitoring.models import MonitoringWindow, Sample

    problems = []
    # Search's three months of history (demo.metrics) move its deployments' rows only.
    story = ~Q(release__project__slug="search")
    deployments = Deployment.objects.filter(story).select_related("release__project", "environment")
    for d in deployments:
        name = f"{d.release.project.slug} {d.release.version} {d.environment.name}"
        assert d.started_at is not None, name
        if d.finished_at and d.finished_at < d.started_at:
            problems.append(f"{name}: finished before it started")
        if d.verified_at and d.verified_at < (d.finished_at or d.started_at):
            problems.append(f"{name}: verified {d.verified_at} before deployed {d.started_at}")
        for w in MonitoringWindow.objects.filter(deployment=d):
            if w.started_at < d.started_at:
                problems.append(f"{name}: {w.kind} window opens before the deployment started")
            if w.finished_at and w.finished_at <= w.started_at:
                problems.append(f"{name}: {w.kind} window closes before it opened")
            if w.finished_at and w.finished_at > timezone.now():
                problems.append(f"{name}: {w.kind} window finished in the future")
            outside = Sample.objects.filter(window_check__window=w).exclude(
                taken_at__gte=w.started_at, taken_at__lte=w.finished_at or w.ends_at
            )
            if outside.exists():
                problems.append(f"{name}: {w.kind} window has readings outside it")

    for release in Release.objects.exclude(project__slug="search").select_related("project"):
        name = f"{release.project.slug} {release.version}"
        production = (
            release.deployments.filter(environment__tier="production")
            .order_by("started_at")
            .first()
        )
        before_production = Approval.objects.filter(release=release).exclude(
            kind=ApprovalKind.QA_SIGNOFF, environment__tier="production"
        )
        for a in before_production:
            if a.created_at < release.created_at:
                problems.append(f"{name}: {a.kind} approval before the release existed")
            if production and a.created_at > production.started_at:
                problems.append(f"{name}: {a.kind} approval after the production deployment")
        for m in GoNoGoMeeting.objects.filter(release=release, decided_at__isnull=False):
            if production and m.decided_at > production.started_at:
                problems.append(f"{name}: go/no-go decided after the production deployment")
        for review in EmergencyReview.objects.filter(release=release):
            emergency = Approval.objects.filter(release=release, kind=ApprovalKind.EMERGENCY)
            if any(review.due_at <= a.created_at for a in emergency):
                problems.append(f"{name}: emergency review due before its approval")
            if production and review.due_at <= production.started_at:
                problems.append(f"{name}: emergency review due before the deployment it reviews")
        released = (
            AuditEvent.objects.filter(
                release_id=release.pk, action="release.status_changed", to_state="released"
            )
            .order_by("seq")
            .first()
        )
        if released is None:
            continue
        own = [
            *(a.created_at for a in before_production),
            *release.deployments.exclude(started_at=None).values_list("started_at", flat=True),
            *release.deployments.exclude(verified_at=None).values_list("verified_at", flat=True),
            *MonitoringWindow.objects.filter(deployment__release=release)
            .exclude(finished_at=None)
            .values_list("finished_at", flat=True),
            *Item.objects.filter(checklist__release=release)
            .exclude(completed_at=None)
            .values_list("completed_at", flat=True),
        ]
        if any(at > released.created_at for at in own):
            problems.append(f"{name}: its story goes on after it was marked released")
    assert problems == [], "\n".join(problems)
