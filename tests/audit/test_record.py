"""The release record: one release's whole story as HTML, PDF and JSON, from every app."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from approvals.models import Approval
from approvals.services import meeting_notes_update, meeting_schedule, meeting_vote
from audit.models import AuditEvent
from checklists.models import Item
from checklists.services import item_tick
from compliance.record import Section, Table, _sections, record_section
from monitoring.models import MonitoringWindow, WindowCheck
from releases import models as release_models
from releases.services import release_commits_add, release_tickets_add
from tests.factories import DeploymentFactory


@pytest.fixture
def story(release, envs, people):
    """A release with scope, a ticked item, approvals (one invalidated), a meeting, a watched deployment."""
    release_tickets_add(
        release=release,
        tickets=[{"key": "PAY-101", "title": "Faster card form"}],
        actor=people.alice,
    )
    release_commits_add(
        release=release,
        commits=[{"sha": "a1b2c3d4e5f6", "message": "Speed up\n\nbody", "author": "bob"}],
        actor=people.alice,
    )
    item = Item.objects.filter(
        checklist__release=release, evidence_required=False, role="release_manager"
    ).first()
    assert item is not None, "the default checklist has release-manager items"
    item_tick(
        item=item,
        actor=people.alice,
        note="Done in the morning",
        evidence="https://ci.example/run/7",
    )
    now = timezone.now()
    Approval.objects.create(
        release=release,
        environment=envs["production"],
        kind="deployment",
        person=people.ada,
        role="approver",
        decision="approve",
        release_version=release.version,
        state="invalidated",
        state_reason="Scope changed: PAY-102 added.",
        state_changed_at=now,
        created_at=now - timedelta(hours=2),
    )
    Approval.objects.create(
        release=release,
        environment=envs["production"],
        kind="deployment",
        person=people.abe,
        role="approver",
        decision="reject",
        comment="Load test missing",
        release_version=release.version,
        created_at=now - timedelta(hours=1),
    )
    meeting = meeting_schedule(
        release=release, environment=envs["production"], scheduled_for=now, actor=people.alice
    )
    meeting_notes_update(
        item=meeting.agenda.first(), notes="Checklist reviewed, nothing open.", actor=people.alice
    )
    meeting_vote(meeting=meeting, vote="go", actor=people.ada, comment="Looks ready")
    deployment = DeploymentFactory(
        release=release,
        environment=envs["production"],
        status="rolled_back",
        deployed_by=people.bob,
        started_at=now,
        notes="Error rate doubled",
    )
    window = MonitoringWindow.objects.create(
        deployment=deployment,
        kind="canary",
        status="failed",
        reason="error_rate above bound",
        traffic_percent=5,
        poll_interval=timedelta(seconds=10),
        started_at=now,
        ends_at=now + timedelta(minutes=15),
    )
    WindowCheck.objects.create(
        window=window,
        kind="metric",
        name="error_rate",
        status="failed",
        passes=3,
        failures=2,
        last_detail="0.071 > 0.05",
    )
    release_models.TestRun.objects.create(
        release=release, name="unit", total=300, failures=1, failing_tests=["test_refund"]
    )
    return {"release": release, "item": item, "meeting": meeting, "deployment": deployment}


def test_record_json__holds_every_part_of_the_story(client, story, people):
    release = story["release"]
    client.force_login(people.aud)
    response = client.get(f"/audit/releases/{release.pk}/record.json")
    assert response.status_code == 200
    record = response.json()
    sections = {s["key"]: s for s in record["sections"]}
    assert set(sections) >= {
        "summary",
        "scope",
        "checklist",
        "approvals",
        "go_no_go",
        "deployments",
        "monitoring",
        "incidents",
        "tests",
        "audit",
    }
    scope = sections["scope"]["tables"]
    assert scope[0]["rows"][0]["key"] == "PAY-101"
    assert scope[1]["rows"][0]["sha"] == "a1b2c3d4e5f6"
    ticked = [r for r in sections["checklist"]["tables"][0]["rows"] if r["by"] == "Alice"]
    assert ticked and ticked[0]["evidence"] == "https://ci.example/run/7" and ticked[0]["at"]
    assert ticked[0]["item"] == story["item"].text
    decisions = sections["approvals"]["tables"][0]["rows"]
    assert any(
        r["person"] == "Ada"
        and r["state"].startswith("Invalidated")
        and "PAY-102" in r["state_reason"]
        for r in decisions
    )
    assert any(
        r["person"] == "Abe" and r["decision"] == "Rejected" and r["comment"] == "Load test missing"
        for r in decisions
    )
    meeting_tables = sections["go_no_go"]["tables"]
    assert any(
        r.get("notes") == "Checklist reviewed, nothing open."
        for t in meeting_tables
        for r in t["rows"]
    )
    assert any(
        r.get("vote") == "Go" and r.get("person") == "Ada"
        for t in meeting_tables
        for r in t["rows"]
    )
    checks = sections["monitoring"]["tables"][1]["rows"]
    assert (
        checks[0]["check"] == "error_rate"
        and checks[0]["failures"] == 2
        and checks[0]["last"] == "0.071 > 0.05"
    )
    assert sections["incidents"]["tables"][0]["rows"][0]["status"] == "Rolled back"
    assert sections["tests"]["tables"][0]["rows"][0]["failing"] == "test_refund"
    events = sections["audit"]["tables"][0]["rows"]
    stored = list(
        AuditEvent.objects.filter(release_id=release.pk).order_by("seq").values_list("seq", "hash")
    )
    assert [(e["seq"], e["hash"]) for e in events] == stored
    # Production went out without two approvals: the record says so.
    assert any("2 required" in f for f in sections["summary"]["findings"])


def test_record_api__json_and_pdf(client, story, people):
    release = story["release"]
    client.force_login(people.aud)
    api = client.get(f"/api/v1/audit/releases/{release.pk}/record/")
    assert api.status_code == 200
    assert api.json()["release"]["version"] == release.version
    pdf = client.get(f"/api/v1/audit/releases/{release.pk}/record/pdf/")
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-") and len(pdf.content) > 5000


def test_record_page__printable_html_with_downloads(client, story, people):
    release = story["release"]
    client.force_login(people.aud)
    body = client.get(f"/audit/releases/{release.pk}/record/").content.decode()
    assert "Release record: Payments" in body
    assert f'href="/audit/releases/{release.pk}/record.pdf"' in body
    assert "PAY-101" in body and "Load test missing" in body and "Invalidated" in body
    assert "error_rate" in body
    assert AuditEvent.objects.filter(release_id=release.pk).last().hash in body


def test_record__query_count_is_constant(
    client, story, people, django_assert_max_num_queries, envs
):
    release = story["release"]
    client.force_login(people.aud)
    client.get(f"/audit/releases/{release.pk}/record.json")
    with django_assert_max_num_queries(45) as before:
        client.get(f"/audit/releases/{release.pk}/record.json")
    for _n in range(5):
        DeploymentFactory(release=release, environment=envs["dev"], status="succeeded")
        Approval.objects.create(
            release=release,
            environment=envs["staging"],
            kind="qa_signoff",
            person=people.quinn,
            role="qa",
            decision="approve",
            release_version=release.version,
            state="withdrawn",
        )
    with django_assert_max_num_queries(len(before.captured_queries)):
        client.get(f"/audit/releases/{release.pk}/record.json")


def test_record__a_registered_section_replaces_or_adds(client, release, people):
    saved = dict(_sections)
    try:
        record_section(
            "flags",
            "Feature flag rollout",
            lambda r, ctx: Section(
                "flags", "", tables=[Table("Steps", [("pct", "%")], [{"pct": 10}])]
            ),
            order=75,
        )
        record_section("tests", "Tests", lambda r, ctx: 1 / 0)
        client.force_login(people.aud)
        record = client.get(f"/audit/releases/{release.pk}/record.json").json()
        keys = [s["key"] for s in record["sections"]]
        assert keys.index("flags") > keys.index("monitoring")
        flags = next(s for s in record["sections"] if s["key"] == "flags")
        assert flags["title"] == "Feature flag rollout" and flags["tables"][0]["rows"] == [
            {"pct": 10}
        ]
        broken = next(s for s in record["sections"] if s["key"] == "tests")
        assert "could not be built" in broken["notes"][0]
    finally:
        _sections.clear()
        _sections.update(saved)


def test_release_page__links_to_the_record(client, release, people):
    client.force_login(people.aud)
    response = client.get(f"/releases/{release.pk}/")
    assert response.status_code == 200
    assert f'href="/audit/releases/{release.pk}/record/"' in response.content.decode()
