"""The incident pages: what members and auditors see, forms, and constant queries."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents.models import Incident, PostMortem
from incidents.services import (
    action_item_add,
    incident_open,
    incident_resolve,
    postmortem_update,
    status_update_post,
    timeline_entry_add,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(project, people, prod_deploy):
    prod_deploy("2.2.0", minutes_ago=60)
    return incident_open(
        actor=people.alice,
        project=project,
        title="Checkout answers 500",
        severity=2,
        started_at=timezone.now() - timedelta(minutes=30),
    )


def _grow(incident, people, n):
    for i in range(n):
        status_update_post(actor=people.bob, incident=incident, actions_taken=f"Step {i}")
        timeline_entry_add(actor=people.bob, incident=incident, text=f"Note {i}")


def test_detail__shows_cause_updates_and_timeline(client, people, incident):
    status_update_post(actor=people.bob, incident=incident, actions_taken="Restarted the pods.")
    client.force_login(people.pat)
    page = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert "Checkout answers 500" in page
    assert "proposed by Shipcheck" in page
    assert "Restarted the pods." in page
    assert "automatic" in page
    assert "Post a status update" in page


def test_detail__outsider_gets_404(client, people, incident):
    client.force_login(people.olga)
    assert client.get(reverse("incidents:detail", args=[incident.pk])).status_code == 404


def test_auditor__reads_everything_changes_nothing(client, people, incident):
    client.force_login(people.aud)
    detail = client.get(reverse("incidents:detail", args=[incident.pk]))
    assert detail.status_code == 200
    assert "Post a status update" not in detail.content.decode()
    assert client.get(reverse("incidents:list")).status_code == 200
    for name, data in [
        ("incidents:update", {"state": "identified", "actions_taken": "x"}),
        ("incidents:entry", {"text": "x"}),
        ("incidents:mitigation", {"decision": "rollback", "reason": "x"}),
        ("incidents:hotfix", {"version": "9.9.9"}),
    ]:
        answer = client.post(reverse(name, args=[incident.pk]), data)
        assert answer.status_code == 403, name
    incident.refresh_from_db()
    assert incident.state == "investigating"
    assert not incident.updates.exists()


def test_post_update_from_the_page(client, people, incident):
    client.force_login(people.bob)
    answer = client.post(
        reverse("incidents:update", args=[incident.pk]),
        {"state": "monitoring", "actions_taken": "Rolled back.", "next_steps": "Watch."},
        follow=True,
    )
    assert "Status update posted" in answer.content.decode()
    incident.refresh_from_db()
    assert incident.state == "monitoring"


def test_open_page__bad_input_changes_nothing(client, people, project):
    client.force_login(people.bob)
    answer = client.post(
        reverse("incidents:open"),
        {
            "project": project.pk,
            "title": "Broken",
            "severity": 2,
            "started_at": "2026-01-01 10:00",
            "detected_at": "2025-12-31 10:00",
        },
    )
    assert answer.status_code == 200
    assert "detected before it started" in answer.content.decode()
    assert not Incident.objects.exists()


def test_detail__constant_queries_however_long_the_timeline(
    client, people, incident, django_assert_max_num_queries
):
    client.force_login(people.bob)
    url = reverse("incidents:detail", args=[incident.pk])
    _grow(incident, people, 2)
    with django_assert_max_num_queries(22) as small:
        client.get(url)
    _grow(incident, people, 12)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(url).status_code == 200


def test_postmortem__constant_queries_however_many_items(
    client, people, incident, django_assert_max_num_queries
):
    _grow(incident, people, 2)
    incident_resolve(actor=people.alice, incident=incident)
    postmortem = PostMortem.objects.get(incident=incident)
    postmortem_update(actor=people.alice, postmortem=postmortem, summary="Pool exhausted.")
    client.force_login(people.bob)
    url = reverse("incidents:postmortem", args=[postmortem.pk])
    action_item_add(
        actor=people.alice,
        postmortem=postmortem,
        title="Alert",
        owner=people.bob,
        due_on=date.today(),
    )
    with django_assert_max_num_queries(24) as small:
        assert client.get(url).status_code == 200
    for i in range(10):
        action_item_add(
            actor=people.alice,
            postmortem=postmortem,
            title=f"Item {i}",
            owner=people.quinn,
            due_on=date.today(),
        )
    _grow(incident, people, 0)
    with django_assert_max_num_queries(len(small.captured_queries)):
        page = client.get(url)
    assert "Pool exhausted." in page.content.decode()


def test_list__constant_queries(client, people, project, django_assert_max_num_queries):
    client.force_login(people.bob)
    start = timezone.now() - timedelta(minutes=5)
    for i in range(2):
        incident_open(
            actor=people.alice, project=project, title=f"A{i}", severity=3, started_at=start
        )
    with django_assert_max_num_queries(15) as small:
        client.get(reverse("incidents:list"))
    for i in range(10):
        incident_open(
            actor=people.alice, project=project, title=f"B{i}", severity=3, started_at=start
        )
    with django_assert_max_num_queries(len(small.captured_queries)):
        page = client.get(reverse("incidents:list"))
    assert "B9" in page.content.decode()


def test_release_page__shows_the_incidents_panel(client, people, incident):
    client.force_login(people.aud)
    page = client.get(incident.cause_release.get_absolute_url()).content.decode()
    assert "Incidents and closing" in page
    assert f"#{incident.pk} Checkout answers 500" in page
