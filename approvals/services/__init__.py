"""Every write of the approvals app.

Each service is keyword-only, runs in one transaction, locks the release row
(``select_for_update``) so concurrent decisions on one release serialise,
writes its audit events in that transaction and leaves e-mail to
``notification_send`` (queued on commit).

Refused approval attempts (a machine, an outsider, the wrong role, the
author, the deployer …) are written to the audit trail as ``approval.denied``
in a transaction of their own, after the refused one rolled back: nothing
else changes.

The services live in modules by concern; import them from here:

* ``decisions``: giving, authorising and withdrawing a decision (sign-offs,
  scope, deployment and emergency approvals);
* ``approval_requests``: asking for decisions, and invalidating approvals
  when the release changes;
* ``emergency``: the emergency path's effects and the post-implementation review;
* ``policies``: what each environment asks for;
* ``meetings``: scheduling, steering and deciding go/no-go meetings;
* ``meeting_minutes``: attendees, notes, criteria and votes of a meeting;
* ``_common``: what they share (cleaning, the release lock, audited refusals).
"""

from approvals.links import release_url
from approvals.services._common import COMMENT_MAX
from approvals.services.approval_requests import (
    approval_request,
    approvals_invalidate,
    request_authorize,
)
from approvals.services.decisions import (
    approval_decide,
    approval_withdraw,
    decision_authorize,
    emergency_approve,
    withdraw_authorize,
)
from approvals.services.emergency import (
    emergency_review_complete,
    emergency_reviews_overdue_notify,
    review_authorize,
)
from approvals.services.meeting_minutes import (
    meeting_attendee_add,
    meeting_criterion_add,
    meeting_criterion_set,
    meeting_notes_update,
    meeting_vote,
    vote_authorize,
)
from approvals.services.meetings import (
    MEETING_PAST_GRACE,
    meeting_authorize,
    meeting_cancel,
    meeting_decide,
    meeting_default_attendees,
    meeting_reschedule,
    meeting_schedule,
    meeting_schedule_authorize,
)
from approvals.services.policies import (
    MAX_VALID_HOURS,
    POLICY_FIELDS,
    approval_policy_update,
    policy_authorize,
)

__all__ = [
    "COMMENT_MAX",
    "MAX_VALID_HOURS",
    "MEETING_PAST_GRACE",
    "POLICY_FIELDS",
    "approval_decide",
    "approval_policy_update",
    "approval_request",
    "approval_withdraw",
    "approvals_invalidate",
    "decision_authorize",
    "emergency_approve",
    "emergency_review_complete",
    "emergency_reviews_overdue_notify",
    "meeting_attendee_add",
    "meeting_authorize",
    "meeting_cancel",
    "meeting_criterion_add",
    "meeting_criterion_set",
    "meeting_decide",
    "meeting_default_attendees",
    "meeting_notes_update",
    "meeting_reschedule",
    "meeting_schedule",
    "meeting_schedule_authorize",
    "meeting_vote",
    "policy_authorize",
    "release_url",
    "request_authorize",
    "review_authorize",
    "vote_authorize",
    "withdraw_authorize",
]
