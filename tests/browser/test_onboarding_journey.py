"""Onboarding in real Chromium (issue 11): an empty instance, /setup/, a project with four
environments, invitations by e-mail that a real SMTP server receives, and an invitee who
joins in a second browser and finds the project with their role."""

from __future__ import annotations

import time
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from tests.accounts import conftest as accounts_fixtures

pytestmark = pytest.mark.django_db(transaction=True)
# The real SMTP server of the invitation tests.
smtp_server = accounts_fixtures.smtp_server

# The one expectation timeout of this journey: generous, for a machine shared by many runs.
expect.set_options(timeout=20_000)

PASSWORD = "release day 2026!"
ENVIRONMENTS = [
    ("dev", "Development", "development"),
    ("qa", "QA", "testing"),
    ("staging", "Staging", "staging"),
    ("production", "Production", "production"),
]
INVITEES = {
    "rita@example.com": ["release_manager"],
    "quinn@example.com": ["qa"],
    "paula@example.com": ["product_owner", "approver"],
}


def wait_for_mail(inbox, address: str, seconds: float = 20) -> None:
    """Wait, as the invitee waits for their inbox, until an e-mail to ``address`` arrived."""
    deadline = time.monotonic() + seconds
    while not inbox.to(address):
        assert time.monotonic() < deadline, f"no e-mail reached {address}"
        time.sleep(0.1)


def test_onboarding__setup_project_invitations_and_an_invitee_joins(
    browser_context, live_server, smtp_server
):
    page = browser_context.new_page()
    page.goto("/")
    expect(page.get_by_role("heading", name="Set up Shipcheck")).to_be_visible()
    assert urlparse(page.url).path == "/setup/"
    page.fill("#id_username", "ops")
    page.fill("#id_email", "ops@example.com")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.get_by_role("button", name="Create the administrator").click()

    expect(page.get_by_role("heading", name="New project")).to_be_visible()
    page.fill("#id_name", "Ledger")
    for index, (name, display, tier) in enumerate(ENVIRONMENTS):
        page.fill(f"#id_env-{index}-name", name)
        page.fill(f"#id_env-{index}-display_name", display)
        page.select_option(f"#id_env-{index}-tier", tier)
    page.get_by_role("button", name="Create project").click()
    expect(page.get_by_role("heading", name="People and roles")).to_be_visible()
    expect(page.locator(".messages")).to_contain_text("created with 4 environments")

    # As docs/sign-in.md says: Projects → the project → Invitations in its settings links.
    page.locator("nav").get_by_role("link", name="Projects", exact=True).first.click()
    page.locator("a.project-card", has_text="Ledger").click()
    expect(page.get_by_role("heading", name="Project settings")).to_be_visible()
    page.locator("section", has_text="Project settings").get_by_role(
        "link", name="Invitations"
    ).click()
    expect(page.get_by_role("heading", name="Invitations", exact=True)).to_be_visible()
    for address, roles in INVITEES.items():
        page.get_by_label("E-mail address").fill(address)
        for role in roles:
            page.locator(f"input[name=roles][value={role}]").check()
        page.get_by_role("button", name="Send invitation").click()
        expect(page.locator("table").get_by_text(address)).to_be_visible()

    # The e-mails reach the SMTP server once the invitations are committed.
    for address in INVITEES:
        wait_for_mail(smtp_server, address)
    link = smtp_server.link("paula@example.com")

    # Paula, in a browser of her own, follows the link from her e-mail.
    other = browser_context.browser.new_context(base_url=live_server.url)
    try:
        invitee = other.new_page()
        invitee.goto(urlparse(link).path)
        expect(invitee.get_by_role("heading", name="Join Ledger")).to_be_visible()
        assert urlparse(invitee.url).path == "/invitations/accept/"
        invitee.get_by_label("Username").fill("paula")
        invitee.get_by_label("Password", exact=True).fill(PASSWORD)
        invitee.get_by_label("Password, again").fill(PASSWORD)
        invitee.get_by_role("button", name="Create my account and join").click()
        expect(invitee.get_by_role("heading", name="Ledger")).to_be_visible()
        assert urlparse(invitee.url).path == "/projects/ledger/"
        badges = invitee.locator(".badge-role")
        expect(badges).to_contain_text(["Approver", "Product owner"], ignore_case=True)
    finally:
        other.close()

    # The administrator sees the invitation accepted.
    page.reload()
    row = page.locator("tr", has_text="paula@example.com")
    expect(row).to_contain_text("Accepted")
