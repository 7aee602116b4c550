"""Sign-in through a real OpenID Connect provider (npm oidc-provider) started on loopback.

The authorization code flow runs end to end over HTTP: Shipcheck's live server
redirects to the provider, the test signs in on the provider's page, the provider
redirects back with a code, Shipcheck exchanges it and signs the person in.
"""

from __future__ import annotations

import re
import socket

import httpx
import pytest
from django.contrib.auth import get_user_model

from accounts.services import group_mapping_add
from accounts.settings import oidc_providers
from audit.models import AuditEvent
from projects.choices import Role
from projects.models import Membership

pytestmark = pytest.mark.django_db(transaction=True)
User = get_user_model()

USERS = {
    "quentin": {
        "password": "provider-pass",
        "email": "quentin@corp.example",
        "name": "Quentin Tester",
        "groups": ["qa", "everyone"],
    }
}


def _configure(settings, issuer: str) -> None:
    settings.SOCIALACCOUNT_PROVIDERS = oidc_providers(
        server_url=issuer,
        client_id="shipcheck",
        secret="shipcheck-test-secret",
        label="Sign in with Corp ID",
        scopes=["openid", "profile", "email"],
    )


def _sign_in(
    base: str, *, login="quentin", password="provider-pass"
) -> tuple[httpx.Client, httpx.Response]:
    """Drive the code flow like a browser: the button, the provider's form, the way back."""
    browser = httpx.Client(follow_redirects=True, timeout=20)
    page = browser.get(f"{base}/login/")
    assert "Sign in with Corp ID" in page.text
    csrf = browser.cookies.get("csrftoken")
    provider_page = browser.post(
        f"{base}/accounts/oidc/sso/login/", data={"csrfmiddlewaretoken": csrf, "next": ""}
    )
    if "/interaction/" not in str(provider_page.url):
        return browser, provider_page
    action = re.search(r'action="([^"]+)"', provider_page.text).group(1)
    provider_origin = f"{provider_page.url.scheme}://{provider_page.url.netloc.decode()}"
    back = browser.post(f"{provider_origin}{action}", data={"login": login, "password": password})
    return browser, back


def test_oidc__code_flow__signs_in_and_grants_the_mapped_qa_role(
    live_server, settings, start_oidc_provider, project, people
):
    provider = start_oidc_provider(
        redirect_uri=f"{live_server.url}/accounts/oidc/sso/login/callback/", users=USERS
    )
    _configure(settings, provider.issuer)
    group_mapping_add(project=project, group="qa", role=Role.QA, actor=people.adam)

    browser, landed = _sign_in(live_server.url)
    assert landed.status_code == 200, landed.text[:500]
    assert str(landed.url).rstrip("/") == live_server.url
    assert "Quentin" in landed.text  # the dashboard greets the signed-in person
    quentin = User.objects.get(email="quentin@corp.example")
    assert quentin.username == "quentin"
    assert Membership.objects.filter(user=quentin, project=project, role=Role.QA).exists()
    synced = AuditEvent.objects.get(action="auth.groups_synced")
    assert synced.data["granted"] == ["qa"]
    assert AuditEvent.objects.filter(action="membership.granted", data__user="quentin").exists()
    # The signed-in person sees their project.
    assert browser.get(f"{live_server.url}/projects/{project.slug}/").status_code == 200
    browser.close()


def test_oidc__group_left__mapped_role_is_revoked_at_next_sign_in(
    live_server, settings, start_oidc_provider, project, people
):
    group_mapping_add(project=project, group="qa", role=Role.QA, actor=people.adam)
    redirect = f"{live_server.url}/accounts/oidc/sso/login/callback/"
    first = start_oidc_provider(redirect_uri=redirect, users=USERS)
    _configure(settings, first.issuer)
    _sign_in(live_server.url)[0].close()
    assert Membership.objects.filter(user__username="quentin", role=Role.QA).exists()

    moved = {"quentin": {**USERS["quentin"], "groups": ["everyone"]}}
    second = start_oidc_provider(redirect_uri=redirect, users=moved)
    _configure(settings, second.issuer)
    browser, landed = _sign_in(live_server.url)
    assert landed.status_code == 200
    assert not Membership.objects.filter(user__username="quentin", role=Role.QA).exists()
    assert AuditEvent.objects.filter(action="membership.revoked", data__user="quentin").exists()
    assert User.objects.filter(email="quentin@corp.example").count() == 1
    browser.close()


def test_oidc__bad_id_token__clear_error_page_and_nobody_signed_in(
    live_server, settings, start_oidc_provider, project, people
):
    provider = start_oidc_provider(
        redirect_uri=f"{live_server.url}/accounts/oidc/sso/login/callback/",
        users=USERS,
        bad_token=True,
    )
    _configure(settings, provider.issuer)
    browser, landed = _sign_in(live_server.url)
    assert landed.status_code != 500
    assert "Sign-in through the identity provider failed" in landed.text
    assert not User.objects.filter(email="quentin@corp.example").exists()
    assert (
        "sessionid" not in browser.cookies
        or browser.get(f"{live_server.url}/").url.path == "/login/"
    )
    browser.close()


def test_oidc__provider_down__clear_error_page_not_500(live_server, settings, people):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    _configure(settings, f"http://127.0.0.1:{closed_port}")
    browser = httpx.Client(follow_redirects=True, timeout=20)
    browser.get(f"{live_server.url}/login/")
    response = browser.post(
        f"{live_server.url}/accounts/oidc/sso/login/",
        data={"csrfmiddlewaretoken": browser.cookies.get("csrftoken")},
    )
    assert response.status_code == 502
    assert "could not be reached" in response.text
    assert "username and password" in response.text
    browser.close()


def test_login_page__no_provider_configured__shows_no_button(client, settings, people):
    _configure(settings, "")
    body = client.get("/login/").content.decode()
    assert "data-sso" not in body
    assert 'name="username"' in body


def test_oidc__invited_person__signs_into_the_same_account_and_keeps_the_password(
    live_server, settings, start_oidc_provider, project, people
):
    from accounts.services import invitation_accept, invitation_create

    _, secret = invitation_create(
        project=project, email="quentin@corp.example", roles=["engineer"], actor=people.adam
    )
    _, local = invitation_accept(
        token=secret,
        username="qlocal",
        password="a-long-password-1",
        password_again="a-long-password-1",
    )
    group_mapping_add(project=project, group="qa", role=Role.QA, actor=people.adam)
    provider = start_oidc_provider(
        redirect_uri=f"{live_server.url}/accounts/oidc/sso/login/callback/", users=USERS
    )
    _configure(settings, provider.issuer)
    browser, landed = _sign_in(live_server.url)
    assert landed.status_code == 200
    assert User.objects.filter(email="quentin@corp.example").count() == 1
    local.refresh_from_db()
    assert local.check_password("a-long-password-1")
    assert set(Membership.objects.filter(user=local).values_list("role", flat=True)) == {
        Role.ENGINEER,
        Role.QA,
    }
    browser.close()
