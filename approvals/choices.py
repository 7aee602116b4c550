"""The vocabularies of approvals and go/no-go meetings.

Approval record lifecycle (``ApprovalState``)::

    active ──► withdrawn     (the person took it back)
       │──────► invalidated  (scope or artifact changed after it was given)
       │──────► superseded   (a rejection set aside by a new approval request)
       └──────► expired      (replaced after the policy's expiry ran out)

Only *active* records count, and only one active record per person, kind,
environment and release may exist (a partial unique constraint).

Go/no-go meeting lifecycle (``MeetingStatus``)::

    scheduled ──► decided (go or no-go, with the release version it holds for)
        └───────► cancelled
"""

from django.db import models

from projects.choices import Role


class ApprovalKind(models.TextChoices):
    SCOPE = "scope", "Scope approval"
    QA_SIGNOFF = "qa_signoff", "QA sign-off"
    DEPLOYMENT = "deployment", "Deployment approval"
    EMERGENCY = "emergency", "Emergency approval"


class Decision(models.TextChoices):
    APPROVE = "approve", "Approved"
    REJECT = "reject", "Rejected"


class ApprovalState(models.TextChoices):
    ACTIVE = "active", "Active"
    WITHDRAWN = "withdrawn", "Withdrawn"
    INVALIDATED = "invalidated", "Invalidated"
    SUPERSEDED = "superseded", "Set aside by a new request"
    EXPIRED = "expired", "Expired"


APPROVAL_TRANSITIONS: dict[str, frozenset[str]] = {
    ApprovalState.ACTIVE: frozenset(
        {
            ApprovalState.WITHDRAWN,
            ApprovalState.INVALIDATED,
            ApprovalState.SUPERSEDED,
            ApprovalState.EXPIRED,
        }
    ),
    ApprovalState.WITHDRAWN: frozenset(),
    ApprovalState.INVALIDATED: frozenset(),
    ApprovalState.SUPERSEDED: frozenset(),
    ApprovalState.EXPIRED: frozenset(),
}

# Who may give each kind of decision. Deployment approvals take their roles
# from the environment's policy instead (``ApprovalPolicy.approver_roles``).
KIND_ROLES: dict[str, tuple[str, ...]] = {
    ApprovalKind.SCOPE: (Role.PRODUCT_OWNER,),
    ApprovalKind.QA_SIGNOFF: (Role.QA,),
    ApprovalKind.EMERGENCY: (Role.EMERGENCY_APPROVER,),
}

# What a change invalidates. A new ticket list changes what was approved as
# scope and what approvers agreed to ship; a new artifact changes what QA
# tested and what approvers agreed to ship.
INVALIDATED_BY_SCOPE = frozenset(
    {ApprovalKind.SCOPE, ApprovalKind.DEPLOYMENT, ApprovalKind.EMERGENCY}
)
INVALIDATED_BY_ARTIFACT = frozenset(
    {ApprovalKind.QA_SIGNOFF, ApprovalKind.DEPLOYMENT, ApprovalKind.EMERGENCY}
)

DEFAULT_APPROVER_ROLES = (Role.APPROVER, Role.EMERGENCY_APPROVER)
# Seed 004 (approvals) and DESIGN.md: production needs two approvals from two people.
PRODUCTION_REQUIRED_APPROVALS = 2
MAX_REQUIRED_APPROVALS = 10
# The issue: an emergency release's post-implementation review is due within 48 hours.
EMERGENCY_REVIEW_DUE_HOURS = 48


class MeetingStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    DECIDED = "decided", "Decided"
    CANCELLED = "cancelled", "Cancelled"


MEETING_TRANSITIONS: dict[str, frozenset[str]] = {
    MeetingStatus.SCHEDULED: frozenset({MeetingStatus.DECIDED, MeetingStatus.CANCELLED}),
    MeetingStatus.DECIDED: frozenset(),
    MeetingStatus.CANCELLED: frozenset(),
}


class MeetingDecision(models.TextChoices):
    GO = "go", "Go"
    NO_GO = "no_go", "No-go"


class Vote(models.TextChoices):
    GO = "go", "Go"
    NO_GO = "no_go", "No-go"
    ABSTAIN = "abstain", "Abstain"


class Seat(models.TextChoices):
    """The part a person plays in a go/no-go meeting (seed 003's attendee list)."""

    RELEASE_MANAGER = "release_manager", "Release manager"
    TECH_LEAD = "tech_lead", "Tech lead"
    QA_LEAD = "qa_lead", "QA lead"
    PRODUCT_OWNER = "product_owner", "Product owner"
    OPERATIONS = "operations", "Operations / SRE"
    SECURITY = "security", "Security"
    GUEST = "guest", "Guest"


# Which project roles fill which seat when a meeting is scheduled.
SEAT_ROLES: dict[str, tuple[str, ...]] = {
    Seat.RELEASE_MANAGER: (Role.RELEASE_MANAGER,),
    Seat.TECH_LEAD: (Role.APPROVER, Role.EMERGENCY_APPROVER),
    Seat.QA_LEAD: (Role.QA,),
    Seat.PRODUCT_OWNER: (Role.PRODUCT_OWNER,),
    Seat.OPERATIONS: (Role.ENGINEER,),
    Seat.SECURITY: (Role.ADMIN, Role.APPROVER, Role.EMERGENCY_APPROVER),
}


class CriterionKind(models.TextChoices):
    GO = "go", "Go criterion"
    NO_GO_TRIGGER = "no_go_trigger", "No-go trigger"


class AutoCriterion(models.TextChoices):
    """Go criteria Shipcheck fills in from what it knows about the release."""

    CHECKLIST = "checklist", "Release checklist complete"
    TESTS = "tests", "Test results recorded and passing"
    APPROVALS = "approvals", "Approvals and sign-offs present"
    ROLLBACK_PLAN = "rollback_plan", "Rollback plan written"
    MONITORING = "monitoring", "Monitoring ready"


# Seed 003's agenda, in our words: (key, title).
AGENDA = (
    ("checklist", "Walk through the release checklist"),
    ("tests", "Go over the test results"),
    ("security", "Go over the security assessment"),
    ("known_issues", "Known issues"),
    ("risks", "Risks and how we contain them"),
    ("decision", "Decide: go or no-go"),
)

# Go criteria a person has to judge, and the triggers that force a no-go.
MANUAL_GO_CRITERIA = (
    "Security assessment accepted",
    "No critical bugs open",
    "People on hand to support the release",
)
NO_GO_TRIGGERS = (
    "A critical bug was found",
    "An open security concern",
    "Testing is incomplete",
    "The rollback plan is missing",
    "Key people are unavailable",
)
