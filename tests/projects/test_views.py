"""Project pages: my projects, one project's environments, people and settings links."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from core import nav


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_project_list__shows_my_projects_with_my_roles(people, project, other_project):
    body = _client(people.emma).get(reverse("projects:list")).content.decode()
    assert "Payments" in body
    assert "Other" not in body
    assert "Emergency approver" in body and "Approver" in body


def test_project_list__no_projects__shows_empty_state(db):
    from tests.factories import UserFactory

    body = _client(UserFactory(username="nobody")).get(reverse("projects:list")).content.decode()
    assert "No projects yet" in body


def test_project_detail__lists_environments_in_order_and_members_with_roles(
    people, project, release
):
    response = _client(people.quinn).get(reverse("projects:detail", args=[project.slug]))
    body = response.content.decode()
    assert response.status_code == 200
    assert body.index("Development") < body.index("Staging") < body.index("Production")
    assert "Release manager" in body and "Project admin" in body and "Auditor" in body
    assert "olga" not in body
    assert "2.4.0" in body  # latest releases


def test_project_detail__outsider__gets_404(people, project):
    assert (
        _client(people.olga).get(reverse("projects:detail", args=[project.slug])).status_code == 404
    )


def test_project_detail__unknown_slug__gets_404(people):
    assert _client(people.alice).get("/projects/no-such-thing/").status_code == 404


@pytest.fixture
def a_settings_link(monkeypatch):
    monkeypatch.setattr(nav, "_project_links", [])
    nav.project_link("Promotion policy", "projects:detail", description="Rules per environment.")
    nav.project_link("Broken link", "no-such-url")


def test_project_detail__admin__sees_settings_links_other_apps_added(
    people, project, a_settings_link
):
    body = (
        _client(people.adam).get(reverse("projects:detail", args=[project.slug])).content.decode()
    )
    assert "Project settings" in body
    assert "Promotion policy" in body and "Rules per environment." in body
    assert "Broken link" not in body


def test_project_detail__non_admin__sees_no_settings(people, project, a_settings_link):
    body = (
        _client(people.alice).get(reverse("projects:detail", args=[project.slug])).content.decode()
    )
    assert "Project settings" not in body
    assert "Promotion policy" not in body
