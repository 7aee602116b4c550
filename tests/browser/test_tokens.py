"""A project admin creates a CI token in real Chromium, sees it once, uses it, and revokes it."""

from __future__ import annotations

import httpx2 as httpx
import pytest
from playwright.sync_api import expect

from projects.models import ApiToken

pytestmark = pytest.mark.django_db(transaction=True)


def test_token_lifecycle__create_shown_once_use_then_revoke(login_as, people, project, live_server):
    page = login_as(people.adam)
    page.goto("/projects/payments/")
    page.get_by_role("link", name="API tokens").first.click()
    expect(page.get_by_role("heading", name="API tokens", exact=True)).to_be_visible()
    expect(page.locator("#token-table")).to_contain_text("No tokens yet")

    page.fill("#id_name", "GitHub Actions: deploy")
    page.get_by_label("Test results").uncheck()
    page.select_option("#id_expires_in", "30")
    page.get_by_role("button", name="Create token").click()

    secret = page.locator("#new-token")
    expect(secret).to_be_visible()
    plain = secret.input_value()
    assert plain.startswith("shp_")
    expect(page.locator("#token-create")).to_contain_text("never shown again")
    row = page.locator("#token-table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("GitHub Actions: deploy")
    expect(row).to_contain_text("active")
    expect(row).to_contain_text("never used")
    expect(row).not_to_contain_text("test_results")

    # The pipeline uses it …
    answer = httpx.get(
        f"{live_server.url}/api/v1/ci/whoami/", headers={"Authorization": f"Bearer {plain}"}
    )
    assert answer.status_code == 200
    assert answer.json()["scopes"] == ["deployments", "read", "releases"]

    # … and the page shows when, but never the secret again.
    page.reload()
    expect(page.locator("#token-table tbody tr")).not_to_contain_text("never used")
    assert plain not in page.content()

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#token-table").get_by_role("button", name="Revoke").click()
    expect(page.locator("#token-table")).to_contain_text("is revoked")
    expect(page.locator("#token-table tbody tr")).to_contain_text("revoked")
    assert ApiToken.objects.get().revoked_at is not None
    refused = httpx.get(
        f"{live_server.url}/api/v1/ci/whoami/", headers={"Authorization": f"Bearer {plain}"}
    )
    assert refused.status_code == 401


def test_token_page__not_offered_to_people_who_are_not_admins(login_as, people):
    page = login_as(people.alice)
    page.goto("/projects/payments/")
    expect(page.get_by_role("link", name="API tokens")).to_have_count(0)
    response = page.goto("/projects/payments/tokens/")
    assert response.status == 404
