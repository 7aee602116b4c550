"""A project's sign-in rules (a second factor for approvers)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.models import ProjectSecurity
from accounts.services._common import _require_manager
from audit.services import audit_record
from projects.models import Project
from projects.principals import Actor


@transaction.atomic
def project_security_update(
    *, project: Project, actor: Actor, require_mfa_for_approvers: bool
) -> ProjectSecurity:
    """Require (or not) a second factor of production and emergency approvers.

    Audit: ``project.security_changed``.
    """
    _require_manager(actor, project, "change sign-in rules")
    security, _ = ProjectSecurity.objects.select_for_update().get_or_create(project=project)
    before = security.require_mfa_for_approvers
    value = bool(require_mfa_for_approvers)
    if before != value:
        security.require_mfa_for_approvers = value
        security.updated_at = timezone.now()
        security.save(update_fields=["require_mfa_for_approvers", "updated_at"])
        audit_record(
            actor=actor,
            action="project.security_changed",
            obj=security,
            project=project,
            from_state="mfa_required" if before else "mfa_optional",
            to_state="mfa_required" if value else "mfa_optional",
            data={"require_mfa_for_approvers": value},
        )
    return security
