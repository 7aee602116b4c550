"""The Django admin: people, projects, roles, environments and tokens are searchable;
token hashes are never shown; audit events are read-only even for superusers."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from audit.models import AuditEvent
from projects.models import ApiToken, Membership
from projects.services import api_token_create, membership_grant


@pytest.fixture
def root(db):
    return get_user_model().objects.create_superuser("root", "root@example.com", "pass")


@pytest.fixture
def admin_client(root) -> Client:
    client = Client()
    client.force_login(root)
    return client


def test_admin__lists_are_registered_and_searchable(admin_client, people, project):
    for url in (
        "/admin/auth/user/?q=alice&is_active__exact=1&is_staff__exact=0",
        "/admin/projects/project/?q=pay",
        "/admin/projects/membership/?q=quinn&role__exact=qa",
        "/admin/projects/environment/?q=staging",
        "/admin/projects/apitoken/?q=ci&state=active",
        "/admin/audit/auditevent/?q=membership",
    ):
        response = admin_client.get(url)
        assert response.status_code == 200, url
    body = admin_client.get("/admin/auth/user/?q=alice").content.decode()
    assert "alice" in body and "quinn" not in body
    body = admin_client.get("/admin/projects/membership/?q=quinn").content.decode()
    assert "quinn" in body and "alice" not in body


def test_admin__token_page_never_shows_the_hash(admin_client, people, project):
    token, plain = api_token_create(project=project, name="ci", scopes=["read"], actor=people.adam)
    body = admin_client.get(f"/admin/projects/apitoken/{token.pk}/change/").content.decode()
    assert token.key_hash not in body
    assert plain not in body
    assert f"shp_{token.prefix}_" in body
    assert 'name="key_hash"' not in body


def test_admin__revoke_action_goes_through_the_service(admin_client, people, project):
    token, _ = api_token_create(project=project, name="ci", scopes=["read"], actor=people.adam)
    admin_client.post(
        "/admin/projects/apitoken/",
        {"action": "revoke_selected", "_selected_action": [token.pk]},
    )
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEvent.objects.filter(action="api_token.revoked", actor_label="root").exists()


def test_admin__memberships_cannot_be_added_or_edited_around_the_audit(admin_client, people):
    membership = Membership.objects.get(user=people.quinn)
    assert admin_client.get("/admin/projects/membership/add/").status_code == 403
    response = admin_client.post(
        f"/admin/projects/membership/{membership.pk}/change/", {"role": "admin"}
    )
    assert response.status_code == 403
    membership.refresh_from_db()
    assert membership.role == "qa"


def test_admin__audit_events_read_only_even_for_a_superuser(admin_client, people, project):
    membership_grant(project=project, user=people.bob, role="qa", actor=people.adam)
    event = AuditEvent.objects.get(action="membership.granted")
    before = (AuditEvent.objects.count(), event.hash)

    assert admin_client.get(f"/admin/audit/auditevent/{event.pk}/change/").status_code == 200
    assert admin_client.get("/admin/audit/auditevent/add/").status_code == 403
    assert admin_client.post("/admin/audit/auditevent/add/", {"action": "x"}).status_code == 403
    changed = admin_client.post(
        f"/admin/audit/auditevent/{event.pk}/change/", {"action": "forged", "reason": "x"}
    )
    assert changed.status_code == 403
    assert (
        admin_client.post(
            f"/admin/audit/auditevent/{event.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    listing = admin_client.post(
        "/admin/audit/auditevent/", {"action": "delete_selected", "_selected_action": [event.pk]}
    )
    assert listing.status_code in (200, 302)
    event.refresh_from_db()
    assert (AuditEvent.objects.count(), event.hash) == before
    assert event.action == "membership.granted"
    body = admin_client.get(f"/admin/audit/auditevent/{event.pk}/change/").content.decode()
    assert 'name="action"' not in body  # shown as text, not as an input


def test_admin__staff_without_permissions_cannot_open_audit_events(db, people, project):
    staff = get_user_model().objects.create_user("helper", password="pass", is_staff=True)
    client = Client()
    client.force_login(staff)
    assert client.get("/admin/audit/auditevent/").status_code == 403
    assert ApiToken.objects.count() == 0
