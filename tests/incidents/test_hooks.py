"""What the incidents app adds to other pages: the failed-canary offer, the record, the panel."""

from __future__ import annotations

import pytest
from django.urls import reverse

from incidents.models import Incident
from releases.registry import urgent_for

pytestmark = pytest.mark.django_db


def test_failed_production_canary__offers_a_prefilled_incident(
    client, people, release, failed_canary
):
    window = failed_canary()
    assert window.status == "failed"
    offers = [
        u
        for u in urgent_for(user=people.alice, releases=[release])
        if "Open an incident" in u.title
    ]
    assert len(offers) == 1
    url = offers[0].actions[0].url
    assert f"window={window.pk}" in url
    assert not [
        u for u in urgent_for(user=people.aud, releases=[release]) if "Open an incident" in u.title
    ]

    client.force_login(people.alice)
    form = client.get(url).content.decode()
    assert "Pre-filled from the failed canary" in form
    assert "Checkout errors at 12 %." in form
    answer = client.post(
        reverse("incidents:open"),
        {
            "project": release.project_id,
            "window": window.pk,
            "title": "2.4.0 canary failed",
            "severity": 2,
            "started_at": window.deployment.started_at.strftime("%Y-%m-%d %H:%M:%S"),
            "cause_deployment": window.deployment.pk,
        },
    )
    incident = Incident.objects.get()
    assert answer.status_code == 302 and answer.url == reverse(
        "incidents:detail", args=[incident.pk]
    )
    assert incident.cause_deployment == window.deployment and incident.cause_release == release
    assert incident.details.monitoring_window == window
    # Once opened, the offer goes away.
    assert not [
        u
        for u in urgent_for(user=people.alice, releases=[release])
        if "Open an incident" in u.title
    ]


def test_release_record__shows_incident_reports_to_the_auditor(
    client, people, release, failed_canary
):
    from datetime import timedelta

    from incidents.services import incident_open

    window = failed_canary()
    incident_open(
        actor=people.alice,
        project=release.project,
        title="Checkout errors after 2.4.0",
        severity=2,
        started_at=window.deployment.started_at + timedelta(seconds=1),
    )
    client.force_login(people.aud)
    page = client.get(reverse("audit:record", args=[release.pk])).content.decode()
    assert "Incident reports and closing" in page
    assert "Checkout errors after 2.4.0" in page
    data = client.get(reverse("audit:record-json", args=[release.pk])).json()
    assert any(s["key"] == "incident_reports" for s in data["sections"])
