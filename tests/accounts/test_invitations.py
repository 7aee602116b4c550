"""Invitations: a real SMTP server receives the e-mail, the invitee follows the link and joins."""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import urlparse

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from accounts.models import Invitation
from accounts.services import invitation_create, invitation_resend, invitation_revoke
from accounts.tokens import invitation_hash
from audit.models import AuditEvent
from projects.choices import Role
from projects.models import Membership
from tests.factories import UserFactory

User = get_user_model()
pytestmark = pytest.mark.django_db


def _path(link: str) -> str:
    return urlparse(link).path


def _invite(client, project, email="nina@example.com", roles=("qa", "engineer")):
    return client.post(
        f"/projects/{project.slug}/invitations/", {"email": email, "roles": list(roles)}
    )


def test_invitation__smtp_link_sets_password_and_grants_roles_once(
    client, people, project, smtp_server, caplog, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.DEBUG)
    client.force_login(people.adam)
    with django_capture_on_commit_callbacks(execute=True):
        response = _invite(client, project)
    assert response.status_code == 302
    page = client.get(f"/projects/{project.slug}/invitations/")
    assert "nina@example.com" in page.content.decode()
    assert 'data-status="pending"' in page.content.decode()

    message = smtp_server.to("nina@example.com")[-1]
    assert "Payments" in message["Subject"]
    link = smtp_server.link("nina@example.com")
    secret = _path(link).rstrip("/").rsplit("/", 1)[-1]
    invitation = Invitation.objects.get()
    assert invitation.token_hash == invitation_hash(secret)
    assert secret not in invitation.token_hash

    client.logout()
    opened = client.get(_path(link))
    assert opened.status_code == 302 and opened["Location"] == "/invitations/accept/"
    form = client.get("/invitations/accept/")
    assert form.status_code == 200
    assert "Join Payments" in form.content.decode()
    accepted = client.post(
        "/invitations/accept/",
        {
            "username": "nina",
            "password": "a-long-password-1",
            "password_again": "a-long-password-1",
        },
    )
    assert accepted.status_code == 302
    assert accepted["Location"] == f"/projects/{project.slug}/"
    home = client.get(accepted["Location"])
    assert home.status_code == 200
    assert home.wsgi_request.user.username == "nina"
    nina = User.objects.get(username="nina")
    assert nina.email == "nina@example.com" and nina.check_password("a-long-password-1")
    assert set(Membership.objects.filter(user=nina).values_list("role", flat=True)) == {
        Role.QA,
        Role.ENGINEER,
    }
    actions = list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))
    assert "invitation.created" in actions and "invitation.accepted" in actions
    assert actions.count("membership.granted") == 2
    # The link's secret (and its hash) is in no audit event and no log line.
    for event in AuditEvent.objects.all():
        text = f"{event.data} {event.reason} {event.object_repr}"
        assert secret not in text and invitation.token_hash not in text
    # (The test's own SMTP server logs the conversation: it is not Shipcheck's log.)
    ours = [r.getMessage() for r in caplog.records if not r.name.startswith("mail.log")]
    assert ours and not any(secret in line for line in ours)

    # The same link again, from another browser: refused, nothing changes.
    other = Client()
    other.get(_path(link))
    again = other.get("/invitations/accept/")
    assert again.status_code == 410
    assert "already used" in again.content.decode()
    assert User.objects.filter(email="nina@example.com").count() == 1
    assert Membership.objects.filter(user=nina).count() == 2


def test_invitation__expired_link__says_so_and_changes_nothing(client, people, project):
    invitation, secret = invitation_create(
        project=project, email="late@example.com", roles=["qa"], actor=people.adam
    )
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    client.get(f"/invitations/{secret}/")
    response = client.post(
        "/invitations/accept/",
        {
            "username": "late",
            "password": "a-long-password-1",
            "password_again": "a-long-password-1",
        },
    )
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert not User.objects.filter(username="late").exists()
    assert not AuditEvent.objects.filter(action="invitation.accepted").exists()


