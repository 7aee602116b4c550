"""Reads of the approvals app, narrowed to what the reader may see.

In modules by concern, imported from here:

* ``decisions``: the approval matrix of a release, decisions, reviews, policies
  and the targets of the decision services;
* ``meetings``: a go/no-go meeting, its page and its automatic criteria;
* ``inbox``: *Waiting for me* and its count.
"""

from approvals.selectors.decisions import (
    ApprovalMatrix,
    EnvironmentColumn,
    approval_get,
    approval_list,
    approval_matrix,
    emergency_review_get,
    policy_rows,
    project_for_admin,
    release_for_decision,
)
from approvals.selectors.inbox import (
    OPEN_LIMIT,
    WAITING_COUNT_TTL,
    InboxItem,
    inbox,
    waiting_count,
)
from approvals.selectors.meetings import (
    CHECKLIST_GATE_CODES,
    MONITORING_GATE_PREFIXES,
    MeetingView,
    meeting_auto_criteria,
    meeting_for_vote,
    meeting_get,
    meeting_view,
)

__all__ = [
    "CHECKLIST_GATE_CODES",
    "MONITORING_GATE_PREFIXES",
    "OPEN_LIMIT",
    "WAITING_COUNT_TTL",
    "ApprovalMatrix",
    "EnvironmentColumn",
    "InboxItem",
    "MeetingView",
    "approval_get",
    "approval_list",
    "approval_matrix",
    "emergency_review_get",
    "inbox",
    "meeting_auto_criteria",
    "meeting_for_vote",
    "meeting_get",
    "meeting_view",
    "policy_rows",
    "project_for_admin",
    "release_for_decision",
    "waiting_count",
]
