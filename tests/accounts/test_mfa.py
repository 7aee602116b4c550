"""Second factor: TOTP with recovery codes, passkey pages, and the project rule for approvers."""

from __future__ import annotations

import json
import re
import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.test import Client

from accounts.services import project_security_update
from approvals.choices import ApprovalKind, Decision
from approvals.exceptions import ApprovalDenied
from approvals.models import Approval
from approvals.services import approval_decide
from audit.models import AuditEvent
from releases.services import deployment_finish, release_promote

pytestmark = pytest.mark.django_db


def _code(secret: str, steps: int = 0) -> str:
    """The code ``steps`` 30-second steps from now; never one about to change (so the server
    reads the same current step as this test)."""
    left = 30 - time.time() % 30
    if left < 3:
        time.sleep(left + 0.1)
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + steps))


def _login(user) -> tuple[Client, object]:
    browser = Client()
    return browser, browser.post("/login/", {"username": user.username, "password": "pass"})


def _confirm_password(browser, next_url: str) -> None:
    """allauth asks for the password again before a second factor is added."""
    page = browser.get(next_url)
    assert page.status_code == 302 and page["Location"].startswith("/accounts/reauthenticate/")
    again = browser.post(page["Location"], {"password": "pass"})
    assert again.status_code == 302


def test_totp__set_up_in_the_browser__then_sign_in_needs_a_code(people):
    browser, response = _login(people.ada)
    assert response.status_code == 302
    _confirm_password(browser, "/accounts/2fa/totp/activate/")
    page = browser.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200
    secret = re.search(r'id="authenticator_secret"[^>]*value="([A-Z2-7]+)"', page.content.decode())
    secret = secret.group(1) if secret else browser.session["mfa.totp.secret"]
    done = browser.post("/accounts/2fa/totp/activate/", {"code": _code(secret)})
    assert done.status_code == 302
    assert Authenticator.objects.filter(user=people.ada, type=Authenticator.Type.TOTP).exists()
    assert "active" in browser.get("/account/security/").content.decode()
    recovery = browser.get("/accounts/2fa/recovery-codes/")
    codes = RecoveryCodes(
        Authenticator.objects.get(user=people.ada, type=Authenticator.Type.RECOVERY_CODES)
    ).get_unused_codes()
    assert codes and codes[0] in recovery.content.decode()

    # Signing in now stops at the second step; the password alone is not enough.
    fresh, step = _login(people.ada)
    assert step.status_code == 302 and step["Location"].startswith("/accounts/2fa/authenticate/")
    assert fresh.get("/").status_code == 302
    wrong = fresh.post("/accounts/2fa/authenticate/", {"code": "000000"})
    assert wrong.status_code == 200 and fresh.get("/").status_code == 302
    # A recovery code works once.
    ok = fresh.post("/accounts/2fa/authenticate/", {"code": codes[0]})
    assert ok.status_code == 302
    assert fresh.get("/").status_code == 200
    third, _ = _login(people.ada)
    third.post("/accounts/2fa/authenticate/", {"code": codes[0]})
    assert third.get("/").status_code == 302


@pytest.mark.parametrize(("steps", "accepted"), [(-1, True), (1, True), (-2, False), (2, False)])
def test_totp_code__of_the_next_or_previous_step_works__older_ones_do_not(people, steps, accepted):
    secret = "JBSWY3DPEHPK3PXP"
    TOTP.activate(people.ada, secret)
    browser, step = _login(people.ada)
    assert step["Location"].startswith("/accounts/2fa/authenticate/")
    browser.post("/accounts/2fa/authenticate/", {"code": _code(secret, steps)})
    assert (browser.get("/").status_code == 200) is accepted


def test_passkey_pages__render_and_registration_begins(people):
    browser, _ = _login(people.ada)
    _confirm_password(browser, "/accounts/2fa/webauthn/add/")
    page = browser.get("/accounts/2fa/webauthn/add/")
    assert page.status_code == 200
    body = page.content.decode()
    # Registration has begun: the page carries the credential-creation options (a fresh
    # challenge for this person) that the browser's WebAuthn API needs.
    data = json.loads(
        re.search(r'<script id="js_data" type="application/json">(.*?)</script>', body, re.S).group(
            1
        )
    )
    options = data["creation_options"]["publicKey"]
    assert options["challenge"] and options["user"]["name"] == "ada@example.com"
    assert options["rp"]["id"] == "testserver"
    security = browser.get("/account/security/").content.decode()
    assert "Add a passkey" in security