def test_invitation__expiry_follows_the_setting(settings, people, project):
    settings.SHIPCHECK_INVITATION_DAYS = 2
    invitation, _ = invitation_create(
        project=project, email="soon@example.com", roles=["qa"], actor=people.adam
    )
    left = invitation.expires_at - timezone.now()
    assert timedelta(days=1, hours=23) < left <= timedelta(days=2)


def test_invitation__revoked_link__says_so(client, people, project):
    invitation, secret = invitation_create(
        project=project, email="gone@example.com", roles=["qa"], actor=people.adam
    )
    invitation_revoke(invitation=invitation, actor=people.adam)
    client.get(f"/invitations/{secret}/")
    response = client.get("/invitations/accept/")
    assert response.status_code == 410
    assert "revoked" in response.content.decode()
    assert AuditEvent.objects.filter(action="invitation.revoked").count() == 1


def test_invitation__unknown_link__says_so(client, db):
    client.get("/invitations/not-a-real-secret/")
    response = client.get("/invitations/accept/")
    assert response.status_code == 410
    assert "not valid" in response.content.decode()


def test_invitation__accept_page_without_link__explains(client, db):
    response = client.get("/invitations/accept/")
    assert response.status_code == 400
    assert "Open the link from your invitation e-mail" in response.content.decode()


def test_resend__old_link_dies_new_link_works(
    client, people, project, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitation, first = invitation_create(
            project=project, email="re@example.com", roles=["auditor"], actor=people.adam
        )
    client.force_login(people.adam)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/projects/{project.slug}/invitations/{invitation.pk}/resend/")
    assert response.status_code == 302
    messages = smtp_server.to("re@example.com")
    assert len(messages) == 2
    second = _path(smtp_server.link("re@example.com")).rstrip("/").rsplit("/", 1)[-1]
    assert second != first
    client.logout()
    client.get(f"/invitations/{first}/")
    assert client.get("/invitations/accept/").status_code == 410
    client.get(f"/invitations/{second}/")
    ok = client.post(
        "/invitations/accept/",
        {"username": "rea", "password": "a-long-password-1", "password_again": "a-long-password-1"},
    )
    assert ok.status_code == 302
    assert Membership.objects.filter(user__username="rea", role=Role.AUDITOR).exists()
    assert AuditEvent.objects.filter(action="invitation.resent").count() == 1


def test_accept__signed_in__joins_the_existing_account(client, people, project, other_project):
    invitation, secret = invitation_create(
        project=other_project, email="olga@example.com", roles=["qa"], actor=people.olga
    )
    client.force_login(people.bob)
    client.get(f"/invitations/{secret}/")
    page = client.get("/invitations/accept/")
    assert "Accept into bob" in page.content.decode()
    response = client.post("/invitations/accept/")
    assert response.status_code == 302
    assert Membership.objects.filter(user=people.bob, project=other_project, role=Role.QA).exists()
    invitation.refresh_from_db()
    assert invitation.accepted_by == people.bob


def test_accept__bad_account_input__form_errors_and_nothing_created(client, people, project):
    _, secret = invitation_create(
        project=project, email="x@example.com", roles=["qa"], actor=people.adam
    )
    client.get(f"/invitations/{secret}/")
    taken = client.post(
        "/invitations/accept/",
        {
            "username": "alice",
            "password": "a-long-password-1",
            "password_again": "a-long-password-1",
        },
    )
    assert taken.status_code == 200
    assert "This username is taken" in taken.content.decode()
    differ = client.post(
        "/invitations/accept/",
        {
            "username": "xavier",
            "password": "a-long-password-1",
            "password_again": "other-password-2",
        },
    )
    assert "The two passwords differ" in differ.content.decode()
    short = client.post(
        "/invitations/accept/",
        {"username": "xavier", "password": "short", "password_again": "short"},
    )
    assert "too short" in short.content.decode()
    assert not User.objects.filter(username="xavier").exists()
    assert Invitation.objects.get().accepted_at is None


def test_invite__bad_input__says_why_and_sends_nothing(
    client, people, project, smtp_server, django_capture_on_commit_callbacks
):
    client.force_login(people.adam)
    for data in (
        {"email": "not-an-address", "roles": ["qa"]},
        {"email": "ok@example.com"},
        {"email": "ok@example.com", "roles": ["wizard"]},
    ):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"/projects/{project.slug}/invitations/", data)
        assert response.status_code == 200
        assert "has-error" in response.content.decode()
    assert not Invitation.objects.exists()
    assert smtp_server.messages == []


