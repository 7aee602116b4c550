"""Projects API: members see their projects with environments; nobody sees others'."""

from __future__ import annotations

from rest_framework.test import APIClient

from projects.choices import Role
from projects.models import Membership
from projects.services import api_token_create


def _client(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def test_list__member__sees_the_project_with_environments_and_own_roles(people, project):
    Membership.objects.create(project=project, user=people.bob, role=Role.QA)

    response = _client(people.bob).get("/api/v1/projects/")

    assert response.status_code == 200
    [payments] = response.json()["results"]
    assert payments["slug"] == "payments"
    assert [e["name"] for e in payments["environments"]] == ["dev", "staging", "production"]
    assert [e["is_production"] for e in payments["environments"]] == [False, False, True]
    assert payments["my_roles"] == ["engineer", "qa"]


def test_list__person_in_no_project__sees_an_empty_list(people):
    from tests.factories import UserFactory

    response = _client(UserFactory()).get("/api/v1/projects/")

    assert response.json()["count"] == 0


def test_detail__by_slug(people, project):
    response = _client(people.aud).get("/api/v1/projects/payments/")

    assert response.status_code == 200
    assert response.json()["name"] == "Payments"


def test_detail__outsider__gets_404(people, project):
    response = _client(people.olga).get("/api/v1/projects/payments/")

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_list__query_count_is_constant(
    people, project, other_project, django_assert_max_num_queries
):
    from tests.factories import ProjectFactory

    for extra in ProjectFactory.create_batch(5):
        Membership.objects.create(project=extra, user=people.alice, role=Role.ENGINEER)
    client = _client(people.alice)

    with django_assert_max_num_queries(7):
        response = client.get("/api/v1/projects/")

    assert response.json()["count"] == 6


def test_token__sees_only_its_project_and_no_roles(people, project, other_project):
    _token, plain = api_token_create(project=project, name="ci", scopes=["read"], actor=None)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")

    response = client.get("/api/v1/projects/")

    assert [(p["slug"], p["my_roles"]) for p in response.json()["results"]] == [("payments", [])]
    assert client.get("/api/v1/projects/other/").status_code == 404


def test_create__project_admin_who_is_not_staff__gets_403(people, project):
    response = _client(people.adam).post("/api/v1/projects/", {"name": "New"}, format="json")

    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    assert "staff administrator" in response.json()["message"]
