"""DRF permission for API tokens' scopes on reads, and the first questions every write asks.

Writes are checked by the services (``projects.permissions``), which know the
object, and each write view asks the same question before it reads the body
(``core.api.input``). Reads go through selectors that narrow to the token's
project; ``TokenReadScope`` adds the scope: a token reads only when it carries
one of the view's ``token_read_scopes`` (default: ``read``). People are not
affected.
"""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from core.exceptions import PermissionDenied, RoleNotHeld
from projects.choices import TokenScope
from projects.permissions import can_create_release, holds_writing_role, release_creation_refusal
from projects.principals import is_token
from projects.selectors import project_list


class TokenReadScope(BasePermission):
    message = "This API token may not read here: it needs the 'read' scope."

    def has_permission(self, request, view) -> bool:
        if not is_token(request.user) or request.method not in SAFE_METHODS:
            return True
        scopes = getattr(view, "token_read_scopes", (TokenScope.READ,))
        if any(request.user.has_scope(scope) for scope in scopes):
            return True
        self.message = (
            "This API token may not read here: it needs one of the scopes "
            + ", ".join(f"'{s}'" for s in scopes)
            + "."
        )
        return False


def require_token_scopes(user, *scopes: str) -> None:
    """403 ``missing_scope`` naming each scope an API token lacks for this write; people pass.

    Asked first, before the object and the body, so a pipeline learns which
    scope its token needs rather than what is wrong with its body.
    """
    if not is_token(user):
        return
    missing = [scope for scope in scopes if not user.has_scope(scope)]
    if missing:
        names = ", ".join(f"'{s}'" for s in missing)
        raise PermissionDenied(
            f"This API token lacks the scope {names}; create a token with it.",
            details={"missing_scopes": missing},
            code="missing_scope",
        )


def require_writing_role_somewhere(user) -> None:
    """403 for a person who may change nothing in any of their projects; tokens pass.

    For writes whose object is named in the body (a project slug, a release id)
    when the body names none: there is no object to ask about yet, but an auditor
    is refused before the body is read all the same. The precise right is asked
    once the object is known.
    """
    if is_token(user):
        return
    projects = list(project_list(user=user).values_list("pk", flat=True))
    if not projects:
        raise RoleNotHeld("You belong to no project, so there is nothing here you may change.")
    if not any(holds_writing_role(user, pk) for pk in projects):
        raise RoleNotHeld(
            "You hold only the auditor role in your projects: you may read everything in them "
            "and change nothing."
        )


def require_release_creation(user, project) -> None:
    """403 unless ``user`` may create releases in ``project``: asked before the body is validated."""
    if not can_create_release(user, project):
        raise release_creation_refusal()
