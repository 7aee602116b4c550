"""The approvals section of the release page (registered with ``releases.registry.panel``)."""

from __future__ import annotations

from typing import Any

from approvals.choices import ApprovalState, Decision
from approvals.permissions import can_complete_review, can_request_approval, can_run_meeting
from approvals.selectors import approval_matrix
from projects.permissions import is_person
from releases.choices import RELEASE_CLOSED_STATES


def approvals_panel_context(release, request, *, error: str = "", notice: str = "") -> dict:
    """Everything the panel draws, from a fixed number of queries.

    Reuses the environments and deployments the release page already loaded.
    """
    user = request.user
    matrix = approval_matrix(
        release=release,
        deployments=getattr(release, "all_deployments", None),
        environments=getattr(release, "pipeline_environments", None),
    )
    me = user.pk if is_person(user) else None
    sections = []
    seen_scope = False
    can_approve_scope = False
    for column in matrix.columns:
        rows: list[dict[str, Any]] = []
        sections.append({"column": column, "rows": rows})
        for req in column.requirements:
            duplicate = req.kind == "scope" and seen_scope
            seen_scope = seen_scope or req.kind == "scope"
            mine = next(
                (a for a in matrix.facts.active(req.kind, req.subject) if a.person_id == me), None
            )
            can_decide = me is not None and any(u.pk == me for u in req.eligible)
            can_approve_scope = can_approve_scope or (can_decide and req.kind == "scope")
            rows.append(
                {
                    "req": req,
                    "duplicate": duplicate,
                    "mine": mine,
                    "can_decide": can_decide,
                    "waiting_for_deploy": req.kind == "qa_signoff"
                    and (req.subject is None or not matrix.facts.succeeded_in(req.subject)),
                }
            )
    emergency_mine = None
    if matrix.emergency is not None and me is not None:
        emergency_mine = next(
            (
                a
                for a in matrix.facts.active("emergency", matrix.emergency.subject)
                if a.person_id == me
            ),
            None,
        )
    release_open = release.status not in RELEASE_CLOSED_STATES
    return {
        "matrix": matrix,
        # Approving the scope of a release with no tickets asks the product owner to confirm it.
        "scope_empty": can_approve_scope and not release.tickets.exists(),
        "sections": sections,
        "release_open": release_open,
        "can_request": release_open and can_request_approval(user, release),
        "can_run_meeting": release_open and can_run_meeting(user, release),
        "can_review": matrix.review is not None and can_complete_review(user, release),
        "emergency_can_approve": (
            release_open
            and matrix.emergency is not None
            and me is not None
            and any(u.pk == me for u in matrix.emergency.eligible)
        ),
        "emergency_mine": emergency_mine,
        "history": matrix.history[:50],
        "approve": Decision.APPROVE,
        "reject": Decision.REJECT,
        "active": ApprovalState.ACTIVE,
        "panel_error": error,
        "panel_notice": notice,
    }
