"""The iCalendar feed: parsed back with icalendar, expanded with recurring-ical-events."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import recurring_ical_events
from icalendar import Calendar

from deploycalendar.models import DeployWindow, FeedToken, Freeze
from deploycalendar.rules import occurrences
from deploycalendar.services import (
    calendar_rule_remove,
    feed_token_create,
    feed_token_revoke,
    freeze_create,
    window_create,
)
from releases.services import release_cancel, release_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def rules(envs, people):
    window_create(
        environment=envs["production"],
        actor=people.alice,
        name="Prod hours",
        start="2026-01-06T10:00",
        end="2026-01-06T16:00",
        time_zone="Europe/Berlin",
        rrule="FREQ=WEEKLY;BYDAY=TU,WE,TH",
        exdates=["2026-12-29T10:00"],
    )
    freeze_create(
        environment=envs["production"],
        actor=people.alice,
        name="Weekend",
        start="2026-01-02T18:00",
        end="2026-01-05T08:00",
        time_zone="America/New_York",
        rrule="FREQ=WEEKLY;BYDAY=FR",
    )
    freeze_create(
        environment=envs["production"],
        actor=people.alice,
        name="Year end",
        start="2025-12-20T00:00",
        end="2026-01-05T06:00",
        time_zone="Europe/Berlin",
        rrule="FREQ=YEARLY",
    )


def _feed(client, plain, query=""):
    response = client.get(f"/calendar/feed/{plain}.ics{query}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/calendar")
    return Calendar.from_ical(response.content)


def test_feed__a_year_of_occurrences_equals_the_apps_own(client, people, rules):
    plain = feed_token_create(actor=people.alice)
    calendar = _feed(client, plain, "?project=payments")
    events = list(calendar.walk("VEVENT"))
    assert events and all(e.get("UID") and e.get("DTSTAMP") for e in events)
    tzids = {tz["TZID"] for tz in calendar.walk("VTIMEZONE")}
    assert tzids >= {"Europe/Berlin", "America/New_York"}
    start, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    theirs = {}
    for occurrence in recurring_ical_events.of(calendar).between(start, end):
        uid = str(occurrence["UID"])
        theirs.setdefault(uid, set()).add(
            (occurrence["DTSTART"].dt.astimezone(UTC), occurrence["DTEND"].dt.astimezone(UTC))
        )
    for row in (*DeployWindow.objects.all(), *Freeze.objects.all()):
        kind = "freeze" if isinstance(row, Freeze) else "window"
        ours = {(i.start, i.end) for i in occurrences(row.as_rule(), start, end)}
        uid = next(u for u in theirs if u.startswith(f"{kind}-{row.pk}@"))
        assert theirs[uid] == ours, row.name
        assert len(ours) > 1


def test_feed__cancelled_release_stays_with_status_cancelled_and_sequence_rises(
    client, people, project, envs, gates_only
):
    from tests.deploycalendar.conftest import deploy

    gates_only("deploycalendar")
    release = release_create(
        project=project, version="9.0.0", title="x", actor=people.alice, rollback_plan="x"
    )
    deploy(release, envs["dev"], people.alice)
    plain = feed_token_create(actor=people.alice)
    before = [e for e in _feed(client, plain).walk("VEVENT") if "9.0.0" in str(e["SUMMARY"])][0]
    release_cancel(release=release, actor=people.alice, reason="Dropped from the plan.")
    after = [e for e in _feed(client, plain).walk("VEVENT") if "9.0.0" in str(e["SUMMARY"])][0]
    assert str(after["STATUS"]) == "CANCELLED" and str(before["STATUS"]) == "CONFIRMED"
    assert after["UID"] == before["UID"]
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])


def test_feed__removed_freeze_is_cancelled(client, people, rules):
    plain = feed_token_create(actor=people.alice)
    freeze = Freeze.objects.get(name="Weekend")
    calendar_rule_remove(rule=freeze, actor=people.alice)
    event = next(
        e
        for e in _feed(client, plain).walk("VEVENT")
        if str(e["UID"]).startswith(f"freeze-{freeze.pk}@")
    )
    assert str(event["STATUS"]) == "CANCELLED" and int(event["SEQUENCE"]) == 1


def test_feed_token__only_hash_kept__revoked_url_is_404(client, people, project):
    plain = feed_token_create(actor=people.alice)
    assert not FeedToken.objects.filter(token_hash=plain).exists()
    assert plain not in str(list(FeedToken.objects.values_list("token_hash", flat=True)))
    assert client.get(f"/calendar/feed/{plain}.ics").status_code == 200
    newer = feed_token_create(actor=people.alice)
    assert client.get(f"/calendar/feed/{plain}.ics").status_code == 404
    feed_token_revoke(actor=people.alice)
    assert client.get(f"/calendar/feed/{newer}.ics").status_code == 404
    assert client.get("/calendar/feed/guess.ics").status_code == 404


def test_feed__outsider_project_404_and_constant_queries(
    client, people, project, envs, gates_only, django_assert_max_num_queries
):
    from tests.deploycalendar.conftest import deploy

    plain = feed_token_create(actor=people.olga)
    assert client.get(f"/calendar/feed/{plain}.ics?project=payments").status_code == 404
    gates_only("deploycalendar")
    mine = feed_token_create(actor=people.alice)
    for count in (1, 6):
        for i in range(count):
            r = release_create(
                project=project,
                version=f"4.{count}.{i}",
                title="x",
                actor=people.alice,
                rollback_plan="x",
            )
            deploy(r, envs["dev"], people.alice)
        with django_assert_max_num_queries(8):
            client.get(f"/calendar/feed/{mine}.ics?mine=1")
