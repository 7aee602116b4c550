"""Helpers the accounts services share: role grants through projects, the manager check."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model

from accounts.permissions import can_manage_people
from core.exceptions import PermissionDenied, ValidationFailed
from projects.choices import Role
from projects.services.memberships import membership_grant, membership_revoke

User = get_user_model()


def _grant(*, project, user, role, reason: str):
    return membership_grant(project=project, user=user, role=role, actor=None, reason=reason)


def _revoke(*, project, user, role, reason: str):
    return membership_revoke(project=project, user=user, role=role, actor=None, reason=reason)


def _require_manager(actor, project, what: str) -> None:
    if not can_manage_people(actor, project):
        raise PermissionDenied(f"Only a project admin or a staff administrator may {what}.")


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
