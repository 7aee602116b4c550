"""A passkey, registered and used in real Chromium with a virtual authenticator (WebAuthn over CDP).

The authenticator is Chromium's own test device (``WebAuthn.addVirtualAuthenticator``): the page's
``navigator.credentials.create()`` and ``get()`` run for real, allauth checks the attestation and
the assertion, and nothing of ours is replaced.
"""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)


def _virtual_authenticator(page) -> None:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )


def test_passkey__registered_on_the_security_page__then_signs_in_as_the_second_step(
    login_as, people
):
    page = login_as(people.ada)
    _virtual_authenticator(page)
    page.goto("/account/security/")
    page.get_by_role("link", name="Add a passkey").click()
    # allauth asks for the password again before a second factor is added.
    page.fill("input[name=password]", "pass")
    page.locator("main button[type=submit]").first.click()
    page.fill("input[name=name]", "Laptop passkey")
    page.locator("#mfa_webauthn_add").click()
    page.wait_for_url(lambda url: "/webauthn/add/" not in url)
    assert Authenticator.objects.filter(user=people.ada, type=Authenticator.Type.WEBAUTHN).exists()
    page.goto("/account/security/")
    expect(page.locator("main")).to_contain_text("1 registered")

    # Signed out, the password alone no longer signs in: the passkey is the second step.
    page.context.clear_cookies()
    page.goto("/login/")
    page.fill("input[name=username]", "ada")
    page.fill("input[name=password]", "pass")
    page.locator("main button[type=submit]").first.click()
    page.wait_for_url("**/accounts/2fa/authenticate/**")
    page.locator("#mfa_webauthn_authenticate").click()
    expect(page.locator(".usermenu")).to_be_visible()
    assert page.context.request.get("/").status == 200
