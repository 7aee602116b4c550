"""Each person reads and enters times in their own zone, and every time names its zone."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from approvals.models import GoNoGoMeeting
from audit.models import AuditEvent
from core.models import Profile
from core.profiles import COOKIE_NAME

pytestmark = pytest.mark.django_db


def test_account__choose_a_zone__saved_audited_and_used_on_every_page(client, people, release):
    client.force_login(people.alice)
    response = client.post(reverse("account"), {"time_zone": "Asia/Tokyo"})
    assert response.status_code == 302
    assert Profile.objects.get(user=people.alice).time_zone == "Asia/Tokyo"
    event = AuditEvent.objects.get(action="profile.time_zone_changed")
    assert (event.from_state, event.to_state) == ("browser", "Asia/Tokyo")
    body = client.get(reverse("releases:detail", args=[release.pk])).content.decode()
    assert "times in <a" in body and "Asia/Tokyo" in body


def test_account__unknown_zone__clear_message_and_nothing_changed(client, people):
    client.force_login(people.alice)
    response = client.post(reverse("account"), {"time_zone": "Mars/Olympus"})
    assert response.status_code == 200
    assert "is not a time zone" in response.content.decode()
    assert not Profile.objects.exists()
    assert not AuditEvent.objects.filter(action="profile.time_zone_changed").exists()


def test_browser_zone__used_until_the_person_chooses(client, people):
    client.force_login(people.alice)
    client.cookies[COOKIE_NAME] = "America/New_York"
    assert "America/New_York" in client.get(reverse("account")).content.decode()
    client.cookies[COOKIE_NAME] = "not/a zone"
    body = client.get(reverse("account")).content.decode()
    assert "<strong>UTC</strong>" in body


def test_meeting_time__entered_in_the_persons_zone(
    client, people, release, envs, only_approval_gates_for_meeting
):
    client.force_login(people.alice)
    client.post(reverse("account"), {"time_zone": "Europe/Berlin"})
    response = client.post(
        reverse("approvals:meeting-new", args=[release.pk]),
        {
            "environment": envs["production"].pk,
            "scheduled_for": "2030-01-15T10:00",
            "attendees": [people.ada.pk],
        },
    )
    assert response.status_code in (200, 302)
    meeting = GoNoGoMeeting.objects.get(release=release)
    # 10:00 in Berlin in January is 09:00 UTC.
    assert meeting.scheduled_for == datetime.datetime(2030, 1, 15, 9, 0, tzinfo=datetime.UTC)
    body = client.get(meeting.get_absolute_url()).content.decode()
    assert "15 Jan 2030, 10:00 CET" in body


@pytest.fixture
def only_approval_gates_for_meeting(gates_only):
    gates_only("approvals")
