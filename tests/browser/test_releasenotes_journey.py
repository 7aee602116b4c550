"""In Chromium: a release manager regenerates, edits and publishes a release's notes."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from releasenotes.models import NotesVersion
from releasenotes.services import tracker_set
from tests.releasenotes.helpers import add_commits, add_tickets

pytestmark = pytest.mark.django_db(transaction=True)


def test_release_manager_regenerates_edits_and_publishes_the_notes(release, people, login_as):
    tracker_set(
        project=release.project,
        actor=people.adam,
        template="https://tracker.example.com/browse/{key}",
    )
    add_tickets(release, people.alice, ("PAY-9", "One-click pay"))
    add_commits(
        release, people.alice, "feat(checkout): one-click pay (PAY-9)", "fix: coupon rounding"
    )
    page = login_as(people.alice)
    page.goto(release.get_absolute_url() + "#panel-notes")
    section = page.locator("#notes-section")
    expect(section).to_contain_text("Not started")

    section.get_by_role("button", name="Regenerate").click()
    expect(section).to_contain_text("Regenerated from the commits and tickets.")
    expect(section.locator(".prose h2", has_text="New")).to_be_visible()
    expect(section.get_by_role("link", name="PAY-9")).to_have_attribute(
        "href", "https://tracker.example.com/browse/PAY-9"
    )

    section.get_by_role("link", name="Edit").click()
    editor = page.locator("#notes-editor textarea[name=written]")
    expect(editor).to_be_visible()
    editor.fill("Checkout takes **one click** now.")
    page.locator("#notes-editor").get_by_role("button", name="Save").click()
    section = page.locator("#notes-section")
    expect(section).to_contain_text("Your part of the notes is saved.")
    expect(section.locator(".prose strong", has_text="one click")).to_be_visible()

    section.get_by_role("button", name="Publish").click()
    # Publishing refreshes the release page: its notes card shows the published Markdown too.
    expect(page.locator("#notes")).to_contain_text("Checkout takes one click now.")
    expect(page.locator("#notes-section")).to_contain_text("Version 1,")
    expect(
        page.locator("#notes-section").get_by_role("link", name="Markdown (version 1)")
    ).to_be_visible()
    version = NotesVersion.objects.get(release=release)
    assert (
        "Checkout takes **one click** now." in version.markdown and "## Fixed" in version.markdown
    )
