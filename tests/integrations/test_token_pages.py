"""Token pages: admins create (secret shown once), list and revoke; everyone else sees 404."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from audit.models import AuditEvent
from projects.models import ApiToken
from projects.services import api_token_create
from projects.tokens import token_hash

pytestmark = pytest.mark.django_db

PAGE = "/projects/payments/tokens/"


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_admin__sees_the_token_list_with_scopes_expiry_and_last_use(people, project):
    token, _ = api_token_create(
        project=project, name="GitHub deploy", scopes=["read", "deployments"], actor=people.adam
    )
    response = login(people.adam).get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert "GitHub deploy" in html
    assert f"shp_{token.prefix}_…" in html
    assert "deployments" in html
    assert "never used" in html
    assert "Create a token" in html


def test_admin__creates_a_token__shown_once_and_stored_hashed(people, project):
    client = login(people.adam)
    response = client.post(
        PAGE, {"name": "GitLab CI", "scopes": ["read", "releases"], "expires_in": "30"}
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    plain = re.search(r'value="(shp_[0-9a-f]{8}_[^"]+)"', response.content.decode()).group(1)
    token = ApiToken.objects.get(name="GitLab CI")
    assert token.key_hash == token_hash(plain)
    assert plain not in str(ApiToken.objects.filter(pk=token.pk).values().get())
    assert token.scopes == ["read", "releases"]
    assert token.created_by == people.adam
    assert 29 <= (token.expires_at - token.created_at).days <= 30
    assert AuditEvent.objects.filter(action="api_token.created").count() == 1
    # The secret is never shown again.
    assert plain not in client.get(PAGE).content.decode()


def test_admin__creates_with_htmx__gets_the_fragment_and_the_refreshed_list(people):
    response = login(people.adam).post(
        PAGE,
        {"name": "Nightly", "scopes": ["read"], "expires_in": "never"},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'id="token-create"' in html
    assert 'hx-swap-oob="true"' in html
    assert "Nightly" in html
    assert ApiToken.objects.get(name="Nightly").expires_at is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "scopes": ["read"], "expires_in": "30"}, "This field is required."),
        ({"name": "x", "expires_in": "30"}, "Choose at least one scope."),
        ({"name": "x", "scopes": ["admin"], "expires_in": "30"}, "Select a valid choice."),
        ({"name": "x", "scopes": ["read"], "expires_in": "1000"}, "Select a valid choice."),
    ],
)
def test_admin__bad_form__shows_the_error_and_creates_nothing(people, data, message):
    response = login(people.adam).post(PAGE, data, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ApiToken.objects.exists()


def test_admin__revokes_a_token__it_stops_working(people, project):
    token, plain = api_token_create(project=project, name="old", scopes=["read"], actor=people.adam)
    response = login(people.adam).post(f"{PAGE}{token.pk}/revoke/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "revoked" in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEvent.objects.filter(action="api_token.revoked").count() == 1
    api = Client().get("/api/v1/ci/whoami/", headers={"Authorization": f"Bearer {plain}"})
    assert api.status_code == 401


def test_admin__revoke_without_htmx__redirects_with_a_message(people, project):
    token, _ = api_token_create(project=project, name="old", scopes=["read"], actor=people.adam)
    response = login(people.adam).post(f"{PAGE}{token.pk}/revoke/", follow=True)
    assert response.redirect_chain[-1][0] == PAGE
    assert "is revoked" in response.content.decode()


@pytest.mark.parametrize("who", ["alice", "bob", "aud", "olga"])
def test_non_admin__gets_404(people, project, who):
    token, _ = api_token_create(project=project, name="t", scopes=["read"], actor=people.adam)
    client = login(getattr(people, who))
    assert client.get(PAGE).status_code == 404
    assert (
        client.post(PAGE, {"name": "x", "scopes": ["read"], "expires_in": "30"}).status_code == 404
    )
    assert client.post(f"{PAGE}{token.pk}/revoke/").status_code == 404
    assert ApiToken.objects.count() == 1
    assert ApiToken.objects.get().revoked_at is None


def test_admin_of_another_project__cannot_revoke_this_projects_token(people, project):
    token, _ = api_token_create(project=project, name="t", scopes=["read"], actor=people.adam)
    assert login(people.olga).post(f"/projects/other/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_anonymous__is_sent_to_login():
    response = Client().get(PAGE)
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_token_index__lists_projects_the_person_administers(people):
    assert "Payments" in login(people.adam).get("/tokens/").content.decode()
    assert "not an admin of any project" in login(people.alice).get("/tokens/").content.decode()


def test_project_page__links_to_the_token_page_for_admins(people):
    assert PAGE in login(people.adam).get("/projects/payments/").content.decode()
    assert PAGE not in login(people.alice).get("/projects/payments/").content.decode()


def test_token_list__query_count_does_not_grow_with_tokens(
    people, project, django_assert_max_num_queries
):
    for number in range(8):
        api_token_create(project=project, name=f"t{number}", scopes=["read"], actor=people.adam)
    client = login(people.adam)
    client.get(PAGE)
    with django_assert_max_num_queries(12):
        client.get(PAGE)
