"""The notifications demo: subscribers, channels, a retried delivery and a dead letter; idempotent."""

from __future__ import annotations

from io import StringIO

import pytest

from demo import story
from notifications.choices import DeliveryStatus
from notifications.models import Channel, Delivery, Subscriber

pytestmark = pytest.mark.django_db


def test_demo__a_delivery_log_with_one_retry_and_one_dead_letter(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    story.tell(StringIO())
    assert Subscriber.objects.filter(project__slug="storefront").count() == 7
    assert Channel.objects.filter(project__slug="storefront").count() == 4
    rows = Delivery.objects.filter(project__slug="storefront")
    retried = rows.get(kind="slack")
    assert retried.status == DeliveryStatus.DELIVERED and retried.attempts == 2
    dead = rows.get(status=DeliveryStatus.DEAD)
    assert dead.kind == "webhook" and "410" in dead.last_error
    assert not dead.channel.enabled
    assert rows.filter(kind="email", status=DeliveryStatus.DELIVERED).count() == 2
    counts = (Subscriber.objects.count(), Channel.objects.count(), Delivery.objects.count())
    story.tell(StringIO())
    assert (Subscriber.objects.count(), Channel.objects.count(), Delivery.objects.count()) == counts
