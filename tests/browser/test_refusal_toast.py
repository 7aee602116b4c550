"""A refusal over htmx tells the person why, in real Chromium.

Quinn opens the release page as QA; while the page is open a project admin
makes her an auditor. Her click on "Sign off" is refused (403) and the page
shows the server's reason, not a generic sentence, and nothing is approved.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from approvals.models import Approval
from projects.choices import Role
from projects.models import Membership
from projects.permissions import READ_ONLY_REFUSAL
from releases.services import deployment_finish, release_promote

pytestmark = pytest.mark.django_db(transaction=True)


def test_sign_off_after_losing_the_role__toast_names_the_reason(
    login_as, people, release, envs, gates_only
):
    gates_only("approvals")
    for environment in (envs["dev"], envs["staging"]):
        deployment = release_promote(release=release, environment=environment, actor=people.bob)
        deployment_finish(deployment=deployment, succeeded=True, actor=people.bob)

    page = login_as(people.quinn)
    page.goto(release.get_absolute_url())
    button = page.locator("#req-production-qa_signoff-staging").get_by_role(
        "button", name="Sign off", exact=True
    )
    expect(button).to_be_visible()

    Membership.objects.filter(user=people.quinn, project=release.project).update(role=Role.AUDITOR)
    button.click()

    toast = page.locator("#toast")
    expect(toast).to_be_visible()
    expect(toast).to_have_text(READ_ONLY_REFUSAL)
    assert not Approval.objects.filter(release=release).exists()
