"""The incidents API: alerting tools open incidents; order of checks; auditors read only."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from incidents.models import Incident, PostMortem
from incidents.services import action_item_add, incident_open

pytestmark = pytest.mark.django_db

URL = "/api/v1/incidents/"


def _body(**kw):
    body = {
        "project": "payments",
        "title": "Error rate above 5 %",
        "severity": "SEV2",
        "started_at": (timezone.now() - timedelta(minutes=15)).isoformat(),
    }
    body.update(kw)
    return body


def test_alerting_tool_opens_an_incident_with_proposed_cause(token_client, people, prod_deploy):
    cause = prod_deploy("2.2.0", minutes_ago=40)
    answer = token_client("deployments").post(URL, _body(), format="json")
    assert answer.status_code == 201, answer.json()
    data = answer.json()
    assert data["severity_label"] == "SEV2" and data["state"] == "investigating"
    assert data["cause_deployment"] == cause.pk and data["cause_proposed"] is True
    assert data["cause_release_version"] == "2.2.0"


def test_token_without_deployments_scope__403_before_body(token_client):
    answer = token_client("read").post(URL, {}, format="json")
    assert answer.status_code == 403
    assert answer.json()["error"] == "missing_scope"


def test_auditor__403_whatever_the_body(api, people):
    answer = api(people.aud).post(URL, {"project": "payments"}, format="json")
    assert answer.status_code == 403
    answer = api(people.aud).post(URL, {}, format="json")
    assert answer.status_code == 403
    assert not Incident.objects.exists()


def test_outsider__404_for_the_project(api, people):
    answer = api(people.olga).post(URL, _body(), format="json")
    assert answer.status_code == 404


def test_bad_body__400_naming_the_problem(api, people):
    answer = api(people.bob).post(URL, _body(severity="SEV9"), format="json")
    assert answer.status_code == 400
    assert "SEV1, SEV2, SEV3 or SEV4" in answer.json()["message"]
    answer = api(people.bob).post(URL, _body(responders=["olga"]), format="json")
    assert answer.status_code == 400 and "olga" in answer.json()["message"]
    answer = api(people.bob).post(URL, _body(started_at="yesterday"), format="json")
    assert answer.status_code == 400
    assert not Incident.objects.exists()


def test_update_resolve_and_read_back(api, people, project):
    incident = incident_open(
        actor=people.alice,
        project=project,
        title="Slow",
        severity=1,
        started_at=timezone.now() - timedelta(minutes=30),
    )
    client = api(people.bob)
    url = f"{URL}{incident.pk}/"
    answer = client.post(
        url + "updates/", {"state": "identified", "actions_taken": "Found it."}, format="json"
    )
    assert answer.status_code == 201 and "STATUS: Identified" in answer.json()["body"]
    answer = client.post(
        url + "resolve/",
        {"resolved_at": (timezone.now() - timedelta(hours=2)).isoformat()},
        format="json",
    )
    assert answer.status_code == 400 and "before it started" in answer.json()["message"]
    answer = client.post(url + "resolve/", {}, format="json")
    assert answer.status_code == 200 and answer.json()["state"] == "resolved"
    answer = client.post(url + "updates/", {"actions_taken": "More."}, format="json")
    assert answer.status_code == 400 and "resolved" in answer.json()["message"]
    timeline = api(people.aud).get(url + "timeline/").json()
    assert [t["kind"] for t in timeline if t["automatic"]][0] == "state"
    detail = api(people.aud).get(url).json()
    assert detail["postmortem"] is not None and len(detail["updates"]) == 1


def test_postmortem_close_with_open_items__refused_with_the_list(api, people, project):
    incident = incident_open(
        actor=people.alice,
        project=project,
        title="Down",
        severity=2,
        started_at=timezone.now() - timedelta(minutes=30),
    )
    client = api(people.alice)
    client.post(f"{URL}{incident.pk}/resolve/", {}, format="json")
    postmortem = PostMortem.objects.get(incident=incident)
    action_item_add(
        actor=people.alice,
        postmortem=postmortem,
        title="Add a pool alert",
        owner=people.bob,
        due_on=date.today(),
    )
    pm = f"/api/v1/postmortems/{postmortem.pk}/"
    assert (
        client.patch(
            pm, {"summary": "Pool ran dry.", "root_causes": "Limit too low."}, format="json"
        ).status_code
        == 200
    )
    for state in ("in_review", "reviewed"):
        assert client.post(pm + "state/", {"state": state}, format="json").status_code == 200
    answer = client.post(pm + "state/", {"state": "closed"}, format="json")
    assert answer.status_code == 400
    assert "Add a pool alert (bob, due" in answer.json()["message"]
    item = postmortem.items.get()
    assert (
        client.post(pm + f"items/{item.pk}/done/", {"done": True}, format="json").status_code == 200
    )
    answer = client.post(pm + "state/", {"state": "closed"}, format="json")
    assert answer.status_code == 200 and answer.json()["state"] == "closed"
    # The auditor reads it and may not change it.
    assert api(people.aud).get(pm).json()["state"] == "closed"
    assert api(people.aud).patch(pm, {"summary": "x"}, format="json").status_code == 403


def test_list__auditor_reads_outsider_sees_nothing(api, people, project):
    incident_open(
        actor=people.alice,
        project=project,
        title="One",
        severity=3,
        started_at=timezone.now() - timedelta(minutes=3),
    )
    assert api(people.aud).get(URL).json()["count"] == 1
    assert api(people.olga).get(URL).json()["count"] == 0
