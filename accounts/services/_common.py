"""Helpers the accounts services share: role grants through projects, the manager check."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model

from accounts.permissions import can_manage_people
from core.exceptions import PermissionDenied, ValidationFailed
from projects.choices import Role
from projects.models import Membership, Project
from projects.principals import Actor, Person
from projects.services.memberships import membership_grant, membership_revoke

User = get_user_model()


def _grant(*, project: Project, user: Person, role: str, reason: str) -> Membership:
    return membership_grant(project=project, user=user, role=role, actor=None, reason=reason)


def _revoke(*, project: Project, user: Person, role: str, reason: str) -> None:
    return membership_revoke(project=project, user=user, role=role, actor=None, reason=reason)


def _require_manager(actor: Actor, project: Project, what: str) -> Person:
    """``actor``, a person who manages ``project``'s people; refused otherwise (tokens too)."""
    if not can_manage_people(actor, project):
        raise PermissionDenied(f"Only a project admin or a staff administrator may {what}.")
    return actor


def _clean_roles(roles: Iterable[str]) -> list[str]:
    if isinstance(roles, str):
        roles = [roles]
    try:
        chosen = sorted({str(r).strip() for r in roles if str(r).strip()})
    except TypeError:
        chosen = []
    unknown = [r for r in chosen if r not in Role.values]
    if unknown:
        raise ValidationFailed(
            f"Unknown role '{unknown[0][:40]}'. Known roles: {', '.join(Role.values)}.",
            details={"roles": [f"Choose among {', '.join(Role.values)}."]},
        )
    if not chosen:
        raise ValidationFailed(
            "Choose at least one role for the person you invite.",
            details={"roles": ["Choose at least one role."]},
        )
    return chosen
