"""An auditor samples changes in real Chromium: filters the trail, opens and downloads a release record."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from audit.checkpoints import audit_checkpoint_take
from audit.models import AuditEvent
from releases.services import release_create, release_update

pytestmark = pytest.mark.django_db(transaction=True)


def test_auditor_journey__filters_events_and_downloads_the_release_record(
    login_as, people, release, other_project, tmp_path
):
    release_update(release=release, actor=people.alice, title="Quicker checkout")
    release_update(release=release, actor=people.alice, title="Quickest checkout")
    release_create(
        project=other_project, version="9.0.0", title="Not for this auditor", actor=people.olga
    )
    audit_checkpoint_take()

    page = login_as(people.aud)
    page.get_by_role("link", name="Audit", exact=True).click()
    expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()
    expect(page.locator(".audit-row").first).to_be_visible()
    expect(page.locator("#audit-events")).not_to_contain_text("Not for this auditor")

    # Narrow to one project, one person and one action; the table follows (htmx) and so does the URL.
    page.select_option("#f-project", "payments")
    page.fill("#f-person", "alice")
    page.fill("#f-action", "release.updated")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator(".audit-row")).to_have_count(2)
    expect(page).to_have_url(re.compile(r"action=release\.updated"))
    expect(page.locator(".audit-row").first).to_contain_text("alice")
    expect(page.locator(".audit-checkpoint")).to_contain_text("Latest signed checkpoint")

    # A malformed date is explained, not failed on.
    page.fill("#f-from", "last tuesday")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator(".audit-filter-error")).to_contain_text("is not a date")
    page.fill("#f-from", "")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator(".audit-row")).to_have_count(2)

    # The filtered trail downloads as JSON Lines, as shown.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export JSON Lines").click()
    lines = download_info.value.path().read_text().splitlines()
    assert json.loads(lines[0])["filters"]["action"] == "release.updated"
    assert len(lines) == 4  # header, two events, end line

    # Each event links to its object: the release. From there, one click to its record.
    page.locator(".audit-row").first.get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(rf"/releases/{release.pk}/$"))
    page.locator("#release-record-link").click()
    expect(page.get_by_role("heading", name="Release record: Payments 2.4.0")).to_be_visible()
    expect(page.locator("#record-audit")).to_contain_text(
        AuditEvent.objects.filter(release_id=release.pk).order_by("-seq").first().hash
    )
    with page.expect_download() as download_info:
        page.locator("#record-pdf").click()
    pdf = download_info.value
    assert pdf.suggested_filename == "release-record-payments-2.4.0.pdf"
    assert pdf.path().read_bytes().startswith(b"%PDF-")
