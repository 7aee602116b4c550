"""Post-mortems: when they are required, due dates in business days, states, action items."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from core.exceptions import PermissionDenied, TransitionNotAllowed, ValidationFailed
from incidents.models import PostMortem
from incidents.selectors import overdue_items
from incidents.services import (
    action_item_add,
    action_item_set_done,
    business_days_after,
    incident_open,
    incident_resolve,
    postmortem_due,
    postmortem_transition,
    postmortem_update,
    retrospective_open,
)
from releases.registry import waiting_for
from releases.services import deployment_rollback

pytestmark = pytest.mark.django_db


def test_business_days__skip_the_weekend():
    friday = date(2026, 12, 4)
    assert business_days_after(friday, 1) == date(2026, 12, 7)  # Monday
    assert business_days_after(friday, 5) == date(2026, 12, 11)
    wednesday = date(2026, 12, 2)
    assert business_days_after(wednesday, 5) == date(2026, 12, 9)


def test_due__sev1_three_days_sev2_five_business_days():
    friday = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)
    assert postmortem_due(severity=1, at=friday) == date(2026, 12, 7)  # calendar days
    assert postmortem_due(severity=2, at=friday) == date(2026, 12, 11)


@pytest.fixture
def resolved(project, people):
    incident = incident_open(
        actor=people.alice,
        project=project,
        title="Refunds double-charged",
        severity=1,
        started_at=timezone.now() - timedelta(hours=1),
    )
    return incident_resolve(actor=people.alice, incident=incident)


def test_required_for_sev1__opened_on_resolution_with_due_date(resolved):
    postmortem = PostMortem.objects.get(incident=resolved)
    assert postmortem.kind == "incident" and postmortem.state == "draft"
    assert postmortem.due_on == timezone.localdate(resolved.resolved_at) + timedelta(days=3)


def test_required_for_a_production_rollback(project, people, prod_deploy):
    deployment = prod_deploy("2.2.0", minutes_ago=30)
    deployment_rollback(deployment=deployment, actor=people.bob, reason="Errors")
    postmortem = PostMortem.objects.get(deployment=deployment, kind="rollback")
    assert postmortem.release == deployment.release
    staging = prod_deploy("2.3.0", minutes_ago=20, env="staging")
    deployment_rollback(deployment=staging, actor=people.bob, reason="Errors")
    assert not PostMortem.objects.filter(deployment=staging).exists()


def test_states__in_order_review_needs_summary_and_root_causes(resolved, people):
    postmortem = PostMortem.objects.get(incident=resolved)
    with pytest.raises(TransitionNotAllowed):
        postmortem_transition(actor=people.alice, postmortem=postmortem, to_state="closed")
    postmortem = postmortem_transition(
        actor=people.alice, postmortem=postmortem, to_state="in_review"
    )
    with pytest.raises(ValidationFailed, match="summary and the root causes"):
        postmortem_transition(actor=people.alice, postmortem=postmortem, to_state="reviewed")
    postmortem_update(
        actor=people.bob,
        postmortem=postmortem,
        summary="Retry loop.",
        root_causes="No idempotency key.",
    )
    postmortem = postmortem_transition(actor=people.pat, postmortem=postmortem, to_state="reviewed")
    assert postmortem.reviewed_by == people.pat
    postmortem = postmortem_transition(actor=people.pat, postmortem=postmortem, to_state="closed")
    with pytest.raises(ValidationFailed, match="closed"):
        postmortem_update(actor=people.bob, postmortem=postmortem, summary="Later.")


def test_close_with_open_items__refused_with_the_list(resolved, people):
    postmortem = PostMortem.objects.get(incident=resolved)
    postmortem_update(actor=people.bob, postmortem=postmortem, summary="S", root_causes="R")
    first = action_item_add(
        actor=people.alice,
        postmortem=postmortem,
        title="Idempotency keys",
        owner=people.bob,
        due_on=date(2026, 12, 20),
        ticket_key="PAY-77",
    )
    action_item_add(
        actor=people.alice,
        postmortem=postmortem,
        title="Alert on doubles",
        owner=people.quinn,
        due_on=date(2026, 12, 21),
    )
    for state in ("in_review", "reviewed"):
        postmortem = postmortem_transition(
            actor=people.alice, postmortem=postmortem, to_state=state
        )
    with pytest.raises(ValidationFailed) as refused:
        postmortem_transition(actor=people.alice, postmortem=postmortem, to_state="closed")
    assert (
        "2 action items are open: Idempotency keys (bob, due 2026-12-20); Alert on doubles (quinn"
        in refused.value.message
    )
    postmortem.refresh_from_db()
    assert postmortem.state == "reviewed"
    action_item_set_done(actor=people.bob, item=first)
    with pytest.raises(ValidationFailed, match="1 action item is open: Alert on doubles"):
        postmortem_transition(actor=people.alice, postmortem=postmortem, to_state="closed")


def test_item_owner_outside_project__refused(resolved, people):
    postmortem = PostMortem.objects.get(incident=resolved)
    with pytest.raises(ValidationFailed, match="not a member: olga"):
        action_item_add(
            actor=people.alice,
            postmortem=postmortem,
            title="X",
            owner=people.olga,
            due_on=date.today(),
        )


def test_overdue_items__in_the_inbox_of_their_owner(resolved, people, release):
    postmortem = PostMortem.objects.get(incident=resolved)
    postmortem.release = release
    postmortem.save()
    action_item_add(
        actor=people.alice,
        postmortem=postmortem,
        title="Rotate the key",
        owner=people.bob,
        due_on=date.today() - timedelta(days=2),
    )
    assert [i.title for i in overdue_items(user=people.aud)] == ["Rotate the key"]
    titles = [w.title for w in waiting_for(user=people.bob)]
    assert "Action item overdue: Rotate the key" in titles
    assert not any("Rotate" in w.title for w in waiting_for(user=people.quinn))


def test_retrospective__one_per_release_auditor_refused(release, people):
    retro = retrospective_open(actor=people.alice, release=release)
    assert retro.kind == "retrospective"
    with pytest.raises(Exception, match="retrospective already"):
        retrospective_open(actor=people.alice, release=release)
    with pytest.raises(PermissionDenied):
        retrospective_open(actor=people.aud, release=release)
