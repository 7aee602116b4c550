"""Memberships: give and take away a person's roles in a project."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from audit.services import audit_record
from core.exceptions import Conflict, NotFound, ValidationFailed
from projects.choices import Role
from projects.models import Membership, Project
from projects.permissions import forget_roles
from projects.principals import Actor, Person
from projects.services._common import REASON_MAX, _lock_project, _require_manager, _text


def _check_role(role: Any) -> str:
    if not isinstance(role, str) or role not in Role.values:
        raise ValidationFailed(
            f"Unknown role '{str(role)[:40]}'. Known roles: {', '.join(Role.values)}.",
            details={"field": "role"},
        )
    return role


@transaction.atomic
def membership_grant(
    *, project: Project, user: Person, role: str, actor: Actor = None, reason: str = ""
) -> Membership:
    """Give ``user`` a role in ``project``; holding it already changes nothing.

    Callers: project admins, staff administrators (``actor=None``: Shipcheck itself).
    Audit: ``membership.granted`` (who gave whom which role, and why).
    """
    role = _check_role(role)
    _require_manager(actor, project, "change who holds which role")
    reason = _text(reason, "Reason", REASON_MAX)
    if user is None or not isinstance(user, get_user_model()) or not user.pk:
        raise NotFound("No such person.")
    if not user.is_active:
        raise ValidationFailed(
            f"{user.get_username()} is deactivated and cannot be given a role.",
            details={"field": "user"},
        )
    project = _lock_project(project)
    membership, created = Membership.objects.get_or_create(project=project, user=user, role=role)
    if created:
        audit_record(
            actor=actor,
            action="membership.granted",
            obj=membership,
            project=project,
            from_state="",
            to_state=role,
            reason=reason,
            data={"user": user.get_username(), "role": role},
        )
    forget_roles(user)
    if actor is not None:
        forget_roles(actor)
    return membership


@transaction.atomic
def membership_revoke(
    *, project: Project, user: Person, role: str, actor: Actor = None, reason: str = ""
) -> None:
    """Take a role away from ``user``; not holding it changes nothing.

    The last project admin's admin role cannot be taken away (a staff administrator
    may still manage the project, but the team needs someone of its own).
    Callers: project admins, staff administrators. Audit: ``membership.revoked``.
    """
    role = _check_role(role)
    _require_manager(actor, project, "change who holds which role")
    reason = _text(reason, "Reason", REASON_MAX)
    project = _lock_project(project)
    membership = (
        Membership.objects.select_for_update().filter(project=project, user=user, role=role).first()
    )
    if membership is None:
        return
    if (
        role == Role.ADMIN
        and not Membership.objects.filter(project=project, role=Role.ADMIN)
        .exclude(pk=membership.pk)
        .exists()
    ):
        raise Conflict(
            f"{user.get_username()} is the last project admin of {project.name}; "
            "make someone else an admin first.",
            code="last_admin",
        )
    membership.delete()
    audit_record(
        actor=actor,
        action="membership.revoked",
        object_type="projects.membership",
        object_id=f"{project.pk}:{user.pk}:{role}",
        object_repr=f"{user.get_username()} · {Role(role).label} · {project}",
        project=project,
        from_state=role,
        to_state="",
        reason=reason,
        data={"user": user.get_username(), "role": role},
    )
    forget_roles(user)
    if actor is not None:
        forget_roles(actor)
