"""Named refusals of the approvals app; each message is meant for the person refused."""

from core import exceptions as core_exceptions
from core.exceptions import (
    Conflict,
    NotFound,
    PermissionDenied,
    TransitionNotAllowed,
    ValidationFailed,
)

__all__ = [
    "AlreadyDecided",
    "ApprovalDenied",
    "CommentRequired",
    "NotAnAttendee",
    "NotEligible",
    "NoGoTriggerRaised",
    "PeopleOnly",
    "ReleaseClosed",
    "RoleNotHeld",
    "SelfApprovalError",
    "SeparationOfDutiesError",
]


class ApprovalDenied(PermissionDenied):
    """The person may see the release but may not give this decision.

    Every denial is written to the audit trail (``approval.denied``).
    """

    code = "approval_denied"


class SelfApprovalError(ApprovalDenied):
    code = "self_approval"


class SeparationOfDutiesError(ApprovalDenied):
    code = "separation_of_duties"


class RoleNotHeld(ApprovalDenied, core_exceptions.RoleNotHeld):
    """The same code as every app's role refusal, and audited like every approval denial."""

    code = "role_not_held"


class NotEligible(ApprovalDenied):
    code = "not_eligible"


class PeopleOnly(ApprovalDenied, core_exceptions.PeopleOnly):
    code = "people_only"


class NotAnAttendee(ApprovalDenied):
    code = "not_an_attendee"


class OutsiderDenied(NotFound):
    """The person is not in the release's project: answered like a missing release."""


class AlreadyDecided(Conflict):
    code = "already_decided"


class ReleaseClosed(TransitionNotAllowed):
    code = "release_closed"


class NoGoTriggerRaised(Conflict):
    code = "no_go_trigger_raised"


class CommentRequired(ValidationFailed):
    code = "comment_required"
