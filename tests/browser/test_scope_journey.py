"""Scope in the browser: the release manager adds a ticket and a commit, then removes the ticket."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from releases.models import Commit, Ticket

pytestmark = pytest.mark.django_db(transaction=True)


def test_release_manager_edits_the_scope_on_the_release_page(login_as, people, release):
    page = login_as(people.alice)
    page.goto(release.get_absolute_url())
    scope = page.locator("#scope")
    expect(scope).to_contain_text("No tickets are linked.")

    scope.get_by_label("Key").fill("SHOP-42")
    scope.get_by_label("Title").fill("Pay with one click")
    scope.get_by_role("button", name="Add ticket").click()
    expect(page.locator("#scope table")).to_contain_text("Pay with one click")
    expect(page.get_by_text("SHOP-42 is in the scope of 2.4.0.")).to_be_visible()

    commits = page.locator("#commits")
    commits.get_by_text("Attach a commit").click()
    commits.get_by_label("Hash").fill("4f2c9e1ab37d")
    commits.get_by_label("Message").fill("feat: one-click payment")
    commits.get_by_role("button", name="Attach commit").click()
    expect(page.locator("#commits .commit-list")).to_contain_text("feat: one-click payment")

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#scope").get_by_role("button", name="Remove SHOP-42").click()
    expect(page.locator("#scope")).to_contain_text("No tickets are linked.")
    assert not Ticket.objects.filter(release=release).exists()
    assert Commit.objects.filter(release=release, sha="4f2c9e1ab37d").exists()
