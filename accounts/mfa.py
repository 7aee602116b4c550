"""A second factor for the people who approve production and emergency releases.

``approval_mfa_refusal`` is called by ``approvals.services`` where an approver's
right is checked: when the project requires it, a production deployment approval
or an emergency approval by a person without a second factor is refused with the
sentence returned here.
"""

from __future__ import annotations

from allauth.mfa.utils import is_mfa_enabled

from accounts.models import ProjectSecurity

# The approval kinds that let a release into production (approvals.choices.ApprovalKind).
_PRODUCTION_KINDS = {"deployment", "emergency"}


def mfa_required_for_approvals(project) -> bool:
    project_id = getattr(project, "pk", project)
    return ProjectSecurity.objects.filter(
        project_id=project_id, require_mfa_for_approvers=True
    ).exists()


def approval_mfa_refusal(*, user, project, kind: str, environment=None) -> str | None:
    """Why ``user`` may not give this approval for want of a second factor, or None."""
    if kind not in _PRODUCTION_KINDS:
        return None
    if kind == "deployment" and not getattr(environment, "is_production", False):
        return None
    if not mfa_required_for_approvals(project):
        return None
    if is_mfa_enabled(user):
        return None
    return (
        "This project requires a second factor of the people who approve production or "
        "emergency releases: set up an authenticator app or a passkey under "
        "Account → Sign-in security first."
    )
