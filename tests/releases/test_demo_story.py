"""The README's demo claims, walked one by one on freshly seeded demo data."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from approvals.choices import ApprovalKind
from approvals.models import Approval, EmergencyReview
from releases.choices import DeploymentStatus, ReleaseStatus
from releases.models import Deployment, Release

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(demo_seeded_once):
    return {r.version: r for r in Release.objects.filter(project__slug="storefront")}


def _latest(release, env_name):
    return (
        Deployment.objects.filter(release=release, environment__name=env_name)
        .order_by("-id")
        .first()
    )


def test_readme__storefront_has_releases_in_every_state_it_names(demo):
    for version in ("2.1.0", "2.1.1", "2.2.1"):
        assert demo[version].status == ReleaseStatus.RELEASED, version
    assert demo["2.2.0"].status == ReleaseStatus.ROLLED_BACK
    assert demo["2.3.0"].status == ReleaseStatus.IN_PROGRESS
    assert _latest(demo["2.3.0"], "staging").status == DeploymentStatus.SUCCEEDED
    assert _latest(demo["2.3.1"], "staging").status == DeploymentStatus.FAILED
    assert demo["2.3.2"].status == ReleaseStatus.CANCELLED
    assert _latest(demo["2.4.0"], "dev").status == DeploymentStatus.SUCCEEDED
    assert _latest(demo["2.4.0"], "staging") is None
    assert _latest(demo["3.0.0-beta.1"], "dev").status == DeploymentStatus.IN_PROGRESS
    assert demo["2.5.0"].status == ReleaseStatus.PLANNED
    assert not demo["2.5.0"].deployments.exists()


def test_readme__finish_2_4_0s_branch_preparation_then_promote_it__works_as_written(demo):
    """Tick the two open items as the README says (eli, rita), then Promote to Staging."""
    from django.contrib.auth import get_user_model

    from checklists.models import Item
    from checklists.services import item_tick

    people = {u.username: u for u in get_user_model().objects.filter(username__in=["eli", "rita"])}
    release = demo["2.4.0"]
    client = Client()
    client.force_login(people["rita"])
    page = client.get(release.get_absolute_url()).content.decode()
    staging = page[page.index('id="gates-staging"') : page.index('id="gates-production"')]
    assert "CI pipeline green on the release candidate" in staging
    assert "First draft of the release notes written" in staging
    ci = Item.objects.get(
        checklist__release=release, text="CI pipeline green on the release candidate"
    )
    item_tick(item=ci, actor=people["eli"], evidence="https://ci.example.com/runs/2401")
    notes = Item.objects.get(
        checklist__release=release, text="First draft of the release notes written"
    )
    item_tick(item=notes, actor=people["rita"])
    page = client.get(release.get_absolute_url()).content.decode()
    staging = page[page.index('id="gates-staging"') : page.index('id="gates-production"')]
    assert "Promote to Staging" in staging
    response = client.post(
        reverse("releases:promote", args=[release.pk]),
        {"environment": "staging", "strategy": "all_at_once"},
    )
    assert response.status_code == 302
    assert _latest(release, "staging").status == DeploymentStatus.IN_PROGRESS


def test_readme__the_story_is_true_no_review_due_before_approval(demo):
    for review in EmergencyReview.objects.all():
        approval = Approval.objects.filter(
            release=review.release, kind=ApprovalKind.EMERGENCY
        ).earliest("created_at")
        assert approval.created_at < review.due_at, review.release.version
    from checklists.models import Item

    # The README: every Storefront version released the normal way went through the whole
    # process (2.2.2 took the emergency path and is flagged for it).
    for release in Release.objects.filter(
        status=ReleaseStatus.RELEASED, project__slug="storefront", is_emergency=False
    ):
        items = Item.objects.filter(checklist__release=release)
        assert not items.exists() or items.exclude(status="open").exists(), release.version


def test_readme__no_released_version_leaves_its_checklist_open(demo):
    """Every released version of every demo project, the emergency hotfix and Payments API
    included, finished its checklist: no item is still open."""
    from checklists.models import Item

    released = Release.objects.filter(status=ReleaseStatus.RELEASED)
    assert {"2.2.2", "1.4.0"} <= set(released.values_list("version", flat=True))
    for release in released:
        items = Item.objects.filter(checklist__release=release)
        assert items.exists(), f"{release.project} {release.version} has no checklist"
        left = list(items.filter(status="open").values_list("text", flat=True))
        assert not left, f"{release.project} {release.version} left open: {left}"
