"""Scope in the browser: the release manager adds and removes tickets and commits on the release page."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from releases.models import Commit, Ticket
from releases.services import release_commits_add, release_tickets_add

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
SHA = "4f2c9e1ab37d00aa11bb22cc33dd44ee55ff6677"


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_release_manager_adds_a_ticket__it_shows_in_scope_and_is_audited(people, release):
    client = _client(people.alice)
    page = client.get(release.get_absolute_url()).content.decode()
    assert "Add a ticket" in page

    answer = client.post(
        reverse("releases:ticket-add", args=[release.pk]),
        {
            "key": "SHOP-7",
            "title": "One-click checkout",
            "url": "https://tracker.example.com/SHOP-7",
            "type": "Story",
        },
        follow=True,
    )
    body = answer.content.decode()
    assert answer.redirect_chain[-1][0].endswith("#scope")
    assert "SHOP-7 is in the scope of 2.4.0." in body
    assert "One-click checkout" in body
    event = AuditEvent.objects.filter(action="release.scope_changed", release_id=release.pk).get()
    assert event.actor_label == "alice" and event.data["added"] == ["SHOP-7"]
    assert Ticket.objects.get(release=release, key="SHOP-7").type == "Story"


def test_adding_a_ticket_with_htmx_answers_the_page_region(people, release):
    answer = _client(people.alice).post(
        reverse("releases:ticket-add", args=[release.pk]), {"key": "SHOP-8"}, **HTMX
    )
    assert answer.status_code == 200
    body = answer.content.decode()
    assert 'id="release-live"' in body and "SHOP-8" in body
    assert "<html" not in body


def test_bad_ticket_input__clear_message_and_nothing_changes(people, release):
    client = _client(people.alice)
    for data, message in [
        ({"key": ""}, "Write the ticket&#x27;s key, such as SHOP-123."),
        ({"key": "SHOP-9", "url": "not a link at all"}, "The link must be a web address"),
        (
            {"key": "SHOP-9", "url": "ftp://files.example.com/x"},
            "must start with http:// or https://",
        ),
        ({"key": "X" * 65}, "at most 64 characters"),
    ]:
        answer = client.post(reverse("releases:ticket-add", args=[release.pk]), data, **HTMX)
        assert answer.status_code == 200
        assert message in answer.content.decode(), data
    assert not Ticket.objects.filter(release=release).exists()
    assert not AuditEvent.objects.filter(action="release.scope_changed").exists()


def test_release_manager_removes_a_ticket(people, release):
    release_tickets_add(
        release=release, tickets=[{"key": "SHOP-1"}, {"key": "SHOP-2"}], actor=people.alice
    )
    client = _client(people.alice)
    assert "Remove SHOP-1" in client.get(release.get_absolute_url()).content.decode()

    answer = client.post(
        reverse("releases:ticket-remove", args=[release.pk]), {"key": "SHOP-1"}, follow=True
    )
    assert "SHOP-1 is no longer in the scope of 2.4.0." in answer.content.decode()
    assert list(Ticket.objects.filter(release=release).values_list("key", flat=True)) == ["SHOP-2"]
    again = client.post(
        reverse("releases:ticket-remove", args=[release.pk]), {"key": "SHOP-1"}, **HTMX
    )
    assert "SHOP-1 is not in the scope of 2.4.0." in again.content.decode()


def test_release_manager_attaches_and_detaches_a_commit(people, release):
    client = _client(people.alice)
    answer = client.post(
        reverse("releases:commit-add", args=[release.pk]),
        {"sha": SHA.upper(), "message": "feat: one-click checkout", "author": "Bob"},
        follow=True,
    )
    body = answer.content.decode()
    assert answer.redirect_chain[-1][0].endswith("#commits")
    assert "Commit 4f2c9e1a attached." in body and "feat: one-click checkout" in body
    assert Commit.objects.get(release=release).sha == SHA

    twice = client.post(reverse("releases:commit-add", args=[release.pk]), {"sha": SHA}, **HTMX)
    assert "already attached" in twice.content.decode()
    bad = client.post(reverse("releases:commit-add", args=[release.pk]), {"sha": "xyz"}, **HTMX)
    assert "7 to 64 hexadecimal digits" in bad.content.decode()

    gone = client.post(
        reverse("releases:commit-remove", args=[release.pk]), {"sha": SHA}, follow=True
    )
    assert "Commit 4f2c9e1a detached." in gone.content.decode()
    assert not Commit.objects.filter(release=release).exists()
    assert (
        AuditEvent.objects.filter(action="release.commits_removed", release_id=release.pk).count()
        == 1
    )


@pytest.mark.parametrize("name", ["bob", "quinn", "aud"])
def test_people_who_may_not_change_scope__no_forms_and_403(people, release, name):
    release_commits_add(release=release, commits=[{"sha": SHA}], actor=people.alice)
    release_tickets_add(release=release, tickets=[{"key": "SHOP-1"}], actor=people.alice)
    client = _client(getattr(people, name))
    page = client.get(release.get_absolute_url()).content.decode()
    assert (
        "Add a ticket" not in page and "Attach a commit" not in page and "Remove SHOP-1" not in page
    )
    for url, data in [
        ("releases:ticket-add", {"key": "SHOP-2"}),
        ("releases:ticket-remove", {"key": "SHOP-1"}),
        ("releases:commit-add", {"sha": "abcdef1"}),
        ("releases:commit-remove", {"sha": SHA}),
    ]:
        assert client.post(reverse(url, args=[release.pk]), data).status_code == 403
    assert Ticket.objects.filter(release=release).count() == 1
    assert Commit.objects.filter(release=release).count() == 1


def test_outsider_gets_404(people, release):
    client = _client(people.olga)
    for url in ("releases:ticket-add", "releases:commit-add"):
        assert (
            client.post(reverse(url, args=[release.pk]), {"key": "X-1", "sha": SHA}).status_code
            == 404
        )


def test_reading_the_scope_forms_is_refused(people, release):
    assert (
        _client(people.alice).get(reverse("releases:ticket-add", args=[release.pk])).status_code
        == 405
    )
