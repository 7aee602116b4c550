"""A dead letter sent again from the delivery log, in real Chromium (htmx swaps its row).

A webhook receiver (a real local HTTP server) failed every attempt, so the row is a
dead letter; the receiver is fixed, the release manager presses *Send again* and the
row turns into a waiting delivery in place; after a reload it reads *Delivered*.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from notifications import services
from notifications.choices import DeliveryStatus
from notifications.models import Delivery
from tests.monitoring.servers import Answer, StubServer
from tests.notifications.conftest import announce, drain

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def receiver():
    server = StubServer()
    yield server
    server.stop()


def test_send_again__the_dead_letter_row_is_replaced_and_then_delivered(
    login_as, people, project, receiver, settings
):
    settings.SHIPCHECK_FETCH_ALLOWLIST = ["127.0.0.1"]
    settings.SHIPCHECK_NOTIFY_RETRY_BASE_SECONDS = 0
    settings.SHIPCHECK_NOTIFY_MAX_ATTEMPTS = 2
    services.channel_create(
        project=project,
        actor=people.adam,
        kind="webhook",
        name="Ops bot",
        url=receiver.url("/hook"),
        audiences=["team"],
    )
    receiver.route("/hook", Answer(500))
    announce(project, subject="2.4.0 reached production")
    drain()
    row = Delivery.objects.get()
    assert row.status == DeliveryStatus.DEAD

    receiver.route("/hook", Answer(200))
    page = login_as(people.alice)
    page.goto(reverse("notifications:log", args=[project.slug]) + "?status=dead")
    line = page.locator(f"#delivery-{row.pk}")
    expect(line).to_contain_text("Dead letter")
    line.get_by_role("button", name="Send again to Ops bot").click()
    expect(line).not_to_contain_text("Dead letter")
    expect(line.get_by_role("button")).to_have_count(0)
    page.goto(reverse("notifications:log", args=[project.slug]))
    expect(page.locator(f"#delivery-{row.pk}")).to_contain_text("Delivered")
    assert receiver.hits["/hook"] == 3
