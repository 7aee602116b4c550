"""/api/v1/projects/{slug}/invitations/ and group-mappings/: people's sessions only."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import GroupRoleMapping, Invitation
from audit.models import AuditEvent
from projects.services import api_token_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_admin(people):
    api = APIClient()
    api.force_login(people.adam)
    return api


def test_invitations_api__create_list_revoke(as_admin, project, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as sent:
        created = as_admin.post(
            f"/api/v1/projects/{project.slug}/invitations/",
            {"email": "api@example.com", "roles": ["qa", "auditor"]},
            format="json",
        )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "pending" and body["roles"] == ["auditor", "qa"]
    assert "token" not in str(body).lower() and len(sent) == 1
    listed = as_admin.get(f"/api/v1/projects/{project.slug}/invitations/")
    assert listed.status_code == 200
    assert listed.json()["count"] == 1 and listed.json()["results"][0]["email"] == "api@example.com"
    revoked = as_admin.post(f"/api/v1/projects/{project.slug}/invitations/{body['id']}/revoke/")
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert AuditEvent.objects.filter(action="invitation.revoked").count() == 1


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"email": "nope", "roles": ["qa"]}, "email"),
        ({"email": "a@example.com", "roles": []}, "roles"),
        ({"email": "a@example.com", "roles": ["wizard"]}, "roles"),
        ({"email": "a@example.com", "roles": "qa"}, "roles"),
        ({"roles": ["qa"]}, "email"),
    ],
)
def test_invitations_api__bad_input__400_naming_the_field(as_admin, project, payload, field):
    response = as_admin.post(
        f"/api/v1/projects/{project.slug}/invitations/", payload, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid" and field in response.json()["details"]
    assert not Invitation.objects.exists()


def test_invitations_api__tokens_are_refused(project, people):
    _, plain = api_token_create(project=project, name="ci", scopes=["read", "releases"], actor=None)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    for method, url in (
        ("get", f"/api/v1/projects/{project.slug}/invitations/"),
        ("post", f"/api/v1/projects/{project.slug}/invitations/"),
        ("get", f"/api/v1/projects/{project.slug}/group-mappings/"),
    ):
        response = getattr(api, method)(
            url, {"email": "t@example.com", "roles": ["qa"]}, format="json"
        )
        assert response.status_code == 403
        assert response.json()["error"] == "token_not_allowed"
    assert not Invitation.objects.exists()


def test_invitations_api__who_may(project, people):
    api = APIClient()
    assert api.get(f"/api/v1/projects/{project.slug}/invitations/").status_code == 401
    api.force_login(people.bob)
    assert api.get(f"/api/v1/projects/{project.slug}/invitations/").status_code == 403
    api.force_login(people.olga)
    missing = api.get(f"/api/v1/projects/{project.slug}/invitations/")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    assert api.get("/api/v1/projects/nope/invitations/").status_code == 404


def test_invitations_api__session_writes_need_csrf(project, people):
    api = APIClient(enforce_csrf_checks=True)
    api.force_login(people.adam)
    response = api.post(
        f"/api/v1/projects/{project.slug}/invitations/",
        {"email": "c@example.com", "roles": ["qa"]},
        format="json",
    )
    assert response.status_code == 403
    assert not Invitation.objects.exists()


def test_group_mappings_api__add_list_remove(as_admin, project):
    created = as_admin.post(
        f"/api/v1/projects/{project.slug}/group-mappings/",
        {"group": "qa", "role": "qa"},
        format="json",
    )
    assert created.status_code == 201
    assert as_admin.get(f"/api/v1/projects/{project.slug}/group-mappings/").json()["count"] == 1
    bad = as_admin.post(
        f"/api/v1/projects/{project.slug}/group-mappings/",
        {"group": "", "role": "x"},
        format="json",
    )
    assert bad.status_code == 400
    gone = as_admin.delete(
        f"/api/v1/projects/{project.slug}/group-mappings/{created.json()['id']}/"
    )
    assert gone.status_code == 204
    assert not GroupRoleMapping.objects.exists()
    assert [e.action for e in AuditEvent.objects.order_by("seq")][-2:] == [
        "group_mapping.added",
        "group_mapping.removed",
    ]


def test_group_mappings_page__admin_adds_and_removes(client, people, project):
    client.force_login(people.adam)
    client.post(
        f"/projects/{project.slug}/provider-groups/",
        {"group": "release-team", "role": "release_manager"},
    )
    page = client.get(f"/projects/{project.slug}/provider-groups/").content.decode()
    assert "release-team" in page and "Release manager" in page
    mapping = GroupRoleMapping.objects.get()
    client.post(f"/projects/{project.slug}/provider-groups/{mapping.pk}/remove/")
    assert not GroupRoleMapping.objects.exists()
    client.force_login(people.bob)
    assert client.get(f"/projects/{project.slug}/provider-groups/").status_code == 403
