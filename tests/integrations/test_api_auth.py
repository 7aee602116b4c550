"""Who may call the pipeline API: token scopes, expiry, revocation, other projects, people."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from projects.models import ApiToken
from projects.services import api_token_revoke
from releases.models import Deployment, Release
from releases.services import release_create
from tests.integrations.conftest import JUNIT_OK, Api

pytestmark = pytest.mark.django_db

RELEASES = "/api/v1/ci/releases/"


@pytest.fixture
def planned(project, people):
    return release_create(
        project=project,
        version="1.3.0",
        title="Saved cards",
        actor=people.alice,
        rollback_plan="Redeploy 1.2.0.",
    )


def test_no_credentials__is_401_json():
    response = Client().post(RELEASES, {"version": "1.3.0"}, content_type="application/json")
    assert response.status_code == 401
    assert response.json()["error"] == "not_authenticated"


def test_unknown_token__is_401():
    response = Api("shp_deadbeef_" + "x" * 43).post(RELEASES, {"version": "1.3.0"})
    assert response.status_code == 401
    assert response.json() == {
        "error": "authentication_failed",
        "message": "Invalid API token.",
        "details": {},
    }


def test_revoked_token__is_401_and_changes_nothing(make_token, people):
    plain = make_token()
    api_token_revoke(token=ApiToken.objects.get(), actor=people.adam)
    response = Api(plain).post(RELEASES, {"version": "1.3.0"})
    assert response.status_code == 401
    assert response.json()["message"] == "This API token has been revoked."
    assert not Release.objects.exists()


def test_expired_token__is_401_and_changes_nothing(make_token):
    plain = make_token(expires_at=timezone.now() + timedelta(days=1))
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    response = Api(plain).post(RELEASES, {"version": "1.3.0"})
    assert response.status_code == 401
    assert response.json()["message"] == "This API token has expired."
    assert not Release.objects.exists()


def test_token_use__records_last_used_time(api):
    assert ApiToken.objects.get().last_used_at is None
    api.get("/api/v1/ci/whoami/")
    assert ApiToken.objects.get().last_used_at is not None


@pytest.mark.parametrize(
    ("scopes", "missing"),
    [
        (["read"], ["releases"]),
        (["releases"], ["read"]),
        (["read", "deployments", "test_results"], ["releases"]),
    ],
)
def test_release_create__without_the_scope__is_403_naming_it(make_token, scopes, missing):
    response = Api(make_token(scopes)).post(RELEASES, {"version": "1.3.0"})
    assert response.status_code == 403
    assert response.json()["error"] == "missing_scope"
    assert response.json()["details"] == {"missing_scopes": missing}
    assert not Release.objects.exists()


def test_deploy__without_deployments_scope__is_403(make_token, planned):
    response = Api(make_token(["read", "releases"])).post(
        f"{RELEASES}1.3.0/deployments/", {"environment": "dev", "status": "started"}
    )
    assert response.status_code == 403
    assert response.json()["details"] == {"missing_scopes": ["deployments"]}
    assert not Deployment.objects.exists()


def test_test_results__only_scope_needed_with_read(make_token, planned):
    api = Api(make_token(["read", "test_results"]))
    assert api.post(f"{RELEASES}1.3.0/test-runs/", {"junit_xml": JUNIT_OK}).status_code == 201
    deploy = api.post(f"{RELEASES}1.3.0/deployments/", {"environment": "dev", "status": "started"})
    assert deploy.status_code == 403


def test_gate__deployments_scope_alone__may_ask(make_token, planned):
    response = Api(make_token(["deployments"])).get(f"{RELEASES}1.3.0/gate/dev/")
    assert response.status_code == 200


def test_gate__test_results_scope_alone__may_not_ask(make_token, planned):
    response = Api(make_token(["test_results"])).get(f"{RELEASES}1.3.0/gate/dev/")
    assert response.status_code == 403


def test_token_of_another_project__naming_this_project__is_404(make_token, other_project, planned):
    api = Api(make_token(on=other_project))
    response = api.post(RELEASES, {"project": "payments", "version": "1.4.0"})
    assert response.status_code == 404
    assert not Release.objects.filter(version="1.4.0").exists()


def test_token_of_another_project__cannot_reach_this_projects_release(
    make_token, other_project, planned
):
    api = Api(make_token(on=other_project))
    assert api.get(f"{RELEASES}1.3.0/").status_code == 404
    assert api.get(f"{RELEASES}1.3.0/gate/dev/").status_code == 404
    response = api.post(
        f"{RELEASES}1.3.0/deployments/", {"environment": "dev", "status": "started"}
    )
    assert response.status_code == 404
    assert not Deployment.objects.exists()


def test_token_of_another_project__creates_in_its_own_project_only(
    make_token, other_project, planned
):
    response = Api(make_token(on=other_project)).post(RELEASES, {"version": "1.3.0"})
    assert response.status_code == 201
    assert response.json()["project"] == "other"
    assert Release.objects.filter(version="1.3.0").count() == 2


def test_outsider_person__naming_the_project__is_404(people, planned):
    client = Client()
    client.force_login(people.olga)
    response = Api(client=client).get(f"{RELEASES}1.3.0/gate/dev/", project="payments")
    assert response.status_code == 404


def test_person_without_release_role__may_not_create(people):
    client = Client()
    client.force_login(people.quinn)
    response = Api(client=client).post(RELEASES, {"project": "payments", "version": "1.3.0"})
    assert response.status_code == 403
    assert not Release.objects.exists()


def test_qa_person__may_upload_test_results(people, planned):
    client = Client()
    client.force_login(people.quinn)
    response = Api(client=client).post(
        f"{RELEASES}1.3.0/test-runs/", {"project": "payments", "junit_xml": JUNIT_OK}
    )
    assert response.status_code == 201


def test_auditor_person__may_not_upload_test_results(people, planned):
    client = Client()
    client.force_login(people.aud)
    response = Api(client=client).post(
        f"{RELEASES}1.3.0/test-runs/", {"project": "payments", "junit_xml": JUNIT_OK}
    )
    assert response.status_code == 403


def test_person_session__post_without_csrf_token__is_refused_as_json(people):
    client = Client(enforce_csrf_checks=True)
    client.force_login(people.alice)
    response = Api(client=client).post(RELEASES, {"project": "payments", "version": "1.3.0"})
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert not Release.objects.exists()
