"""Who may manage people and sign-in rules."""

from __future__ import annotations

from typing import Any, TypeGuard

from projects.permissions import can_admin_project, is_person
from projects.principals import Person


def is_staff(user: Any) -> TypeGuard[Person]:
    return bool(is_person(user) and getattr(user, "is_staff", False) and user.is_active)


def can_manage_people(user: Any, project: Any) -> TypeGuard[Person]:
    """Invite people, map provider groups, set sign-in rules: a project admin or Django staff."""
    return is_staff(user) or (is_person(user) and can_admin_project(user, project))
