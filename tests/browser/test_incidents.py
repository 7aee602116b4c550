"""From a failed canary to a closed post-mortem, in real Chromium; the release record shows it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from incidents.models import Incident, PostMortem
from tests.incidents.scenarios import make_failed_canary

pytestmark = pytest.mark.django_db(transaction=True)


def test_release_manager__incident_from_failed_canary_to_closed_postmortem(
    login_as, people, release, envs, settings
):
    make_failed_canary(release=release, envs=envs, people=people, settings=settings)
    page = login_as(people.alice)
    page.goto(release.get_absolute_url())
    page.get_by_role("link", name="Open an incident").first.click()
    expect(page.locator("h1")).to_contain_text("Open an incident")
    expect(page.locator("#id_title")).to_have_value("2.4.0 failed its canary in Production")
    expect(page.locator("#id_impact")).to_have_value(re.compile("Checkout errors at 12 %"))
    page.get_by_role("button", name="Open the incident").click()

    expect(page.locator("#incident-title")).to_contain_text("2.4.0 failed its canary")
    expect(page.locator("#incident-cause")).to_contain_text("2.4.0")
    incident = Incident.objects.get()

    page.select_option("#id_state", "identified")
    page.fill("#id_actions_taken", "Found a bad cache key in checkout.")
    page.fill("#id_next_steps", "Keep production on 2.3.x while the fix is written.")
    page.get_by_role("button", name="Post update").click()
    expect(page.locator("#incident-state")).to_contain_text("Identified")
    expect(page.locator(".update-body").first).to_contain_text("STATUS: Identified")

    page.select_option("#id_state", "resolved")
    page.fill("#id_actions_taken", "Canary traffic drained; errors back to normal.")
    page.get_by_role("button", name="Post update").click()
    expect(page.locator("#incident-state")).to_contain_text("Resolved")
    expect(page.locator(".update-body")).to_have_count(2)

    page.get_by_role("link", name="Post-mortem (draft)").click()
    page.fill("#id_summary", "A cache key collision broke checkout for canary traffic.")
    page.fill("#id_root_causes", "The key omitted the currency.")
    page.fill("#id_went_well", "The canary caught it at 5 % traffic.")
    page.get_by_role("button", name="Save the post-mortem").click()
    expect(page.locator("#pm-summary")).to_contain_text("cache key collision")
    page.get_by_role("button", name="Send for review").click()
    expect(page.locator("#pm-state")).to_contain_text("In review")
    page.get_by_role("button", name="Mark reviewed").click()
    expect(page.locator("#pm-state")).to_contain_text("Reviewed")
    page.get_by_role("button", name="Close").click()
    expect(page.locator("#pm-state")).to_contain_text("Closed")
    assert PostMortem.objects.get(incident=incident).state == "closed"

    page.goto(f"/audit/releases/{release.pk}/record/")
    expect(page.locator("body")).to_contain_text("Incident reports and closing")
    expect(page.locator("body")).to_contain_text("2.4.0 failed its canary in Production")
