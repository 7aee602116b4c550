"""The calendar API: windows, freezes, overrides, the queue and GET /api/v1/calendar/."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from deploycalendar.models import Freeze, QueuedPromotion
from projects.services import api_token_create
from tests.deploycalendar.conftest import minute, wall

pytestmark = pytest.mark.django_db


def api(user=None):
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


WINDOW = {
    "project": "payments",
    "environment": "production",
    "name": "Prod hours",
    "start": "2026-01-06T10:00",
    "end": "2026-01-06T16:00",
    "time_zone": "Europe/Berlin",
    "rrule": "FREQ=WEEKLY;BYDAY=TU,WE,TH",
}


def test_window_create_list_delete(people, project):
    created = api(people.alice).post("/api/v1/calendar/windows/", WINDOW, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["summary"] == "Tue–Thu 10:00–16:00 Europe/Berlin"
    listed = api(people.alice).get("/api/v1/calendar/windows/?project=payments").json()
    assert listed["count"] == 1
    assert api(people.olga).get("/api/v1/calendar/windows/").json()["count"] == 0
    assert (
        api(people.olga).delete(f"/api/v1/calendar/windows/{created.json()['id']}/").status_code
        == 404
    )
    assert (
        api(people.alice).delete(f"/api/v1/calendar/windows/{created.json()['id']}/").status_code
        == 204
    )
    assert api(people.alice).get("/api/v1/calendar/windows/").json()["count"] == 0


@pytest.mark.parametrize(
    "change,status,code",
    [
        ({"time_zone": "Nowhere/City"}, 400, "validation_failed"),
        ({"end": "2026-01-06T09:00"}, 400, "validation_failed"),
        ({"rrule": "FREQ=WEEKLY;BYDAY=XX"}, 400, "validation_failed"),
        ({"environment": "moon"}, 404, "not_found"),
    ],
)
def test_window_bad_input__clear_error(people, project, change, status, code):
    response = api(people.alice).post(
        "/api/v1/calendar/windows/", {**WINDOW, **change}, format="json"
    )
    assert response.status_code == status
    assert response.json()["message"]


def test_engineer_and_token_may_not_add(people, project):
    assert (
        api(people.bob).post("/api/v1/calendar/windows/", WINDOW, format="json").status_code == 403
    )
    token = api_token_create(
        project=project, name="ci", scopes=["read", "deployments"], actor=people.adam
    )[1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = client.post("/api/v1/calendar/windows/", WINDOW, format="json")
    assert response.status_code == 403 and response.json()["error"] == "people_only"


def test_freeze_cron_and_organisation_wide(people, project, django_user_model):
    body = {
        "project": "payments",
        "environment": "production",
        "name": "Weekend",
        "cron_start": "0 23 * * 5",
        "cron_end": "0 7 * * 1",
        "time_zone": "UTC",
    }
    response = api(people.alice).post("/api/v1/calendar/freezes/", body, format="json")
    assert response.status_code == 201 and response.json()["rrule"] == "FREQ=WEEKLY;BYDAY=FR"
    org = {
        "name": "Holiday",
        "start": "2026-12-24T00:00",
        "end": "2026-12-27T00:00",
        "time_zone": "UTC",
    }
    assert api(people.adam).post("/api/v1/calendar/freezes/", org, format="json").status_code == 403
    staff = django_user_model.objects.create_user("root", is_staff=True)
    response = api(staff).post("/api/v1/calendar/freezes/", org, format="json")
    assert response.status_code == 201 and response.json()["organisation_wide"] is True
    assert Freeze.objects.count() == 2


def test_queue_override_and_calendar(staged, people, envs, window_later):
    window_later(120)
    queued = api(people.alice).post(
        "/api/v1/calendar/queue/",
        {"release": staged.pk, "environment": "production"},
        format="json",
    )
    assert queued.status_code == 201, queued.json()
    assert queued.json()["status"] == "waiting"
    again = api(people.alice).post(
        "/api/v1/calendar/queue/",
        {"release": staged.pk, "environment": "production"},
        format="json",
    )
    assert again.status_code == 409
    cancel = api(people.bob).post(f"/api/v1/calendar/queue/{queued.json()['id']}/cancel/")
    assert cancel.status_code == 200 and cancel.json()["status"] == "cancelled"
    assert QueuedPromotion.objects.get().status == "cancelled"
    own = api(people.alice).post(
        "/api/v1/calendar/overrides/",
        {"release": staged.pk, "environment": "production", "reason": "Must go now, outage."},
        format="json",
    )
    assert own.status_code == 403
    granted = api(people.emma).post(
        "/api/v1/calendar/overrides/",
        {"release": staged.pk, "environment": "production", "reason": "Must go now, outage."},
        format="json",
    )
    assert granted.status_code == 201 and granted.json()["granted_by"] == "emma"
    cal = api(people.alice).get(f"/api/v1/calendar/?from={wall(minute(0))[:10]}&project=payments")
    assert cal.status_code == 200
    kinds = {b["kind"] for b in cal.json()["bands"]}
    assert "allowed" in kinds
    assert {d["environment"] for d in cal.json()["deployments"]} >= {"dev", "staging"}


@pytest.mark.parametrize(
    "query", ["from=yesterday", "from=2026-01-10&to=2026-01-01", "from=2026-01-01&to=2027-01-01"]
)
def test_calendar_bad_range__400(people, project, query):
    response = api(people.alice).get(f"/api/v1/calendar/?{query}")
    assert response.status_code == 400 and response.json()["message"]


def test_calendar_unknown_project__404(people, project):
    assert api(people.olga).get("/api/v1/calendar/?project=payments").status_code == 404
