"""A person sees their sessions and ends the others."""

from __future__ import annotations

import pytest
from django.test import Client

from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _browser(user, agent: str) -> Client:
    browser = Client(HTTP_USER_AGENT=agent)
    assert (
        browser.post("/login/", {"username": user.username, "password": "pass"}).status_code == 302
    )
    return browser


def test_sessions__list_and_end_one(people):
    laptop = _browser(people.alice, "Laptop Firefox")
    phone = _browser(people.alice, "Phone Safari")
    page = laptop.get("/account/security/")
    body = page.content.decode()
    assert "Laptop Firefox" in body and "Phone Safari" in body
    assert body.count('data-session="current"') == 1 and body.count('data-session="other"') == 1
    other_key = phone.session.session_key
    response = laptop.post("/account/sessions/end/", {"session": other_key})
    assert response.status_code == 302
    assert phone.get("/").status_code == 302  # signed out
    assert laptop.get("/").status_code == 200
    assert AuditEvent.objects.filter(action="session.ended").count() == 1
    assert "Phone Safari" not in laptop.get("/account/security/").content.decode()


def test_sessions__end_all_others(people):
    main = _browser(people.alice, "Main")
    others = [_browser(people.alice, f"Other {n}") for n in range(2)]
    main.post("/account/sessions/end/", {"session": "others"})
    assert all(b.get("/").status_code == 302 for b in others)
    assert main.get("/").status_code == 200


def test_sessions__cannot_end_someone_elses(people):
    alice = _browser(people.alice, "Alice")
    bob = _browser(people.bob, "Bob")
    alice.post("/account/sessions/end/", {"session": bob.session.session_key})
    assert bob.get("/").status_code == 200
    assert not AuditEvent.objects.filter(action="session.ended").exists()
