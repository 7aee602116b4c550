"""Scheduling: planned times per environment, conflict warnings and the 24-hour reminder."""

from __future__ import annotations

from datetime import timedelta

import pytest

from audit.models import AuditEvent
from core.exceptions import PermissionDenied
from core.models import Notification
from deploycalendar.services import schedule_reminders_send, schedule_set
from releases.services import release_create
from tests.deploycalendar.conftest import minute

pytestmark = pytest.mark.django_db


def test_plan__conflicts_are_warned(release, project, people, envs, freeze_now):
    plan, warnings = schedule_set(
        release=release, environment=envs["production"], planned_at=minute(600), actor=people.alice
    )
    assert warnings == [] and AuditEvent.objects.filter(action="calendar.scheduled").count() == 1
    other = release_create(
        project=project, version="2.5.0", title="x", actor=people.alice, rollback_plan="x"
    )
    _plan, warnings = schedule_set(
        release=other, environment=envs["production"], planned_at=minute(630), actor=people.alice
    )
    assert warnings and "2.4.0 is planned in production" in warnings[0]
    freeze_now()
    _plan, warnings = schedule_set(
        release=other, environment=envs["production"], planned_at=minute(30), actor=people.alice
    )
    assert any("frozen ('Year-end freeze')" in w for w in warnings)


def test_plan__outsider_and_qa_may_not(release, people, envs):
    from core.exceptions import NotFound

    with pytest.raises(NotFound):
        schedule_set(
            release=release,
            environment=envs["production"],
            planned_at=minute(60),
            actor=people.olga,
        )
    with pytest.raises(PermissionDenied):
        schedule_set(
            release=release,
            environment=envs["production"],
            planned_at=minute(60),
            actor=people.quinn,
        )


def test_reminder__once_a_day_ahead_of_production_only(release, people, envs):
    schedule_set(
        release=release,
        environment=envs["production"],
        planned_at=minute(60 * 30),
        actor=people.alice,
    )
    schedule_set(
        release=release, environment=envs["staging"], planned_at=minute(60), actor=people.alice
    )
    assert schedule_reminders_send() == 0  # 30 hours ahead: not yet
    assert schedule_reminders_send(now=minute(60 * 7)) == 1
    assert schedule_reminders_send(now=minute(60 * 8)) == 0
    note = Notification.objects.get(recipient=people.alice, subject__startswith="Tomorrow:")
    assert "2.4.0 goes to production" in note.subject
    # A new time resets it.
    schedule_set(
        release=release,
        environment=envs["production"],
        planned_at=minute(60 * 40),
        actor=people.alice,
    )
    assert schedule_reminders_send(now=minute(60 * 17)) == 1
    assert minute(60 * 40) - minute(60 * 17) <= timedelta(hours=24)


def test_calendar_shows_plans_with_their_conflict(client, release, people, envs, freeze_now):
    freeze_now()
    schedule_set(
        release=release, environment=envs["production"], planned_at=minute(30), actor=people.alice
    )
    client.force_login(people.alice)
    body = client.get("/calendar/?view=week").content.decode()
    assert "2.4.0 → production" in body and "Inside the freeze &#x27;Year-end freeze&#x27;" in body


def test_release_panel_plan_form(client, release, people, envs):
    client.force_login(people.alice)
    when = minute(120).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        f"/releases/{release.pk}/calendar/schedule/",
        {"environment": envs["production"].pk, "planned_at": when + "+00:00"},
    )
    assert response.status_code == 302
    page = client.get(release.get_absolute_url()).content.decode()
    assert 'id="plan-production"' in page
    bad = client.post(
        f"/releases/{release.pk}/calendar/schedule/",
        {"environment": envs["production"].pk, "planned_at": "soon"},
        headers={"HX-Request": "true"},
    )
    assert bad.status_code == 200 and "Give the planned date" in bad.content.decode()
