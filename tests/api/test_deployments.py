"""Promotion, deployments and the gate answer over the API, for people and tokens."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from audit.selectors import audit_chain_verify
from releases.models import Deployment

pytestmark = pytest.mark.usefixtures("core_gates")


def promote_url(release) -> str:
    return f"/api/v1/releases/{release.pk}/promote/"


def gates_url(release, environment: str) -> str:
    return f"/api/v1/releases/{release.pk}/gates/{environment}/"


def finish_url(deployment_id) -> str:
    return f"/api/v1/deployments/{deployment_id}/finish/"


def _deploy(client, release, environment: str) -> dict:
    response = client.post(promote_url(release), {"environment": environment}, format="json")
    assert response.status_code == 201, response.json()
    deployment = response.json()
    finished = client.post(finish_url(deployment["id"]), {"succeeded": True}, format="json")
    assert finished.status_code == 200, finished.json()
    return finished.json()


# --- Promote ------------------------------------------------------------------------


def test_promote__to_dev__starts_a_deployment(api, people, release):
    response = api(people.bob).post(
        promote_url(release),
        {
            "environment": "dev",
            "strategy": "canary",
            "artifact_version": "payments:2.4.0",
            "commit_sha": "abc1234",
        },
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["environment"], body["status"], body["strategy"]) == (
        "dev",
        "in_progress",
        "canary",
    )
    assert (body["deployed_by"], body["release_version"]) == ("bob", "2.4.0")
    assert (
        AuditEvent.objects.filter(action="deployment.started", object_id=str(body["id"])).count()
        == 1
    )
    release.refresh_from_db()
    assert release.status == "in_progress"


def test_promote__closed_gate__is_409_with_every_reason_and_changes_nothing(api, people, release):
    events_before = AuditEvent.objects.count()

    response = api(people.bob).post(
        promote_url(release), {"environment": "production"}, format="json"
    )

    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "gate_closed"
    assert body["details"]["environment"] == "production"
    closed = {g["code"]: g["reason"] for g in body["details"]["gates"] if g["state"] == "closed"}
    assert closed["order"] == "Not yet deployed successfully to Staging."
    assert "Not yet deployed successfully to Staging." in body["message"]
    assert not Deployment.objects.exists()
    assert AuditEvent.objects.count() == events_before


def test_promote__all_the_way__releases_the_release(api, people, release):
    client = api(people.bob)
    for environment in ("dev", "staging", "production"):
        finished = _deploy(client, release, environment)
        assert finished["status"] == "succeeded"

    release.refresh_from_db()
    assert release.status == "released"
    pipeline = client.get(f"/api/v1/releases/{release.pk}/").json()["pipeline"]
    assert [stage["deployment"]["status"] for stage in pipeline] == ["succeeded"] * 3
    assert audit_chain_verify()[1] is None


def test_promote__unknown_environment__is_a_json_404(api, people, release):
    response = api(people.bob).post(promote_url(release), {"environment": "moon"}, format="json")

    assert response.status_code == 404
    assert response.json()["message"] == "No environment 'moon' in this project."
    assert not Deployment.objects.exists()


def test_promote__auditor__is_forbidden(api, people, release):
    response = api(people.aud).post(promote_url(release), {"environment": "dev"}, format="json")

    assert response.status_code == 403
    assert not Deployment.objects.exists()


def test_promote__outsider__gets_404(api, people, release):
    response = api(people.olga).post(promote_url(release), {"environment": "dev"}, format="json")

    assert response.status_code == 404
    assert not Deployment.objects.exists()


# --- The gate answer ------------------------------------------------------------------


def test_gates__all_open__answer_200_with_every_gate(api, people, release):
    response = api(people.aud).get(gates_url(release, "dev"))

    assert response.status_code == 200
    body = response.json()
    assert body["open"] is True
    assert body["environment"] == "dev"
    assert {g["code"] for g in body["gates"]} >= {"release_open", "order", "environment_free"}


def test_gates__closed__answer_409_in_the_error_shape(api, people, project, release):
    release.rollback_plan = ""
    release.save()

    response = api(people.alice).get(gates_url(release, "production"))

    assert response.status_code == 409
    body = response.json()
    assert set(body) == {"error", "message", "details"}
    reasons = {g["code"]: g["reason"] for g in body["details"]["gates"] if g["state"] == "closed"}
    assert reasons == {
        "order": "Not yet deployed successfully to Staging.",
        "rollback_plan": "No rollback plan is written; production needs one.",
    }


def test_gates__unknown_environment__is_a_json_404(api, people, release):
    response = api(people.alice).get(gates_url(release, "nowhere"))

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_gates__outsider__gets_404(api, people, release):
    assert api(people.olga).get(gates_url(release, "dev")).status_code == 404


# --- Finish, rollback, list ----------------------------------------------------------


def test_finish__failed__records_the_reason(api, people, release):
    client = api(people.bob)
    deployment = client.post(promote_url(release), {"environment": "dev"}, format="json").json()

    response = client.post(
        finish_url(deployment["id"]),
        {"succeeded": False, "reason": "Migrations timed out."},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["status"] == "failed"
    event = AuditEvent.objects.get(action="deployment.failed")
    assert event.reason == "Migrations timed out."


def test_finish__twice__is_a_conflict(api, people, release):
    client = api(people.bob)
    finished = _deploy(client, release, "dev")

    response = client.post(finish_url(finished["id"]), {"succeeded": True}, format="json")

    assert response.status_code == 409
    assert response.json()["error"] == "transition_not_allowed"


def test_rollback__production__rolls_the_release_back(api, people, release):
    client = api(people.bob)
    for environment in ("dev", "staging"):
        _deploy(client, release, environment)
    production = _deploy(client, release, "production")

    response = client.post(
        f"/api/v1/deployments/{production['id']}/rollback/",
        {"reason": "Error rate doubled."},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["status"] == "rolled_back"
    release.refresh_from_db()
    assert release.status == "rolled_back"


def test_rollback__without_reason__is_refused(api, people, release):
    client = api(people.bob)
    finished = _deploy(client, release, "dev")

    response = client.post(f"/api/v1/deployments/{finished['id']}/rollback/", {}, format="json")

    assert response.status_code == 400
    assert "reason" in response.json()["details"]
    assert Deployment.objects.get().status == "succeeded"


def test_deployments__lists_newest_first(api, people, release):
    client = api(people.bob)
    _deploy(client, release, "dev")
    _deploy(client, release, "staging")

    response = api(people.quinn).get(f"/api/v1/releases/{release.pk}/deployments/")

    assert response.status_code == 200
    assert [d["environment"] for d in response.json()["results"]] == ["staging", "dev"]


def test_deployment__outsider__gets_404(api, people, release):
    deployment = (
        api(people.bob).post(promote_url(release), {"environment": "dev"}, format="json").json()
    )

    assert api(people.olga).get(f"/api/v1/deployments/{deployment['id']}/").status_code == 404
    response = api(people.olga).post(
        finish_url(deployment["id"]), {"succeeded": True}, format="json"
    )
    assert response.status_code == 404
    assert Deployment.objects.get().status == "in_progress"


# --- Tokens ---------------------------------------------------------------------------


def test_token__deployments_scope__promotes_and_asks_the_gates(token_client, release):
    client = token_client("deployments")

    assert client.get(gates_url(release, "dev")).status_code == 200
    response = client.post(promote_url(release), {"environment": "dev"}, format="json")

    assert response.status_code == 201
    assert response.json()["deployed_by"] == "token:ci"
    event = AuditEvent.objects.get(action="deployment.started")
    assert (event.actor_kind, event.actor_label) == ("token", "token:ci")


def test_token__without_deployments_scope__may_not_promote(token_client, release):
    response = token_client("read", "releases").post(
        promote_url(release), {"environment": "dev"}, format="json"
    )

    assert response.status_code == 403
    assert not Deployment.objects.exists()


def test_token__without_read_scope__may_not_list(token_client, release):
    response = token_client("deployments").get("/api/v1/releases/")

    assert response.status_code == 403
    assert "'read'" in response.json()["message"]


def test_token__read_scope__lists_only_its_project(token_client, people, other_project, release):
    from releases.services import release_create

    release_create(project=other_project, version="9.9.9", title="Elsewhere", actor=people.olga)

    response = token_client("read").get("/api/v1/releases/")

    assert [r["version"] for r in response.json()["results"]] == ["2.4.0"]


def test_token__of_another_project__gets_404(token_client, other_project, release):
    client = token_client("read", "deployments", for_project=other_project)

    assert client.get(f"/api/v1/releases/{release.pk}/").status_code == 404
    assert (
        client.post(promote_url(release), {"environment": "dev"}, format="json").status_code == 404
    )


def test_token__releases_scope__creates_a_release(token_client, people):
    response = token_client("read", "releases").post(
        "/api/v1/releases/",
        {
            "project": "payments",
            "version": "2.6.0",
            "title": "From CI",
            "release_manager": "alice",
        },
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["created_by"] is None  # the token has no owner
    assert response.json()["created_by_token"] == "ci"
    assert AuditEvent.objects.get(action="release.created").actor_kind == "token"


@pytest.mark.parametrize(
    "header", ["Bearer shp_deadbeef_nope", "Bearer", "Bearer a b", "Token nonsense"]
)
def test_token__invalid__is_401(api, release, header):
    client = api()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get("/api/v1/releases/")

    assert response.status_code == 401
    assert response.json()["error"] == "authentication_failed"
