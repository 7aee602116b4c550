"""Managing projects over the API: projects, environments, members and tokens.

Same services as the settings pages; tokens never manage projects; an auditor reads and
changes nothing; a member of another project sees nothing (404).
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from audit.models import AuditEvent
from projects.models import ApiToken, Environment, Membership, Project
from projects.services import api_token_create
from projects.tokens import token_hash


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_user(
        "root", "root@example.com", "pass", is_staff=True, is_superuser=True
    )


def _client(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def _token_client(project, *scopes) -> APIClient:
    _token, plain = api_token_create(
        project=project, name="ci", scopes=list(scopes) or ["read"], actor=None
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    return client


def _env_names(project):
    return list(
        Environment.objects.filter(project=project, retired_at__isnull=True)
        .order_by("order")
        .values_list("name", flat=True)
    )


# --- projects -----------------------------------------------------------------------------


def test_create__staff_with_four_environments__201_and_promotion_order(staff):
    body = {
        "name": "Ledger",
        "environments": [
            {"name": "dev", "tier": "development"},
            {"name": "qa", "display_name": "QA", "tier": "testing"},
            {"name": "staging", "tier": "staging"},
            {"name": "production", "tier": "production"},
        ],
    }
    response = _client(staff).post("/api/v1/projects/", body, format="json")

    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["slug"] == "ledger"
    assert [(e["name"], e["tier"]) for e in data["environments"]] == [
        ("dev", "development"),
        ("qa", "testing"),
        ("staging", "staging"),
        ("production", "production"),
    ]
    assert data["my_roles"] == ["admin"]
    assert AuditEvent.objects.filter(action="project.created", actor_label="root").exists()


def test_create__duplicate_slug__400_nothing_created(staff, project):
    response = _client(staff).post(
        "/api/v1/projects/", {"name": "Again", "slug": "payments"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"] == "duplicate_slug"
    assert "already exists" in response.json()["message"]
    assert list(Project.objects.values_list("slug", flat=True)) == ["payments"]


@pytest.mark.parametrize(
    "body",
    [
        {"name": "X", "environments": [{"name": "dev", "tier": "moon"}]},
        {"name": "X", "environments": "dev"},
        {"name": "X", "environments": [{"name": "dev", "tier": "development"}] * 2},
        {"name": ""},
        {"name": "X", "slug": "Not A Slug"},
        [],
    ],
)
def test_create__bad_body__400_in_the_shared_shape(staff, body):
    response = _client(staff).post("/api/v1/projects/", body, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"error", "message", "details"}
    assert not Project.objects.exists()


def test_create__token__403(people, project):
    response = _token_client(project, "read", "releases").post(
        "/api/v1/projects/", {"name": "By CI"}, format="json"
    )

    assert response.status_code == 403
    assert not Project.objects.filter(name="By CI").exists()


def test_patch__admin_renames__auditor_403_outsider_404(people, project):
    url = "/api/v1/projects/payments/"
    assert _client(people.aud).patch(url, {"name": "No"}, format="json").status_code == 403
    assert _client(people.olga).patch(url, {"name": "No"}, format="json").status_code == 404
    response = _client(people.adam).patch(url, {"description": "Cards"}, format="json")

    assert response.status_code == 200
    assert response.json()["description"] == "Cards"
    assert response.json()["name"] == "Payments"


def test_archive__hidden_from_list_by_default_and_refuses_releases(people, project):
    response = _client(people.adam).post(
        "/api/v1/projects/payments/archive/", {"reason": "Done"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["is_archived"] is True

    client = _client(people.alice)
    assert client.get("/api/v1/projects/").json()["count"] == 0
    listed = client.get("/api/v1/projects/?archived=true").json()["results"]
    assert [p["slug"] for p in listed] == ["payments"]
    refused = client.post(
        "/api/v1/releases/",
        {"project": "payments", "version": "3.0.0", "title": "Late"},
        format="json",
    )
    assert refused.status_code == 409
    assert "archived" in refused.json()["message"]
    again = _client(people.adam).post("/api/v1/projects/payments/archive/", {}, format="json")
    assert again.status_code == 409


# --- environments --------------------------------------------------------------------------


def test_environments__list_add_patch_reorder_retire(people, project):
    client = _client(people.adam)
    base = "/api/v1/projects/payments/environments/"

    added = client.post(
        base, {"name": "qa", "tier": "testing", "display_name": "QA", "position": 2}, format="json"
    )
    assert added.status_code == 201
    assert added.json()["order"] == 2
    patched = client.patch(
        base + "qa/", {"display_name": "Quality", "tier": "staging"}, format="json"
    )
    assert patched.status_code == 200
    assert (patched.json()["display_name"], patched.json()["tier"]) == ("Quality", "staging")
    reordered = client.post(
        base + "reorder/", {"names": ["dev", "staging", "qa", "production"]}, format="json"
    )
    assert reordered.status_code == 200
    assert [e["name"] for e in reordered.json()] == ["dev", "staging", "qa", "production"]
    retired = client.post(base + "staging/retire/", {"reason": "Merged"}, format="json")
    assert retired.status_code == 200
    assert retired.json()["is_retired"] is True

    listed = _client(people.aud).get(base).json()["results"]
    assert [(e["name"], e["is_retired"]) for e in listed] == [
        ("dev", False),
        ("staging", True),
        ("qa", False),
        ("production", False),
    ]
    project_body = _client(people.aud).get("/api/v1/projects/payments/").json()
    assert [e["name"] for e in project_body["environments"]] == ["dev", "qa", "production"]


@pytest.mark.parametrize(
    "names",
    [
        ["dev", "production"],
        ["dev", "dev", "staging", "production"],
        ["dev", "staging", "x"],
        "dev",
    ],
)
def test_environments__reorder_not_a_permutation__400_nothing_changed(people, project, names):
    response = _client(people.adam).post(
        "/api/v1/projects/payments/environments/reorder/", {"names": names}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid"
    assert _env_names(project) == ["dev", "staging", "production"]


def test_environments__name_collision_and_bad_tier__400(people, project):
    client = _client(people.adam)
    base = "/api/v1/projects/payments/environments/"
    taken = client.post(base, {"name": "staging", "tier": "staging"}, format="json")
    assert taken.status_code == 400
    assert "already has an environment named 'staging'" in taken.json()["message"]
    tier = client.patch(base + "dev/", {"tier": "moon"}, format="json")
    assert tier.status_code == 400
    assert "tier" in tier.json()["details"]


def test_environments__retire_with_running_deployment__409(people, release, envs, gates_only):
    from releases.services import release_promote

    gates_only("releases")
    release_promote(release=release, environment=envs["dev"], actor=people.alice)
    response = _client(people.adam).post(
        "/api/v1/projects/payments/environments/dev/retire/", {}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["error"] == "deployment_running"


def test_environments__auditor_reads_but_403_on_writes_outsider_404(people, project):
    base = "/api/v1/projects/payments/environments/"
    auditor = _client(people.aud)
    assert auditor.get(base).status_code == 200
    assert auditor.post(base, {"name": "qa", "tier": "testing"}, format="json").status_code == 403
    assert auditor.post(base + "dev/retire/", {}, format="json").status_code == 403
    outsider = _client(people.olga)
    assert outsider.get(base).status_code == 404
    assert outsider.post(base, {"name": "qa", "tier": "testing"}, format="json").status_code == 404
    assert outsider.patch(base + "dev/", {"tier": "testing"}, format="json").status_code == 404
    assert _env_names(project) == ["dev", "staging", "production"]


def test_environments__token_reads_own_project_but_cannot_change(people, project):
    client = _token_client(project, "read", "deployments")
    base = "/api/v1/projects/payments/environments/"
    assert client.get(base).status_code == 200
    response = client.post(base, {"name": "qa", "tier": "testing"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"] == "token_not_allowed"
    assert client.get("/api/v1/projects/other/environments/").status_code == 404


def test_environments__unknown_environment__404(people, project):
    response = _client(people.adam).patch(
        "/api/v1/projects/payments/environments/nope/", {"tier": "testing"}, format="json"
    )
    assert response.status_code == 404


# --- members ---------------------------------------------------------------------------


def test_members__grant_by_email_and_revoke_with_reason(people, project):
    get_user_model().objects.create_user("nina", "Nina@Example.com", "pass")
    client = _client(people.adam)
    base = "/api/v1/projects/payments/members/"

    granted = client.post(
        base, {"user": "nina@example.com", "role": "qa", "reason": "New tester"}, format="json"
    )
    assert granted.status_code == 201
    assert (granted.json()["user"], granted.json()["role"]) == ("nina", "qa")
    again = client.post(base, {"user": "nina", "role": "qa"}, format="json")
    assert again.status_code == 200
    assert AuditEvent.objects.filter(action="membership.granted").count() == 1
    event = AuditEvent.objects.get(action="membership.granted")
    assert (event.actor_label, event.reason) == ("adam", "New tester")

    rows = client.get(base).json()["results"]
    assert ("nina", "qa") in [(r["user"], r["role"]) for r in rows]

    revoked = client.post(
        base + "revoke/", {"user": "nina", "role": "qa", "reason": "Left"}, format="json"
    )
    assert revoked.status_code == 204
    assert not Membership.objects.filter(user__username="nina").exists()
    assert AuditEvent.objects.get(action="membership.revoked").reason == "Left"


def test_members__unknown_person_and_role__400(people, project):
    client = _client(people.adam)
    base = "/api/v1/projects/payments/members/"
    nobody = client.post(base, {"user": "ghost", "role": "qa"}, format="json")
    assert nobody.status_code == 400
    assert "Nobody with the username" in nobody.json()["message"]
    assert client.post(base, {"user": "bob", "role": "boss"}, format="json").status_code == 400


def test_members__last_admin__409(people, project):
    response = _client(people.adam).post(
        "/api/v1/projects/payments/members/revoke/",
        {"user": "adam", "role": "admin"},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["error"] == "last_admin"


def test_members__auditor_reads_403_on_grant_outsider_404(people, project):
    base = "/api/v1/projects/payments/members/"
    assert _client(people.aud).get(base).status_code == 200
    denied = _client(people.aud).post(base, {"user": "bob", "role": "admin"}, format="json")
    assert denied.status_code == 403
    assert _client(people.olga).get(base).status_code == 404
    assert (
        _client(people.olga)
        .post(base, {"user": "olga", "role": "admin"}, format="json")
        .status_code
        == 404
    )
    assert not Membership.objects.filter(project=project, user=people.olga).exists()


def test_members__staff_manages_a_project_they_are_not_in(staff, people, project):
    response = _client(staff).post(
        "/api/v1/projects/payments/members/", {"user": "bob", "role": "qa"}, format="json"
    )
    assert response.status_code == 201


def test_members__list_query_count_is_constant(people, project, django_assert_max_num_queries):
    client = _client(people.adam)
    client.get("/api/v1/projects/payments/members/")
    with django_assert_max_num_queries(8):
        response = client.get("/api/v1/projects/payments/members/")
    assert response.json()["count"] == 10


# --- tokens ------------------------------------------------------------------------------


def test_tokens__secret_shown_once_listed_without_and_revoked(people, project):
    client = _client(people.adam)
    base = "/api/v1/projects/payments/tokens/"

    created = client.post(
        base, {"name": "gitlab", "scopes": ["read", "deployments"]}, format="json"
    )
    assert created.status_code == 201
    secret = created.json()["secret"]
    assert secret.startswith("shp_")
    token = ApiToken.objects.get(name="gitlab")
    assert token.key_hash == token_hash(secret)

    listed = client.get(base)
    assert listed.status_code == 200
    assert secret not in listed.content.decode()
    assert "secret" not in listed.json()["results"][0]
    assert "key_hash" not in listed.json()["results"][0]

    # The secret works until it is revoked.
    ci = APIClient()
    ci.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert ci.get("/api/v1/projects/payments/").status_code == 200
    revoked = client.post(f"{base}{token.pk}/revoke/", {}, format="json")
    assert revoked.status_code == 200
    assert revoked.json()["is_active"] is False
    assert ci.get("/api/v1/projects/payments/").status_code == 401


def test_tokens__bad_scopes__400(people, project):
    response = _client(people.adam).post(
        "/api/v1/projects/payments/tokens/", {"name": "x", "scopes": ["root"]}, format="json"
    )
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_tokens__a_token_may_not_create_or_list_tokens(people, project):
    client = _token_client(project, "read", "releases", "deployments")
    base = "/api/v1/projects/payments/tokens/"
    assert client.get(base).status_code == 403
    assert client.post(base, {"name": "x", "scopes": ["read"]}, format="json").status_code == 403
    assert ApiToken.objects.count() == 1


def test_tokens__auditor_403_on_create_outsider_404(people, project):
    base = "/api/v1/projects/payments/tokens/"
    body = {"name": "x", "scopes": ["read"]}
    assert _client(people.aud).post(base, body, format="json").status_code == 403
    assert _client(people.olga).get(base).status_code == 404
    assert _client(people.olga).post(base, body, format="json").status_code == 404
    assert not ApiToken.objects.exists()


def test_schema__lists_every_new_path(db, client):
    from django.contrib.auth import get_user_model as user_model

    client.force_login(user_model().objects.create_user("reader", password="x"))
    schema = client.get("/api/schema/?format=json").json()
    paths = schema["paths"]
    for path, method in [
        ("/api/v1/projects/", "post"),
        ("/api/v1/projects/{slug}/", "patch"),
        ("/api/v1/projects/{slug}/archive/", "post"),
        ("/api/v1/projects/{project_slug}/environments/", "post"),
        ("/api/v1/projects/{project_slug}/environments/{environment}/", "patch"),
        ("/api/v1/projects/{project_slug}/environments/reorder/", "post"),
        ("/api/v1/projects/{project_slug}/environments/{environment}/retire/", "post"),
        ("/api/v1/projects/{project_slug}/members/", "get"),
        ("/api/v1/projects/{project_slug}/members/revoke/", "post"),
        ("/api/v1/projects/{project_slug}/tokens/", "post"),
        ("/api/v1/projects/{project_slug}/tokens/{id}/revoke/", "post"),
    ]:
        assert method in paths[path], path