@pytest.fixture
def at_staging(release, envs, people, gates_only):
    gates_only("approvals")
    for env in ("dev", "staging"):
        deployment = release_promote(release=release, environment=envs[env], actor=people.bob)
        deployment_finish(deployment=deployment, succeeded=True, actor=people.bob)
    release.refresh_from_db()
    return release


def _approve(release, person, environment, kind=ApprovalKind.DEPLOYMENT):
    return approval_decide(
        release=release, kind=kind, decision=Decision.APPROVE, environment=environment, actor=person
    )


def test_rule_on__production_approval_without_mfa__is_refused_with_reason(
    at_staging, envs, people, project
):
    project_security_update(project=project, actor=people.adam, require_mfa_for_approvers=True)
    with pytest.raises(ApprovalDenied, match="requires a second factor") as refused:
        _approve(at_staging, people.ada, envs["production"])
    assert refused.value.code == "mfa_required"
    assert not Approval.objects.exists()
    denial = AuditEvent.objects.get(action="approval.denied")
    assert "second factor" in denial.reason

    TOTP.activate(people.ada, "JBSWY3DPEHPK3PXP")
    approval = _approve(at_staging, people.ada, envs["production"])
    assert approval.pk


def test_rule_off__production_approval_without_mfa__is_given(at_staging, envs, people):
    assert _approve(at_staging, people.ada, envs["production"]).pk


def test_rule_on__staging_sign_off_needs_no_mfa(at_staging, envs, people, project):
    project_security_update(project=project, actor=people.adam, require_mfa_for_approvers=True)
    approval = approval_decide(
        release=at_staging,
        kind=ApprovalKind.QA_SIGNOFF,
        decision=Decision.APPROVE,
        environment=envs["staging"],
        actor=people.quinn,
    )
    assert approval.pk


def test_rule_on__api_refusal_names_the_reason(at_staging, envs, people, project):
    from rest_framework.test import APIClient

    project_security_update(project=project, actor=people.adam, require_mfa_for_approvers=True)
    api = APIClient()
    api.force_login(people.ada)
    response = api.post(
        f"/api/v1/release-approvals/{at_staging.pk}/approve/",
        {"kind": "deployment", "environment": "production"},
        format="json",
    )
    assert response.status_code == 403, response.content
    assert response.json()["error"] == "mfa_required"
    assert "second factor" in response.json()["message"]


def test_project_security_page__admin_sets_the_rule(client, people, project):
    client.force_login(people.bob)
    assert client.get(f"/projects/{project.slug}/sign-in-security/").status_code == 403
    client.force_login(people.adam)
    page = client.get(f"/projects/{project.slug}/sign-in-security/")
    assert "second factor optional" in page.content.decode()
    client.post(f"/projects/{project.slug}/sign-in-security/", {"require_mfa_for_approvers": "on"})
    assert (
        "second factor required"
        in client.get(f"/projects/{project.slug}/sign-in-security/").content.decode()
    )
    assert AuditEvent.objects.filter(action="project.security_changed").count() == 1


def test_project_security_api__admin_sets_the_rule(people, project):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_login(people.adam)
    url = f"/api/v1/projects/{project.slug}/sign-in-security/"
    assert api.get(url).json() == {"require_mfa_for_approvers": False}
    changed = api.put(url, {"require_mfa_for_approvers": True}, format="json")
    assert changed.status_code == 200 and changed.json()["require_mfa_for_approvers"] is True
    assert api.put(url, {"require_mfa_for_approvers": "maybe"}, format="json").status_code == 400
    api.force_login(people.ada)
    assert api.put(url, {"require_mfa_for_approvers": False}, format="json").status_code == 403
    assert api.get(url).status_code == 403
