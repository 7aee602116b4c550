"""The configuration API: who may export, plan and apply; errors in the shared shape; the schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from audit.models import AuditEvent
from configfile.schema import config_schema
from monitoring.models import HealthCheck
from monitoring.services.config import policy_update
from projects.services import api_token_create
from tests.configfile.conftest import SECRETS, TEAM_FILE, data_of

pytestmark = pytest.mark.django_db

EXPORT = "/api/v1/projects/payments/config/"
PLAN = "/api/v1/projects/payments/config/plan/"
APPLY = "/api/v1/projects/payments/config/apply/"


def _client(user=None, token=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    if token is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def _body(**extra) -> dict:
    return {"yaml": TEAM_FILE, "secrets": SECRETS, **extra}


def test_schema__is_public_and_equals_the_committed_file(client):
    response = client.get("/api/v1/config/schema.json")
    assert response.status_code == 200
    committed = json.loads((Path(settings.BASE_DIR) / "docs" / "shipcheck.schema.json").read_text())
    assert response.json() == committed == json.loads(json.dumps(config_schema()))
    assert "environments" in committed["properties"]


def test_export__admin_and_auditor_read_it__outsider_gets_404(configured, people):
    for person in (people.adam, people.aud, people.alice):
        response = _client(people.adam if person is None else person).get(EXPORT)
        assert response.status_code == 200, person
        body = response.json()
        assert data_of(body["yaml"])["environments"][2]["name"] == "production"
        assert len(body["fingerprint"]) == 64
        assert SECRETS["PAYMENTS_HOOK_TOKEN"] not in body["yaml"]
    response = _client(people.olga).get(EXPORT)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert _client(people.adam).get("/api/v1/projects/nope/config/").status_code == 404


def test_export__anonymous__401(client, configured):
    assert client.get(EXPORT).status_code in (401, 403)


def test_plan_and_apply__over_the_api(project, people):
    admin = _client(people.adam)
    plan = admin.post(PLAN, _body(), format="json")
    assert plan.status_code == 200, plan.json()
    assert plan.json()["applied"] is False and plan.json()["changes"]
    assert not HealthCheck.objects.exists()
    applied = admin.post(APPLY, _body(expect=plan.json()["fingerprint"]), format="json")
    assert applied.status_code == 200, applied.json()
    assert applied.json()["applied"] is True
    assert applied.json()["changes"] == plan.json()["changes"]
    again = admin.post(APPLY, _body(), format="json")
    assert again.json() == {**again.json(), "applied": False, "changes": []}
    assert AuditEvent.objects.filter(action="config.applied").count() == 1


def test_apply__stale_plan__409(project, people, envs):
    admin = _client(people.adam)
    fingerprint = admin.post(PLAN, _body(), format="json").json()["fingerprint"]
    policy_update(environment=envs["production"], actor=people.adam, canary_percent=40)
    response = admin.post(APPLY, _body(expect=fingerprint), format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "stale_plan"
    assert "changed since this plan" in body["message"]
    assert body["details"]["expected_fingerprint"] == fingerprint
    assert not HealthCheck.objects.exists()


def test_apply__bad_file__400_with_every_error_and_its_line(project, people):
    text = "version: 1\nenvironments:\n  - name: dev\n    tier: dev\n    extra: 1\n"
    response = _client(people.adam).post(APPLY, {"yaml": text}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "config_invalid"
    assert [(e["line"], e["path"]) for e in body["details"]["errors"]] == [
        (4, "environments[0].tier"),
        (5, "environments[0].extra"),
    ]


@pytest.mark.parametrize("body", [{}, {"yaml": 5}, {"yaml": "x", "secrets": ["a"]}, "not json"])
def test_apply__malformed_body__400(project, people, body):
    response = _client(people.adam).post(APPLY, body, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"error", "message", "details"}


@pytest.mark.parametrize("url", [PLAN, APPLY])
def test_plan_and_apply__auditor_and_release_manager_403__outsider_404(project, people, url):
    for person in (people.aud, people.alice):
        response = _client(person).post(url, _body(), format="json")
        assert response.status_code == 403, person
        assert response.json()["error"] == "forbidden"
    # Refused before the body is read: even a broken body gets 403/404, never a 400.
    assert _client(people.aud).post(url, {"yaml": 1}, format="json").status_code == 403
    assert _client(people.olga).post(url, _body(), format="json").status_code == 404
    assert not AuditEvent.objects.filter(action="config.applied").exists()


def test_staff__may_plan_a_project_they_hold_no_role_in(project, people):
    from tests.factories import UserFactory

    staff = UserFactory(username="sam", is_staff=True)
    assert _client(staff).get(EXPORT).status_code == 200
    response = _client(staff).post(PLAN, _body(), format="json")
    assert response.status_code == 200, response.json()
    # Approval policies and monitoring are for the project's admins: sam names themselves one.
    text = TEAM_FILE.replace("admin: [adam]", "admin: [adam, sam]")
    response = _client(staff).post(APPLY, _body(yaml=text), format="json")
    assert response.status_code == 200, response.json()
    assert AuditEvent.objects.get(action="config.applied").actor_id == staff.pk


def test_config_token__plans_and_applies_for_its_creator(project, people):
    _token, plain = api_token_create(
        project=project, name="repo", scopes=["config"], actor=people.adam
    )
    client = _client(token=plain)
    assert client.get(EXPORT).status_code == 200
    response = client.post(APPLY, _body(), format="json")
    assert response.status_code == 200, response.json()
    event = AuditEvent.objects.get(action="config.applied")
    assert event.actor_id == people.adam.pk
    assert event.data["token"] == _token.prefix


def test_read_token__exports_but_may_not_plan(project, people):
    _token, plain = api_token_create(project=project, name="ci", scopes=["read"], actor=people.adam)
    client = _client(token=plain)
    assert client.get(EXPORT).status_code == 200
    response = client.post(PLAN, _body(), format="json")
    assert response.status_code == 403
    assert response.json()["error"] == "missing_scope"


def test_config_token__whose_creator_lost_the_admin_role__is_refused(project, people):
    from projects.services import membership_grant, membership_revoke

    _token, plain = api_token_create(
        project=project, name="repo", scopes=["config"], actor=people.adam
    )
    membership_grant(project=project, user=people.emma, role="admin", actor=None)
    membership_revoke(project=project, user=people.adam, role="admin", actor=None)
    response = _client(token=plain).post(PLAN, _body(), format="json")
    assert response.status_code == 403
    assert "no longer an admin" in response.json()["message"]


def test_token_of_another_project__404(project, other_project, people):
    _token, plain = api_token_create(
        project=other_project, name="x", scopes=["config", "read"], actor=people.olga
    )
    client = _client(token=plain)
    assert client.get(EXPORT).status_code == 404
    assert client.post(APPLY, _body(), format="json").status_code == 404
