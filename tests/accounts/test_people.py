"""Deactivating a person: no sign-in, sessions end, their tokens are refused, history stays."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

from accounts.services import user_deactivate
from audit.models import AuditEvent
from projects.models import Membership
from projects.services import api_token_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def staff(db):
    return UserFactory(username="root", is_staff=True)


def _signed_in(user) -> Client:
    browser = Client()
    response = browser.post("/login/", {"username": user.username, "password": "pass"})
    assert response.status_code == 302
    assert browser.get("/").status_code == 200
    return browser


def test_deactivate__sessions_end_tokens_refused_history_stays(client, staff, people, project):
    token, plain = api_token_create(
        project=project, name="ci", scopes=["read", "releases"], actor=people.adam
    )
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert api.get("/api/v1/projects/").status_code == 200
    browser_one = _signed_in(people.adam)
    browser_two = Client()
    browser_two.force_login(people.adam)  # a session the tracker never saw

    client.force_login(staff)
    response = client.post("/people/adam/deactivate/", {"reason": "Left the company"})
    assert response.status_code == 302
    assert "deactivated" in client.get("/people/").content.decode()

    for browser in (browser_one, browser_two):
        answer = browser.get("/")
        assert answer.status_code == 302 and answer["Location"].startswith("/login/")
    refused = api.get("/api/v1/projects/")
    assert refused.status_code == 401
    assert "person who created it was deactivated" in refused.json()["message"]
    again = Client().post("/login/", {"username": "adam", "password": "pass"})
    assert again.status_code == 200 and "correct username and password" in again.content.decode()

    people.adam.refresh_from_db()
    assert not people.adam.is_active
    assert Membership.objects.filter(user=people.adam).exists()
    event = AuditEvent.objects.get(action="user.deactivated")
    assert event.reason == "Left the company"
    assert event.data["tokens_stopped"] == 1 and event.data["sessions_ended"] >= 2


def test_reactivate__token_works_again(client, staff, people, project):
    _, plain = api_token_create(project=project, name="ci", scopes=["read"], actor=people.adam)
    user_deactivate(user=people.adam, actor=staff)
    client.force_login(staff)
    assert client.post("/people/adam/reactivate/").status_code == 302
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert api.get("/api/v1/projects/").status_code == 200
    assert AuditEvent.objects.filter(action="user.reactivated").count() == 1


def test_people_page__staff_only(client, people):
    client.force_login(people.adam)  # a project admin, not staff
    assert client.get("/people/").status_code == 404
    assert client.post("/people/bob/deactivate/").status_code == 404
    people.bob.refresh_from_db()
    assert people.bob.is_active


def test_deactivate__yourself__is_refused(client, staff):
    client.force_login(staff)
    client.post("/people/root/deactivate/")
    staff.refresh_from_db()
    assert staff.is_active
    assert "cannot deactivate yourself" in client.get("/people/").content.decode()


def test_api_deactivate__staff_session_only(staff, people, project):
    api = APIClient()
    api.force_login(people.adam)
    denied = api.post("/api/v1/people/bob/deactivate/", {}, format="json")
    assert denied.status_code == 403
    _, plain = api_token_create(project=project, name="ci", scopes=["read", "releases"], actor=None)
    machine = APIClient()
    machine.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert machine.post("/api/v1/people/bob/deactivate/", {}, format="json").status_code == 403
    api.force_login(staff)
    missing = api.post("/api/v1/people/nobody/deactivate/", {}, format="json")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    ok = api.post("/api/v1/people/bob/deactivate/", {"reason": "moved"}, format="json")
    assert ok.status_code == 200 and ok.json()["is_active"] is False
    people.bob.refresh_from_db()
    assert not people.bob.is_active
