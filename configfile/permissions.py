"""Who may export, plan and apply a project's configuration.

People: anyone who may see the project exports (auditors included: they read
everything); its admins and Django staff plan and apply. An API token reads
with the ``read`` or ``config`` scope; it plans and applies with ``config``,
acting for the person who created it, who must still be the project's admin
(or staff) at that moment: a token never has more rights than its creator.
"""

from __future__ import annotations

from core.exceptions import NotFound, PermissionDenied
from projects.choices import TokenScope
from projects.permissions import can_admin_project, can_view_project
from projects.principals import is_token

NOT_FOUND = "No such project."


def _staff(user) -> bool:
    return bool(getattr(user, "is_staff", False)) and getattr(user, "is_active", False)


def config_read_authorize(*, user, project) -> None:
    """Raise unless ``user`` may export ``project``'s configuration."""
    if is_token(user):
        if user.api_token.project_id != project.pk:
            raise NotFound(NOT_FOUND)
        if not (user.has_scope(TokenScope.READ) or user.has_scope(TokenScope.CONFIG)):
            raise PermissionDenied(
                "This API token may not read the configuration: it needs the 'read' or the "
                "'config' scope.",
                details={"missing_scopes": [TokenScope.CONFIG]},
                code="missing_scope",
            )
        return
    if not (can_view_project(user, project) or _staff(user)):
        raise NotFound(NOT_FOUND)


def config_write_actor(*, user, project):
    """The person a plan or apply acts as (the token's creator for a token); raise if none may.

    Missing or invisible projects answer 404; a member who is not an admin, 403.
    """
    if is_token(user):
        token = user.api_token
        if token.project_id != project.pk:
            raise NotFound(NOT_FOUND)
        if not user.has_scope(TokenScope.CONFIG):
            raise PermissionDenied(
                "This API token lacks the scope 'config'; create a token with it.",
                details={"missing_scopes": [TokenScope.CONFIG]},
                code="missing_scope",
            )
        person = token.created_by
        if (
            person is None
            or not person.is_active
            or not (can_admin_project(person, project) or _staff(person))
        ):
            raise PermissionDenied(
                "This token acts for the person who created it, and they are no longer an admin "
                "of this project: ask a project admin for a new token."
            )
        return person
    if not (can_view_project(user, project) or _staff(user)):
        raise NotFound(NOT_FOUND)
    if not (can_admin_project(user, project) or _staff(user)):
        raise PermissionDenied(
            "Only a project admin (or a Shipcheck staff administrator) may plan or apply the "
            "project's configuration."
        )
    return user
