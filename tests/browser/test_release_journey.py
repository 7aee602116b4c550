"""A release manager plans a release and moves it along the pipeline in real Chromium."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from releases.choices import DeploymentStatus
from releases.models import Deployment, Release

pytestmark = pytest.mark.django_db(transaction=True)


def test_release_journey__create_deploy_to_dev_read_gates_promote_to_staging(
    login_as, people, project, gates_only
):
    gates_only("releases")
    page = login_as(people.alice)

    page.get_by_role("link", name="Releases", exact=True).click()
    page.get_by_role("link", name="+ New release").first.click()
    expect(page.get_by_role("heading", name="Plan a release")).to_be_visible()

    # Inline validation: the version is checked as soon as the field is left.
    page.fill("#id_version", "1.0")
    page.press("#id_version", "Tab")
    expect(page.locator("#errors-version")).to_contain_text("is not a semantic version")
    page.fill("#id_version", "3.0.0")
    page.press("#id_version", "Tab")
    expect(page.locator("#errors-version")).to_be_empty()
    page.fill("#id_title", "Browser journey")
    page.fill("#id_rollback_plan", "Redeploy **2.9.0**.")
    page.get_by_role("button", name="Create release").click()

    expect(page).to_have_url(re.compile(r"/releases/\d+/$"))
    expect(page.locator("#release-heading")).to_contain_text("3.0.0")
    expect(page.locator("#gates-staging")).to_contain_text(
        "Not yet deployed successfully to Development."
    )
    expect(page.locator("#gates-production")).to_contain_text(
        "Not yet deployed successfully to Staging."
    )

    # From here on every action swaps the page region; the page itself never reloads.
    page.evaluate("window.__stillTheSamePage = true")

    page.locator("#gates-dev").get_by_role("button", name="Promote to Development").click()
    expect(page.locator("#stage-dev")).to_contain_text("In progress")
    expect(page.locator("#release-live .alert-success")).to_contain_text(
        "Deployment of 3.0.0 to Development started."
    )

    page.locator("#stage-dev").get_by_role("button", name="Mark succeeded").click()
    expect(page.locator("#stage-dev")).to_contain_text("Succeeded")
    expect(page.locator("#gates-staging")).to_contain_text(
        "Deployed successfully to Development first."
    )
    expect(page.locator("#gates-production")).to_contain_text(
        "Not yet deployed successfully to Staging."
    )
    expect(page.locator("#gates-production .gate-closed")).to_have_count(1)

    page.locator("#gates-staging select[name=strategy]").select_option("canary")
    page.locator("#gates-staging").get_by_role("button", name="Promote to Staging").click()
    expect(page.locator("#stage-staging")).to_contain_text("In progress")
    assert page.evaluate("window.__stillTheSamePage") is True

    release = Release.objects.get(version="3.0.0")
    staging = Deployment.objects.get(release=release, environment__name="staging")
    assert (staging.status, staging.strategy) == (DeploymentStatus.IN_PROGRESS, "canary")


def test_release_list__filters_without_reload(login_as, people, project):
    from releases.services import release_create

    release_create(project=project, version="1.2.0", title="Apples", actor=people.alice)
    release_create(project=project, version="1.3.0", title="Oranges", actor=people.alice)
    page = login_as(people.alice)
    page.goto("/releases/")
    page.evaluate("window.__stillTheSamePage = true")
    page.fill("#id_q", "orang")
    expect(page.locator("#release-table")).not_to_contain_text("Apples")
    expect(page.locator("#release-table")).to_contain_text("Oranges")
    expect(page).to_have_url(re.compile(r"q=orang"))
    assert page.evaluate("window.__stillTheSamePage") is True


def test_release_page__auditor_reads_gates_but_has_no_buttons(
    login_as, people, release, gates_only
):
    gates_only("releases")
    page = login_as(people.aud)
    page.goto(f"/releases/{release.pk}/")
    expect(page.locator("#gates-staging")).to_contain_text(
        "Not yet deployed successfully to Development."
    )
    expect(page.get_by_role("button", name=re.compile("Promote"))).to_have_count(0)
    expect(page.get_by_text("Cancel release")).to_have_count(0)


def test_release_page__reloads_its_region_when_a_panel_says_the_release_changed(
    login_as, people, release
):
    from releases.services import release_update

    page = login_as(people.alice)
    page.goto(f"/releases/{release.pk}/")
    page.evaluate("window.__stillTheSamePage = true")
    release_update(release=release, actor=people.alice, title="Renamed elsewhere")
    # What a panel's htmx answer does with "HX-Trigger: releaseChanged".
    page.evaluate("htmx.trigger(document.body, 'releaseChanged')")
    expect(page.locator("#release-heading")).to_contain_text("Renamed elsewhere")
    assert page.evaluate("window.__stillTheSamePage") is True
