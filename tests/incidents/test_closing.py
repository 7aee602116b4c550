"""Closing a release: QA on production, escaped defects, the blockers, the results message."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core.exceptions import Conflict, PermissionDenied, ValidationFailed
from core.models import Notification
from incidents.models import EscapedDefect, PostMortem, ReleaseClosure
from incidents.services import (
    incident_open,
    incident_resolve,
    release_close,
    release_close_blockers,
    ticket_confirm,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def shipped(project, people, prod_deploy):
    deployment = prod_deploy("2.4.0", minutes_ago=120)
    release = deployment.release
    release.tickets.create(key="PAY-1", title="Faster checkout")
    release.tickets.create(key="PAY-2", title="Saved cards")
    return release


def _codes(release):
    return [b.code for b in release_close_blockers(release=release)]


def test_qa_confirms_or_reopens_as_escaped_defect(shipped, people):
    one, two = shipped.tickets.order_by("key")
    ticket_confirm(actor=people.quinn, ticket=one, confirmed=True)
    check = ticket_confirm(
        actor=people.quinn,
        ticket=two,
        confirmed=False,
        note="Cards vanish after logout",
        severity=2,
    )
    defect = EscapedDefect.objects.get()
    assert check.escaped_defect == defect
    assert defect.release == shipped and defect.key == "PAY-2" and defect.severity == 2
    with pytest.raises(Conflict, match="already"):
        ticket_confirm(actor=people.quinn, ticket=one, confirmed=True)


def test_reopen_needs_a_note_and_qa(shipped, people):
    ticket = shipped.tickets.first()
    with pytest.raises(ValidationFailed, match="what is wrong"):
        ticket_confirm(actor=people.quinn, ticket=ticket, confirmed=False)
    with pytest.raises(PermissionDenied):
        ticket_confirm(actor=people.bob, ticket=ticket, confirmed=True)
    with pytest.raises(PermissionDenied, match="auditor"):
        ticket_confirm(actor=people.aud, ticket=ticket, confirmed=True)


def test_close__blocked_until_tickets_checked_incident_resolved_postmortem_current(
    shipped, people, project
):
    assert _codes(shipped) == ["unchecked_tickets"]
    for t in shipped.tickets.all():
        ticket_confirm(actor=people.quinn, ticket=t, confirmed=True)
    incident = incident_open(
        actor=people.bob,
        project=project,
        title="Checkout slow",
        severity=2,
        started_at=timezone.now() - timedelta(minutes=30),
    )
    assert incident.cause_release == shipped
    with pytest.raises(ValidationFailed) as refused:
        release_close(actor=people.alice, release=shipped, summary="Shipped.")
    assert "is still open" in refused.value.message
    assert not ReleaseClosure.objects.exists()
    incident_resolve(actor=people.bob, incident=incident)
    postmortem = PostMortem.objects.get(incident=incident)
    postmortem.due_on = timezone.localdate() - timedelta(days=1)
    postmortem.save()
    assert _codes(shipped) == ["overdue_postmortem"]
    postmortem.state = "reviewed"
    postmortem.save()
    assert _codes(shipped) == []


def test_close__sends_results_to_stakeholders(shipped, people):
    one, two = shipped.tickets.order_by("key")
    ticket_confirm(actor=people.quinn, ticket=one, confirmed=True)
    ticket_confirm(actor=people.quinn, ticket=two, confirmed=False, note="Broken on Safari")
    with pytest.raises(PermissionDenied):
        release_close(actor=people.quinn, release=shipped, summary="Done")
    closure = release_close(actor=people.alice, release=shipped, summary="Shipped with one defect.")
    assert closure.results_sent_at is not None
    message = Notification.objects.get(
        recipient=people.pat, subject__startswith="Results of release"
    )
    assert "Confirmed on production by QA: 1 of 2 tickets." in message.body
    assert "PAY-2: Broken on Safari" in message.body
    assert _codes(shipped) == ["closed"]
    with pytest.raises(ValidationFailed, match="closed"):
        release_close(actor=people.alice, release=shipped, summary="Again")


def test_close__not_before_production(release, people):
    with pytest.raises(ValidationFailed, match="only a release that reached production"):
        release_close(actor=people.alice, release=release, summary="x")
