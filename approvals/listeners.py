"""Reactions to release events (``releases.registry.on``), run inside the releases service's transaction."""

from __future__ import annotations

from approvals.choices import (
    INVALIDATED_BY_ARTIFACT,
    INVALIDATED_BY_SCOPE,
    ApprovalKind,
    ApprovalState,
    Decision,
)
from approvals.exceptions import SeparationOfDutiesError
from approvals.models import Approval
from approvals.services import approvals_invalidate
from releases.registry import on


@on("scope_changed")
def invalidate_after_scope_change(*, release, actor, reason: str) -> None:
    approvals_invalidate(
        release=release,
        kinds=INVALIDATED_BY_SCOPE,
        actor=actor,
        reason=f"The scope changed after approval. {reason}".strip(),
    )


@on("artifact_changed")
def invalidate_after_artifact_change(*, release, actor, reason: str) -> None:
    approvals_invalidate(
        release=release,
        kinds=INVALIDATED_BY_ARTIFACT,
        actor=actor,
        reason=f"The artifact changed after approval. {reason}".strip(),
    )


@on("deployment_changed")
def approver_may_not_deploy(*, deployment, actor, from_status: str, to_status: str) -> None:
    """Refuse a new deployment carried out by someone who approved it (separation of duties)."""
    if from_status or not deployment.deployed_by_id:
        return
    approved = Approval.objects.filter(
        release_id=deployment.release_id,
        environment_id=deployment.environment_id,
        kind__in=[ApprovalKind.DEPLOYMENT, ApprovalKind.EMERGENCY],
        state=ApprovalState.ACTIVE,
        decision=Decision.APPROVE,
        person_id=deployment.deployed_by_id,
    ).exists()
    if approved:
        raise SeparationOfDutiesError(
            "You approved this deployment, so someone else must carry it out."
        )
