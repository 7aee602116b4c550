"""Domain errors shared by every app.

Each error carries a sentence a person can read: the same text reaches the
browser, the API and the CLI. ``status`` is the HTTP status the API answers.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "domain_error"
    status = 400

    def __init__(
        self, message: str, *, details: dict[str, Any] | None = None, code: str | None = None
    ):
        super().__init__(message)
        self.message = message
        self.details = details or {}
        if code:
            self.code = code


class ValidationFailed(DomainError):
    code = "invalid"
    status = 400


class NotFound(DomainError):
    """Missing, or not visible to this person: both answer 404."""

    code = "not_found"
    status = 404


class PermissionDenied(DomainError):
    """The person can see the object but may not do this to it."""

    code = "forbidden"
    status = 403


class RoleNotHeld(PermissionDenied):
    """The person may see the object but holds none of the roles this needs.

    Every app's role refusal has this code; ``projects.permissions.role_refusal``
    writes its sentence.
    """

    code = "role_not_held"


class PeopleOnly(PermissionDenied):
    """An API token tried what only a person may do (tick, approve, vote, decide)."""

    code = "people_only"


class Conflict(DomainError):
    code = "conflict"
    status = 409


class TransitionNotAllowed(Conflict):
    code = "transition_not_allowed"
