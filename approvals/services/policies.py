"""Approval policies: what each environment asks for before a release may enter it."""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth.models import User
from django.db import transaction

from approvals.choices import (
    MAX_REQUIRED_APPROVALS,
)
from approvals.models import (
    ApprovalPolicy,
)
from approvals.permissions import (
    can_edit_policy,
)
from audit.services import audit_record
from core.exceptions import NotFound, ValidationFailed
from projects.choices import Role
from projects.models import Environment, Project
from projects.permissions import (
    can_view_project,
    role_refusal,
)
from projects.principals import Caller

POLICY_FIELDS = (
    "required_approvals",
    "approver_roles",
    "requires_qa_signoff",
    "requires_scope_approval",
    "requires_go_no_go",
    "approval_valid_hours",
)
# A year: longer than any release waits; beyond it "never expires" is the honest setting.
MAX_VALID_HOURS = 24 * 365


def policy_authorize(*, project: Project | int, actor: Caller) -> None:
    """Raise unless ``actor`` may change ``project``'s approval policies (views ask before the form)."""
    if not can_view_project(actor, project):
        raise NotFound("No such environment.")
    if not can_edit_policy(actor, project):
        raise role_refusal(Role.ADMIN, to="change approval policies")


@transaction.atomic
def approval_policy_update(
    *, environment: Environment, actor: Caller, **values: Any
) -> ApprovalPolicy:
    """Change what ``environment`` asks for before a release may enter it.

    Callers: project admins (people). Audit: ``approval_policy.updated`` with
    each changed field's old and new value.
    """
    policy_authorize(project=environment.project_id, actor=actor)
    unknown = set(values) - set(POLICY_FIELDS)
    if unknown:
        raise ValidationFailed(f"These policy fields do not exist: {', '.join(sorted(unknown))}.")
    environment = Environment.objects.select_for_update().get(pk=environment.pk)
    policy = ApprovalPolicy.objects.select_for_update().filter(
        environment=environment
    ).first() or ApprovalPolicy.default_for(environment)
    clean = _policy_clean(environment, {**{f: getattr(policy, f) for f in POLICY_FIELDS}, **values})
    changes = {
        f: [getattr(policy, f), clean[f]] for f in POLICY_FIELDS if getattr(policy, f) != clean[f]
    }
    if not changes and policy.is_saved:
        return policy
    created = not policy.is_saved
    for name, value in clean.items():
        setattr(policy, name, value)
    policy.updated_by = cast(User, actor)  # policy_authorize lets only people through
    policy.save()
    audit_record(
        actor=actor,
        action="approval_policy.updated",
        obj=policy,
        project=environment.project_id,
        data={"environment": environment.name, "changes": changes, "created": created},
    )
    return policy


def _policy_clean(environment: Environment, values: dict[str, Any]) -> dict[str, Any]:
    try:
        required = int(values["required_approvals"])
    except (TypeError, ValueError):
        raise ValidationFailed("The number of approvals must be a whole number.") from None
    if not 0 <= required <= MAX_REQUIRED_APPROVALS:
        raise ValidationFailed(
            f"The number of approvals must be between 0 and {MAX_REQUIRED_APPROVALS}."
        )
    roles = values["approver_roles"] or []
    if isinstance(roles, str) or not all(isinstance(r, str) for r in roles):
        raise ValidationFailed("Approver roles must be a list of role names.")
    unknown = [r for r in roles if r not in Role.values]
    if unknown:
        raise ValidationFailed(f"Unknown roles: {', '.join(r[:40] for r in unknown)}.")
    if Role.AUDITOR in roles:
        raise ValidationFailed("Auditors read and never decide; they cannot be approvers.")
    roles = [r for r in Role.values if r in roles]
    if required and not roles:
        raise ValidationFailed(
            "Name at least one role that may give the approvals this environment needs."
        )
    raw_hours = values["approval_valid_hours"]
    hours: int | None = None
    if raw_hours not in ("", None):
        try:
            hours = int(raw_hours)
        except (TypeError, ValueError):
            raise ValidationFailed("The expiry must be a whole number of hours.") from None
        if not 1 <= hours <= MAX_VALID_HOURS:
            raise ValidationFailed(
                f"The expiry must be between 1 and {MAX_VALID_HOURS} hours, or empty."
            )
    qa = bool(values["requires_qa_signoff"])
    if (
        qa
        and not Environment.objects.filter(
            project_id=environment.project_id, order__lt=environment.order
        ).exists()
    ):
        raise ValidationFailed(
            f"{environment} is the first environment: there is nothing before it for QA to sign off."
        )
    return {
        "required_approvals": required,
        "approver_roles": roles,
        "requires_qa_signoff": qa,
        "requires_scope_approval": bool(values["requires_scope_approval"]),
        "requires_go_no_go": bool(values["requires_go_no_go"]),
        "approval_valid_hours": hours,
    }
