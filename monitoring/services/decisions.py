"""People deciding on a window: accept, extend, roll back, or promote a passed canary."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from core.exceptions import NotFound, PeopleOnly, TransitionNotAllowed, ValidationFailed
from monitoring.choices import (
    CheckVerdictStatus,
    DecisionAction,
    RolloutState,
    WindowKind,
    WindowStatus,
)
from monitoring.models import MonitoringWindow, WindowDecision
from monitoring.permissions import can_decide_window, can_view_monitoring
from monitoring.services.closing import canary_promote, window_close, window_transition
from monitoring.verdicts import Verdict
from projects.choices import Role
from projects.permissions import role_refusal
from projects.principals import is_token

# The longest a person may give a window at once (the form's 120 minutes).
MAX_EXTENSION = timedelta(hours=2)

# The window states in which each decision can be taken.
_DECISIONS = {
    DecisionAction.ACCEPT: {WindowStatus.RUNNING, WindowStatus.INCONCLUSIVE, WindowStatus.ERROR},
    DecisionAction.EXTEND: {WindowStatus.RUNNING, WindowStatus.INCONCLUSIVE, WindowStatus.ERROR},
    DecisionAction.ROLLBACK: {WindowStatus.RUNNING, WindowStatus.INCONCLUSIVE, WindowStatus.ERROR},
    DecisionAction.PROMOTE: {WindowStatus.PASSED},
}


def window_authorize(*, window: MonitoringWindow, actor: Any) -> None:
    """Raise unless ``actor`` may decide on ``window`` (views ask before reading the form)."""
    release = window.deployment.release
    if not can_view_monitoring(actor, release.project_id):
        raise NotFound("No such monitoring window.")
    if is_token(actor):
        raise PeopleOnly(
            "Only people decide on monitoring; an API token reports deployments but never judges them."
        )
    if not can_decide_window(actor, release):
        raise role_refusal(
            Role.RELEASE_MANAGER,
            Role.ENGINEER,
            Role.ADMIN,
            to="decide on the monitoring of this release",
        )


@transaction.atomic
def window_decide(
    *,
    window: MonitoringWindow,
    actor: Any,
    action: str,
    reason: str = "",
    extend_minutes: float | str | None = None,
) -> MonitoringWindow:
    """A person accepts, extends, rolls back, or promotes a passed canary.

    Callers: people who may deploy the release (never API tokens).
    Audit: ``monitoring.decision`` plus the window's own transition event.
    """
    window_authorize(window=window, actor=actor)
    release = window.deployment.release
    if action not in DecisionAction.values:
        raise ValidationFailed(
            f"Unknown decision '{str(action)[:20]}'. Choose one of "
            f"{', '.join(DecisionAction.values)}."
        )
    reason = (reason or "").strip()
    if "\x00" in reason or len(reason) > 2000:
        raise ValidationFailed(
            "The reason must be at most 2,000 characters of text.", details={"reason": "Too long."}
        )
    if action != DecisionAction.PROMOTE and not reason:
        raise ValidationFailed(
            "Say why: the decision goes into the audit trail.",
            details={"reason": "Say why you decide this."},
        )
    window = (
        MonitoringWindow.objects.select_for_update(of=("self",))
        .select_related("deployment__release__project", "deployment__environment")
        .get(pk=window.pk)
    )
    from_status = window.status
    if from_status not in _DECISIONS[DecisionAction(action)]:
        raise TransitionNotAllowed(
            f"'{DecisionAction(action).label}' is not possible on a window that is "
            f"{window.get_status_display().lower()}."
        )
    who = actor.get_username()
    extend_by = None
    if action == DecisionAction.PROMOTE:
        if (
            window.kind != WindowKind.CANARY
            or window.rollout_state != RolloutState.AWAITING_PROMOTION
        ):
            raise TransitionNotAllowed(
                "Only a passed canary that waits for a person can be promoted."
            )
        canary_promote(window, actor=actor, reason=reason or f"Full rollout approved by {who}.")
    elif action == DecisionAction.ACCEPT:
        window_close(
            window, Verdict(WindowStatus.PASSED, f"Accepted by {who}: {reason}"), actor=actor
        )
    elif action == DecisionAction.ROLLBACK:
        window_close(
            window,
            Verdict(WindowStatus.FAILED, f"Aborted by {who} to roll back: {reason}"),
            actor=actor,
        )
    else:
        try:
            minutes = float(extend_minutes if extend_minutes not in (None, "") else 15)
        except (TypeError, ValueError):
            raise ValidationFailed(
                "Extend by a number of minutes.", details={"extend_minutes": "A number."}
            ) from None
        extend_by = timedelta(minutes=minutes)
        if not timedelta(seconds=1) <= extend_by <= MAX_EXTENSION:
            raise ValidationFailed(
                "Extend by 1 to 120 minutes.", details={"extend_minutes": "1 to 120 minutes."}
            )
        _extend(
            window,
            extend_by=extend_by,
            actor=actor,
            reason=f"Extended by {who} for {minutes:g} min: {reason}",
        )
    WindowDecision.objects.create(
        window=window,
        action=action,
        actor=actor,
        reason=reason,
        extend_by=extend_by,
        from_status=from_status,
        to_status=window.status,
    )
    audit_record(
        actor=actor,
        action="monitoring.decision",
        obj=window,
        project=release.project_id,
        release=release,
        from_state=from_status,
        to_state=window.status,
        reason=reason,
        data={
            "decision": action,
            "kind": window.kind,
            "extend_minutes": extend_by.total_seconds() / 60 if extend_by else None,
        },
    )
    return window


def _extend(window: MonitoringWindow, *, extend_by: timedelta, actor: Any, reason: str) -> None:
    """Give the window more time; checks that were stuck on missing data or errors count afresh."""
    now = timezone.now()
    window.ends_at = max(window.ends_at, now) + extend_by
    window.extensions += 1
    # Resume with the next slot after now; the idle time was a decision, not a gap.
    window.next_slot = int((now - window.started_at) // window.poll_interval) + 1
    window.save(update_fields=["ends_at", "extensions", "next_slot"])
    for check in window.checks.filter(
        status__in=[CheckVerdictStatus.INCONCLUSIVE, CheckVerdictStatus.ERROR]
    ):
        check.status = CheckVerdictStatus.RUNNING
        check.inconclusives = 0
        check.consecutive_errors = 0
        check.save(update_fields=["status", "inconclusives", "consecutive_errors"])
    if window.status != WindowStatus.RUNNING:
        window_transition(window, Verdict(WindowStatus.RUNNING, reason), actor=actor)
    else:
        window.reason = reason
        window.save(update_fields=["reason"])
    window.next_poll_at = window.slot_time(window.next_slot)
    window.save(update_fields=["next_poll_at"])
