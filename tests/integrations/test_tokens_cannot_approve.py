"""Tokens are not people: with every scope they still cannot approve, sign off, vote or decide."""

from __future__ import annotations

import pytest
from django.utils import timezone

from approvals.models import Approval, GoNoGoMeeting, MeetingVote
from approvals.services import meeting_schedule
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def meeting(release, envs, people):
    return meeting_schedule(
        release=release,
        environment=envs["production"],
        scheduled_for=timezone.now(),
        actor=people.alice,
    )


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("approve", {"kind": "deployment", "environment": "production"}),
        ("approve", {"kind": "qa_signoff", "environment": "staging"}),
        ("approve", {"kind": "scope"}),
        ("reject", {"kind": "deployment", "environment": "production", "comment": "No."}),
        ("emergency", {"environment": "production", "justification": "Card payments are down."}),
    ],
    ids=["deployment-approval", "qa-signoff", "scope", "rejection", "emergency"],
)
def test_token_with_every_scope__cannot_decide_for_people(api, release, action, body):
    response = api.post(f"/api/v1/release-approvals/{release.pk}/{action}/", body)
    assert response.status_code == 403, response.json()
    assert response.json()["error"] == "people_only"
    assert not Approval.objects.exists()
    assert not AuditEvent.objects.filter(
        action__in=["approval.approved", "approval.rejected"]
    ).exists()


def test_token__cannot_vote_in_a_go_no_go_meeting(api, meeting):
    response = api.post(f"/api/v1/go-no-go/{meeting.pk}/vote/", {"vote": "go"})
    assert response.status_code in (403, 404)
    assert response.json()["error"] in ("people_only", "not_found")
    assert not MeetingVote.objects.exists()
    assert not AuditEvent.objects.filter(action="meeting.vote_cast").exists()


def test_token__cannot_decide_go(api, meeting):
    response = api.post(
        f"/api/v1/go-no-go/{meeting.pk}/decide/", {"decision": "go", "reason": "Ship it."}
    )
    assert response.status_code in (403, 404)
    meeting.refresh_from_db()
    assert meeting.status == GoNoGoMeeting._meta.get_field("status").default
    assert not AuditEvent.objects.filter(action="meeting.decided").exists()
