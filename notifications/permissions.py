"""Who may configure and read a project's notifications."""

from __future__ import annotations

from typing import Any

from projects.choices import Role
from projects.permissions import (
    can_admin_project,
    can_view_project,
    has_role,
    holds_writing_role,
    is_person,
)


def can_configure(user: Any, project: Any) -> bool:
    """Subscribers, channels and templates: project admins (and staff) and release managers."""
    return is_person(user) and (
        can_admin_project(user, project) or has_role(user, project, Role.RELEASE_MANAGER)
    )


def can_read_log(user: Any, project: Any) -> bool:
    return can_view_project(user, project)


def can_resend(user: Any, project: Any) -> bool:
    return can_configure(user, project)


def can_set_preferences(user: Any, project: Any) -> bool:
    """Members set their own; an auditor (who changes nothing) reads the page only."""
    return is_person(user) and holds_writing_role(user, project)
