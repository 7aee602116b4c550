"""Who may do what with incidents, post-mortems and the closing of a release.

Pages, the API and the services all call these predicates. Incident response is
the whole team's work: every member but an auditor may open, update and resolve an
incident; an API token with the ``deployments`` scope (an alerting tool) may open,
update and resolve one in its own project. Confirming tickets on production is QA's
(and the release managers'); closing a release is the release managers'.
"""

from __future__ import annotations

from typing import Any

from core.exceptions import PermissionDenied, RoleNotHeld
from projects.choices import Role, TokenScope
from projects.permissions import (
    READ_ONLY_REFUSAL,
    can_view_project,
    has_role,
    holds_writing_role,
    role_refusal,
    roles_for,
)
from projects.principals import is_token

RESPONDER_ROLES = (
    Role.RELEASE_MANAGER,
    Role.ENGINEER,
    Role.QA,
    Role.PRODUCT_OWNER,
    Role.APPROVER,
    Role.EMERGENCY_APPROVER,
    Role.ADMIN,
)
QA_ROLES = (Role.QA, Role.RELEASE_MANAGER, Role.ADMIN)
CLOSER_ROLES = (Role.RELEASE_MANAGER, Role.ADMIN)


def can_view(user: Any, project: Any) -> bool:
    return can_view_project(user, project)


def can_respond(user: Any, project: Any) -> bool:
    """Open, update, resolve incidents and write post-mortems."""
    if user is None:
        return True
    if is_token(user):
        return bool(
            user.api_token.project_id == getattr(project, "pk", project)
            and user.has_scope(TokenScope.DEPLOYMENTS)
        )
    return holds_writing_role(user, project)


def respond_refusal(user: Any, project: Any, to: str) -> PermissionDenied:
    if not is_token(user) and roles_for(user, project) == frozenset({Role.AUDITOR}):
        return RoleNotHeld(READ_ONLY_REFUSAL)
    return role_refusal(*RESPONDER_ROLES, to=to, token_scope=TokenScope.DEPLOYMENTS)


def require_respond(user: Any, project: Any, to: str) -> None:
    if not can_respond(user, project):
        raise respond_refusal(user, project, to)


def can_confirm_tickets(user: Any, project: Any) -> bool:
    if user is None:
        return True
    return not is_token(user) and has_role(user, project, *QA_ROLES)


def require_confirm(user: Any, project: Any, to: str) -> None:
    if not can_confirm_tickets(user, project):
        if not is_token(user) and roles_for(user, project) == frozenset({Role.AUDITOR}):
            raise RoleNotHeld(READ_ONLY_REFUSAL)
        raise role_refusal(*QA_ROLES, to=to)


def can_close_release(user: Any, release: Any) -> bool:
    if user is None:
        return True
    if is_token(user):
        return False
    if getattr(user, "pk", None) is not None and release.release_manager_id == user.pk:
        return holds_writing_role(user, release.project_id)
    return has_role(user, release.project_id, *CLOSER_ROLES)


def require_close(user: Any, release: Any) -> None:
    if not can_close_release(user, release):
        if not is_token(user) and roles_for(user, release.project_id) == frozenset({Role.AUDITOR}):
            raise RoleNotHeld(READ_ONLY_REFUSAL)
        raise role_refusal(*CLOSER_ROLES, to="close this release", release_manager_of_release=True)
