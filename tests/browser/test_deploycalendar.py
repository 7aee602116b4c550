"""In real Chromium: a release manager sees the freeze band and the blocked gate, and queues."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from deploycalendar.models import QueuedPromotion
from tests.deploycalendar.conftest import freeze_now, staged  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db(transaction=True)


def test_release_manager__sees_freeze_and_blocked_gate__queues_the_promotion(
    login_as,
    people,
    staged,  # noqa: F811
    freeze_now,  # noqa: F811 - the fixtures imported above
):
    freeze_now()
    page = login_as(people.alice)
    page.goto("/calendar/?project=payments")
    expect(page.locator("td.is-today .band-freeze").first).to_contain_text("Year-end freeze")
    expect(page.locator(".calendar-rules")).to_contain_text("Year-end freeze")
    # Week view by a plain link, swapped by htmx.
    page.get_by_role("link", name="Week view").click()
    expect(page.locator("#calendar")).to_contain_text("Week of")

    page.goto(staged.get_absolute_url())
    expect(page.get_by_text("production is frozen ('Year-end freeze') until").first).to_be_visible()
    page.get_by_role("button", name="Queue for").click()
    expect(page.locator("#calendar-panel")).to_contain_text("Waiting for the window")
    item = QueuedPromotion.objects.get()
    assert item.status == "waiting" and item.requested_by == people.alice
