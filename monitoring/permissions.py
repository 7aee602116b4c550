"""Who may see and steer monitoring. Pages, API and services all ask these."""

from __future__ import annotations

from projects.choices import Role
from projects.permissions import (
    can_admin_project,
    can_deploy,
    can_view_project,
    has_role,
    is_person,
)


def can_view_monitoring(user, project) -> bool:
    return can_view_project(user, project)


def can_configure_checks(user, project) -> bool:
    """Health and metric checks, the rollback hook and the policy: project admins (people) only."""
    return is_person(user) and can_admin_project(user, project)


def can_decide_window(user, release) -> bool:
    """Accept, extend, roll back, or promote a canary: a person who may deploy the release.

    API tokens never decide: a pipeline may report what happened, not judge it.
    """
    return is_person(user) and can_deploy(user, release)


def can_run_prechecks(user, project) -> bool:
    """Run the pre-deployment checks now: the people who deploy, and admins."""
    return is_person(user) and has_role(
        user, project, Role.RELEASE_MANAGER, Role.ENGINEER, Role.ADMIN
    )