def test_invite__twice_while_pending__is_refused(client, people, project):
    client.force_login(people.adam)
    _invite(client, project)
    response = _invite(client, project)
    assert response.status_code == 200
    assert "already has a pending invitation" in response.content.decode()
    assert Invitation.objects.count() == 1


def test_invitations_page__who_may_see_it(client, people, project):
    client.force_login(people.bob)
    assert client.get(f"/projects/{project.slug}/invitations/").status_code == 403
    assert _invite(client, project).status_code == 403
    client.force_login(people.olga)
    assert client.get(f"/projects/{project.slug}/invitations/").status_code == 404
    assert not Invitation.objects.exists()
    staff = UserFactory(username="root", is_staff=True)
    client.force_login(staff)
    assert client.get(f"/projects/{project.slug}/invitations/").status_code == 200
    assert _invite(client, project).status_code == 302


def test_invitations_page__lists_every_status_and_is_linked(client, people, project):
    pending, _ = invitation_create(
        project=project, email="p@example.com", roles=["qa"], actor=people.adam
    )
    revoked, _ = invitation_create(
        project=project, email="r@example.com", roles=["qa"], actor=people.adam
    )
    invitation_revoke(invitation=revoked, actor=people.adam)
    expired, _ = invitation_create(
        project=project, email="e@example.com", roles=["qa"], actor=people.adam
    )
    Invitation.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(days=1))
    client.force_login(people.adam)
    body = client.get(f"/projects/{project.slug}/invitations/").content.decode()
    for status in ("pending", "revoked", "expired"):
        assert f'data-status="{status}"' in body
    detail = client.get(f"/projects/{project.slug}/").content.decode()
    assert f"/projects/{project.slug}/invitations/" in detail


def test_invitations_page__query_count_is_constant(
    client, people, project, django_assert_max_num_queries
):
    client.force_login(people.adam)
    for n in range(3):
        invitation_create(
            project=project, email=f"a{n}@example.com", roles=["qa"], actor=people.adam
        )
    with django_assert_max_num_queries(12) as few:
        client.get(f"/projects/{project.slug}/invitations/")
    for n in range(10):
        invitation_create(
            project=project, email=f"b{n}@example.com", roles=["qa"], actor=people.adam
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(f"/projects/{project.slug}/invitations/")


def test_resend_and_revoke__accepted_invitation__are_refused(client, people, project):
    invitation, secret = invitation_create(
        project=project, email="done@example.com", roles=["qa"], actor=people.adam
    )
    from accounts.services import invitation_accept

    invitation_accept(token=secret, user=people.bob)
    from accounts.exceptions import InvitationUnusable

    with pytest.raises(InvitationUnusable):
        invitation_resend(invitation=invitation, actor=people.adam)
    with pytest.raises(InvitationUnusable):
        invitation_revoke(invitation=invitation, actor=people.adam)


def test_invitation_secret__masked_in_request_logs(client, people, project, caplog):
    _, secret = invitation_create(
        project=project, email="log@example.com", roles=["qa"], actor=people.adam
    )
    caplog.set_level(logging.INFO)
    response = client.post(f"/invitations/{secret}/")  # 405, which django.request logs
    assert response.status_code == 405
    assert "/invitations/<secret>" in caplog.text
    assert secret not in caplog.text
