"""From staging to production through every approval, in real Chromium.

QA signs off staging, the product owner approves the scope, two approvers
approve production, the go/no-go meeting decides go and the release manager
promotes the release to production.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from approvals.models import Approval, GoNoGoMeeting
from audit.models import AuditEvent
from releases.choices import DeploymentStatus
from releases.models import Deployment
from releases.services import deployment_finish, release_promote

pytestmark = pytest.mark.django_db(transaction=True)


def _deploy(release, environment, actor):
    deployment = release_promote(release=release, environment=environment, actor=actor)
    deployment_finish(deployment=deployment, succeeded=True, actor=actor)


def _decide(page, row: str, button: str):
    """Press a decision button in one row of the approvals panel and wait for the panel to show it."""
    page.locator(f"#{row}").get_by_role("button", name=button, exact=True).click()
    said = "You signed off." if button == "Sign off" else "You approved."
    expect(page.locator(f"#{row} .mine")).to_contain_text(said)


def test_approvals_journey__from_staging_to_production(login_as, people, release, envs, gates_only):
    gates_only("approvals")
    _deploy(release, envs["dev"], people.bob)
    _deploy(release, envs["staging"], people.bob)
    url = release.get_absolute_url()

    quinn = login_as(people.quinn)
    quinn.goto(url)
    expect(quinn.locator("#gates-production")).to_contain_text("QA sign-off for staging missing.")
    _decide(quinn, "req-production-qa_signoff-staging", "Sign off")
    expect(quinn.locator("#gates-production")).to_contain_text("QA signed off staging (Quinn).")

    pat = login_as(people.pat)
    pat.goto(url)
    # The release ships no tickets: the product owner confirms an empty scope before approving.
    scope_row = pat.locator("#req-production-scope-release")
    scope_row.get_by_label("This release has no tickets: I approve an empty scope.").check()
    _decide(pat, "req-production-scope-release", "Approve")

    for approver in (people.ada, people.abe):
        page = login_as(approver)
        page.goto(url)
        row = page.locator("#req-production-deployment-production")
        expect(row).to_contain_text("eligible:")
        row.locator("textarea[name=comment]").fill("Reviewed the rollback plan.")
        _decide(page, "req-production-deployment-production", "Approve")
    expect(page.locator("#gates-production")).to_contain_text(
        "2 of 2 production approvals (Ada, Abe)."
    )
    expect(page.locator("#gates-production")).to_contain_text("Go/no-go not decided.")

    alice = login_as(people.alice)
    alice.goto(url)
    alice.locator("#req-production-go-no-go").get_by_role("link", name="Schedule").click()
    expect(alice.locator("h1")).to_contain_text("Schedule a go/no-go meeting for 2.4.0")
    alice.get_by_role("button", name="Schedule the meeting").click()
    expect(alice).to_have_url(re.compile(r"/approvals/meetings/\d+/$"))
    expect(alice.locator("#agenda-checklist")).to_contain_text("Walk through the release checklist")
    expect(alice.locator("#meeting-board")).to_contain_text("A rollback plan is written.")

    # An attendee votes from their own browser; the release manager's board shows it live.
    ada = login_as(people.ada)
    meeting = GoNoGoMeeting.objects.get(release=release)
    ada.goto(meeting.get_absolute_url())
    ada.locator("#vote-comment").fill("Good to go.")
    ada.locator("#vote-form").get_by_role("button", name="Go", exact=True).click()
    expect(ada.locator("#vote-ada")).to_contain_text("Good to go.")
    expect(alice.locator("#vote-ada")).to_contain_text("Go")

    alice.locator("#notes-" + str(meeting.agenda.get(key="risks").pk)).fill(
        "Friday traffic peak: deploy Thursday."
    )
    alice.locator("#agenda-risks").get_by_role("button", name="Save notes").click()
    expect(alice.locator("#meeting-live .alert-success")).to_contain_text("Notes saved.")
    alice.fill("#decision-reason", "Every criterion is met; the team is on call.")
    alice.get_by_role("button", name="Decide GO").click()
    expect(alice.locator("#decision-heading")).to_contain_text("Decision: GO")

    alice.goto(url)
    expect(alice.locator("#gates-production")).to_contain_text("Go decided by Alice")
    alice.locator("#gates-production").get_by_role("button", name="Promote to Production").click()
    expect(alice.locator("#stage-production")).to_contain_text("In progress")

    production = Deployment.objects.get(release=release, environment=envs["production"])
    assert production.status == DeploymentStatus.IN_PROGRESS
    assert production.deployed_by == people.alice
    assert Approval.objects.filter(state="active").count() == 4
    assert AuditEvent.objects.filter(action="meeting.decided", to_state="go").count() == 1


def test_rejection_with_comment__blocks_and_shows_the_reason(
    login_as, people, release, envs, gates_only
):
    gates_only("approvals")
    _deploy(release, envs["dev"], people.bob)
    page = login_as(people.abe)
    page.goto(release.get_absolute_url())
    row = page.locator("#req-production-deployment-production")
    row.get_by_role("button", name="Reject").click()
    # The browser refuses an empty comment? No: the service does, and the panel says so.
    expect(page.locator("#approvals-panel .alert-error")).to_contain_text(
        "a rejection needs a comment"
    )
    row = page.locator("#req-production-deployment-production")
    row.locator("textarea[name=comment]").fill("No load test yet.")
    row.get_by_role("button", name="Reject").click()
    expect(page.locator("#gates-production")).to_contain_text("rejected by Abe: No load test yet.")
    expect(page.locator("#req-production-deployment-production .mine")).to_contain_text(
        "You rejected this."
    )
