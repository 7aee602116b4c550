"""A release manager reads the change fail rate in real Chromium and follows it to its deployments."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.metrics.conftest import history  # noqa: F401 - the fixture golden builds on
from tests.metrics.test_golden import golden  # noqa: F401 - the known history

pytestmark = pytest.mark.django_db(transaction=True)


def test_change_fail_rate_leads_to_the_deployments_behind_it(login_as, people, golden):  # noqa: F811
    page = login_as(people.alice)
    page.get_by_role("link", name="Metrics", exact=True).click()
    expect(page.get_by_role("heading", name="Delivery metrics", exact=True)).to_be_visible()
    page.fill("#m-from", "2026-03-02")
    page.fill("#m-to", "2026-03-15")
    page.get_by_role("button", name="Show").click()

    rate = page.locator('[data-metric="change_failure_rate"]')
    expect(rate).to_have_text("50.0 %")
    expect(page.locator("#metric-change_failure_rate")).to_contain_text("4 of 8 deployments")
    rate.click()

    expect(page.get_by_role("heading", name="Production deployments")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/delivery/deployments/\?.*only=failure"))
    rows = page.locator("table.metrics-rows tbody tr")
    expect(rows).to_have_count(4)
    expect(page.locator("table.metrics-rows")).to_contain_text("caused an incident")
    expect(page.locator("table.metrics-rows")).to_contain_text("followed by a hotfix")
    expect(page.get_by_role("link", name="CSV")).to_be_visible()
