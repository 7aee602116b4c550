"""Named refusals of the accounts app; each message is meant for the person refused."""

from core.exceptions import Conflict, NotFound, PermissionDenied


class InvitationUnusable(Conflict):
    """The link was used, revoked, has expired or never existed: nothing changes."""

    code = "invitation_unusable"


class InvitationNotFound(NotFound):
    code = "invitation_not_found"


class LockedOut(PermissionDenied):
    code = "locked_out"
