"""Who may change the release calendar."""

from __future__ import annotations

from projects.choices import Role
from projects.permissions import has_role, is_person, is_staff_admin


def can_manage_calendar(user, project) -> bool:
    """Windows and freezes of a project: its release managers and admins, and site staff."""
    if not is_person(user):
        return False
    return is_staff_admin(user) or has_role(user, project, Role.RELEASE_MANAGER, Role.ADMIN)


def can_set_organisation_freeze(user) -> bool:
    """A freeze for every project: only a site administrator (Django staff)."""
    return is_staff_admin(user)


def can_override(user, release) -> bool:
    """An emergency approver or a project admin, who is not the release's own manager."""
    if not is_person(user) or release.release_manager_id == user.pk:
        return False
    return has_role(user, release.project_id, Role.EMERGENCY_APPROVER, Role.ADMIN)


def can_queue(user, release) -> bool:
    """Queue or cancel a promotion: whoever may deploy the release (people only)."""
    from projects.permissions import can_deploy

    return is_person(user) and can_deploy(user, release)
