"""From an empty instance in real Chromium: the first administrator sets up Shipcheck,
creates a project with four environments in the page, and gives a person a role."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from projects.models import Environment, Membership, Project

pytestmark = pytest.mark.django_db(transaction=True)


def test_first_run__admin_creates_a_project_with_four_environments(browser_context):
    page = browser_context.new_page()
    page.goto("/login/")
    assert page.url.endswith("/setup/")
    expect(page.get_by_role("heading", name="Set up Shipcheck")).to_be_visible()

    page.fill("#id_username", "ops")
    page.fill("#id_email", "ops@example.com")
    page.fill("#id_password1", "release day 2026!")
    page.fill("#id_password2", "release day 2026!")
    page.get_by_role("button", name="Create the administrator").click()

    expect(page.get_by_role("heading", name="New project")).to_be_visible()
    page.fill("#id_name", "Ledger")
    page.fill("#id_description", "Accounting service")
    rows = [
        ("dev", "Development", "development"),
        ("qa", "QA", "testing"),
        ("staging", "Staging", "staging"),
        ("production", "Production", "production"),
    ]
    for index, (name, display, tier) in enumerate(rows):
        page.fill(f"#id_env-{index}-name", name)
        page.fill(f"#id_env-{index}-display_name", display)
        page.select_option(f"#id_env-{index}-tier", tier)
    page.get_by_role("button", name="Create project").click()

    expect(page.get_by_role("heading", name="People and roles")).to_be_visible()
    expect(page.locator(".messages")).to_contain_text("created with 4 environments")
    expect(page.locator("#person-ops")).to_contain_text("Project admin")

    project = Project.objects.get(slug="ledger")
    assert list(
        Environment.objects.filter(project=project).order_by("order").values_list("name", "tier")
    ) == [
        ("dev", "development"),
        ("qa", "testing"),
        ("staging", "staging"),
        ("production", "production"),
    ]

    # An existing person gets a role, by e-mail address.
    get_user_model().objects.create_user("nina", "nina@example.com", "pass")
    page.fill("#id_person", "nina@example.com")
    page.select_option("#id_role", "qa")
    page.fill("#id_reason", "Tests the ledger")
    page.get_by_role("button", name="Give the role").click()
    expect(page.locator("#person-nina")).to_contain_text("QA")
    assert Membership.objects.filter(project=project, user__username="nina", role="qa").exists()

    # The environments page shows the promotion order the admin typed.
    page.locator(".settings-nav").get_by_role("link", name="Environments").click()
    names = page.locator(".env-order-table tbody tr code").all_inner_texts()
    assert names == ["dev", "qa", "staging", "production"]
