"""Issue 12, item 16: APPROVAL_TRANSITIONS and MEETING_TRANSITIONS are enforced by the services."""

from __future__ import annotations

import pytest
from django.utils import timezone

from approvals.choices import ApprovalKind, ApprovalState
from approvals.models import Approval
from approvals.services import approval_withdraw, meeting_cancel, meeting_decide, meeting_schedule
from audit.models import AuditEvent
from core.exceptions import TransitionNotAllowed
from releases.services import release_update
from tests.approvals.conftest import approve


def test_withdraw__an_invalidated_approval__is_refused_by_the_map(staged, people, envs):
    approval = approve(staged, people.ada, environment=envs["production"])
    release_update(release=staged, actor=people.alice, artifact_version="payments:2.4.1")
    approval.refresh_from_db()
    assert approval.state == ApprovalState.INVALIDATED

    with pytest.raises(TransitionNotAllowed) as exc:
        approval_withdraw(approval=approval, actor=people.ada, reason="Never mind.")

    assert exc.value.message == "A decision that is invalidated cannot become withdrawn."
    assert Approval.objects.get(pk=approval.pk).state == ApprovalState.INVALIDATED
    assert not AuditEvent.objects.filter(action="approval.withdrawn").exists()


def test_withdraw__an_active_approval__is_allowed(staged, people):
    approval = approve(staged, people.pat, ApprovalKind.SCOPE)
    withdrawn = approval_withdraw(approval=approval, actor=people.pat, reason="Scope unclear.")
    assert withdrawn.state == ApprovalState.WITHDRAWN
    assert AuditEvent.objects.filter(action="approval.withdrawn").count() == 1


@pytest.fixture
def meeting(cleared, people, envs):
    return meeting_schedule(
        release=cleared,
        environment=envs["production"],
        scheduled_for=timezone.now(),
        actor=people.alice,
    )


def test_cancel__a_decided_meeting__is_refused_by_the_map(meeting, people):
    meeting_decide(meeting=meeting, decision="go", reason="Ready.", actor=people.alice)
    with pytest.raises(TransitionNotAllowed) as exc:
        meeting_cancel(meeting=meeting, actor=people.alice, reason="Oops")
    assert exc.value.message == "A go/no-go meeting that is decided cannot become cancelled."
    assert not AuditEvent.objects.filter(action="meeting.cancelled").exists()


def test_decide__a_cancelled_meeting__is_refused_by_the_map(meeting, people):
    meeting_cancel(meeting=meeting, actor=people.alice, reason="Moved to Friday.")
    with pytest.raises(TransitionNotAllowed) as exc:
        meeting_decide(meeting=meeting, decision="go", reason="Ready.", actor=people.alice)
    assert exc.value.message == "A go/no-go meeting that is cancelled cannot become decided."
    assert not AuditEvent.objects.filter(action="meeting.decided").exists()
