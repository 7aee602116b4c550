"""The calendar page and the release-page panel: what a person sees, in constant queries."""

from __future__ import annotations

import pytest
from django.utils import timezone

from deploycalendar.models import Override, QueuedPromotion
from releases.services import release_create
from tests.deploycalendar.conftest import deploy

pytestmark = pytest.mark.django_db


def test_calendar__shows_freeze_band_deployments_today_and_rules(
    client, staged, people, freeze_now, window_later
):
    freeze_now()
    window_later(120)
    client.force_login(people.alice)
    response = client.get("/calendar/?project=payments")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'class="calendar-band band-freeze"' in body and "Year-end freeze" in body
    assert 'aria-current="date"' in body
    assert "2.4.0 → staging" in body and "badge-succeeded" in body
    assert "every day " in body  # the window's rule in plain words
    week = client.get("/calendar/?view=week&project=payments").content.decode()
    assert "Week of" in week and "band-freeze" in week


def test_calendar__htmx_answers_the_fragment(client, staged, people):
    client.force_login(people.alice)
    body = client.get("/calendar/", headers={"HX-Request": "true"}).content.decode()
    assert body.lstrip().startswith("{#") is False and '<section id="calendar"' in body
    assert "<html" not in body


def test_calendar__outsider_sees_nothing_of_the_project(client, staged, people, freeze_now):
    freeze_now()
    client.force_login(people.olga)
    assert client.get("/calendar/?project=payments").status_code == 404
    assert "Year-end freeze" not in client.get("/calendar/").content.decode()


def test_calendar__bad_date_falls_back_to_today(client, people, project):
    client.force_login(people.alice)
    response = client.get("/calendar/?date=2026-13-45&view=nonsense")
    assert response.status_code == 200
    assert timezone.localdate().strftime("%B %Y") in response.content.decode()


@pytest.mark.parametrize("count", [1, 8])
def test_calendar__constant_queries(
    client, project, people, envs, gates_only, freeze_now, count, django_assert_max_num_queries
):
    gates_only("deploycalendar")
    for i in range(count):
        r = release_create(
            project=project, version=f"3.{i}.0", title="x", actor=people.alice, rollback_plan="x"
        )
        deploy(r, envs["dev"], people.alice)
        freeze_now(envs["staging"], name=f"Freeze {i}")
    client.force_login(people.alice)
    with django_assert_max_num_queries(14):
        response = client.get("/calendar/")
    assert response.content.decode().count("→ dev") == count


def test_release_panel__queue_and_override_buttons(
    client, staged, people, envs, freeze_now, window_later
):
    window_later(120)
    client.force_login(people.alice)
    page = client.get(staged.get_absolute_url()).content.decode()
    assert "Outside the production deploy window" in page
    assert "Queue for " in page
    response = client.post(
        f"/releases/{staged.pk}/calendar/queue/", {"environment": envs["production"].pk}
    )
    assert response.status_code == 302
    item = QueuedPromotion.objects.get()
    assert item.status == "waiting"
    page = client.get(staged.get_absolute_url()).content.decode()
    assert "Waiting for the window" in page
    # The release manager may not override her own release; the emergency approver may.
    client.post(
        f"/releases/{staged.pk}/calendar/override/",
        {"environment": envs["production"].pk, "reason": "x" * 20},
    )
    assert not Override.objects.exists()
    client.force_login(people.emma)
    client.post(
        f"/releases/{staged.pk}/calendar/override/",
        {"environment": envs["production"].pk, "reason": "Outage: must ship now."},
    )
    assert Override.objects.get().reason == "Outage: must ship now."
    page = client.get(staged.get_absolute_url()).content.decode()
    assert "Freeze overridden for production" in page and "freeze overridden" in page
