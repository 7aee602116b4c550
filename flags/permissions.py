"""Who may change flags and steer rollout plans (pages, API and services ask the same)."""

from __future__ import annotations

from core.principals import is_token
from projects.choices import Role, TokenScope
from projects.permissions import can_admin_project, can_deploy, has_role


def can_edit_flags(user, project) -> bool:
    """Create and change flags: release managers, engineers and admins; tokens with 'deployments'."""
    if is_token(user):
        return user.api_token.project_id == getattr(project, "pk", project) and user.has_scope(
            TokenScope.DEPLOYMENTS
        )
    return has_role(user, project, Role.RELEASE_MANAGER, Role.ENGINEER, Role.ADMIN)


def can_manage_keys(user, project) -> bool:
    """SDK keys and the external flag system hold secrets: project admins only."""
    return not is_token(user) and can_admin_project(user, project)


def can_steer_plan(user, release) -> bool:
    """Create, start, advance, pause, resume, skip, abort and complete a release's rollout plans."""
    return can_deploy(user, release)
