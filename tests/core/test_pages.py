"""The shell around the apps: notifications page, error pages, domain errors in pages."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from core.models import Notification
from core.notifications import notification_send


def _client(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def test_notifications__lists_mine_only_and_counts_unread_in_the_top_bar(people, project):
    notification_send(
        recipients=[people.alice],
        subject="Approve 2.4.0 for production",
        url="/releases/1/",
        project=project,
        urgent=True,
    )
    notification_send(recipients=[people.bob], subject="For Bob only")
    client = _client(people.alice)
    body = client.get(reverse("notifications")).content.decode()
    assert "Approve 2.4.0 for production" in body and "Urgent" in body
    assert "For Bob only" not in body
    assert 'class="bell-count">1<' in client.get(reverse("dashboard")).content.decode()


def test_notifications__badge_stops_counting_at_99_plus(people):
    Notification.objects.bulk_create(
        Notification(recipient=people.alice, subject=f"Note {n}") for n in range(120)
    )
    body = _client(people.alice).get(reverse("dashboard")).content.decode()
    assert 'class="bell-count">99+<' in body


def test_notifications__mark_all_read(people):
    notification_send(recipients=[people.alice], subject="One")
    notification_send(recipients=[people.alice], subject="Two")
    client = _client(people.alice)
    response = client.post(reverse("notifications-read"), follow=True)
    assert "Marked 2 notifications read." in response.content.decode()
    assert not Notification.objects.filter(recipient=people.alice, read_at__isnull=True).exists()
    assert "bell-count" not in client.get(reverse("dashboard")).content.decode()


def test_notifications__mark_all_read_without_csrf__is_refused(people):
    notification_send(recipients=[people.alice], subject="One")
    client = _client(people.alice, enforce_csrf_checks=True)
    assert client.post(reverse("notifications-read")).status_code == 403
    assert Notification.objects.filter(read_at__isnull=True).count() == 1


def test_notifications__script_urls_are_not_links(people):
    notification_send(recipients=[people.alice], subject="Odd", url="javascript:alert(1)")
    body = _client(people.alice).get(reverse("notifications")).content.decode()
    assert "javascript:alert" not in body


def test_notifications__empty_state(people):
    body = _client(people.alice).get(reverse("notifications")).content.decode()
    assert "No notifications" in body


def test_unknown_page__answers_a_friendly_404(people):
    response = _client(people.alice).get("/no/such/page/")
    assert response.status_code == 404
    assert "Nothing here" in response.content.decode()
