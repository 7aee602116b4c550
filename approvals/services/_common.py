"""What every approvals service shares: input cleaning, the release lock, state changes
of a decision with their audit events, and the audited refusal."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from approvals.choices import APPROVAL_TRANSITIONS, ApprovalKind, ApprovalState
from approvals.exceptions import ApprovalDenied, OutsiderDenied, ReleaseClosed
from approvals.models import Approval
from audit.services import audit_record
from core.exceptions import NotFound, TransitionNotAllowed, ValidationFailed
from core.transitions import transition_check
from projects.models import Environment, Membership
from projects.principals import Caller
from releases.choices import RELEASE_CLOSED_STATES
from releases.models import Release

P = ParamSpec("P")
R = TypeVar("R")

COMMENT_MAX = 5000


def clean_text(value: object, field: str, max_length: int = COMMENT_MAX) -> str:
    """``value`` as stripped text, refused when it holds a NUL or passes ``max_length``."""
    text = "" if value is None else str(value)
    if "\x00" in text:
        raise ValidationFailed(f"{field} contains a NUL character, which is not allowed.")
    if len(text) > max_length:
        raise ValidationFailed(f"{field} is longer than {max_length} characters.")
    return text.strip()


def lock_release(release: Release) -> Release:
    return Release.objects.select_for_update().select_related("project").get(pk=release.pk)


def ensure_open(release: Release) -> None:
    if release.status in RELEASE_CLOSED_STATES:
        raise ReleaseClosed(
            f"Release {release.version} is {release.get_status_display().lower()}; "
            "approvals and go/no-go decisions on it are closed."
        )


def project_people(release: Release, *roles: str) -> list[User]:
    """The members of the release's project (holding one of ``roles``, when given), once each."""
    qs = Membership.objects.filter(project_id=release.project_id).select_related("user")
    if roles:
        qs = qs.filter(role__in=roles)
    return list({m.user_id: m.user for m in qs}.values())


def decision_subject(
    release: Release, kind: str, environment: Environment | None
) -> Environment | None:
    """The environment a decision is about: none for scope approvals, required for the rest."""
    if kind == ApprovalKind.SCOPE:
        return None
    if environment is None:
        raise ValidationFailed(
            f"Say which environment the {ApprovalKind(kind).label.lower()} is for."
        )
    if environment.project_id != release.project_id:
        raise NotFound("No such environment in this project.")
    return environment


def what(kind: str, subject: Environment | None) -> str:
    """The decision in words: "deployment approval for production", "scope approval"."""
    label = ApprovalKind(kind).label.lower() if kind in ApprovalKind.values else "decision"
    return f"{label} for {subject}" if subject is not None else label


def approval_data(approval: Approval) -> dict[str, Any]:
    return {
        "kind": approval.kind,
        "environment": approval.environment.name if approval.environment else None,
        "person": approval.person.get_username(),
        "role": approval.role,
        "decision": approval.decision,
        "release_version": approval.release_version,
        "artifact_version": approval.artifact_version,
        "commit_sha": approval.commit_sha,
    }


def record_gate_changes(
    *,
    release: Release,
    before: dict[tuple[str, int], bool],
    after: dict[tuple[str, int], bool],
    actor: Caller,
    environments: list[Environment],
) -> None:
    """Write one event per approval gate that opened or closed with this change."""
    names = {e.pk: e.name for e in environments}
    for (code, env_id), now_open in sorted(
        after.items(), key=lambda item: (item[0][1], item[0][0])
    ):
        was_open = before.get((code, env_id))
        if was_open is None or was_open == now_open:
            continue
        audit_record(
            actor=actor,
            action="approvals.gate_opened" if now_open else "approvals.gate_closed",
            obj=release,
            project=release.project_id,
            release=release,
            from_state="closed" if now_open else "open",
            to_state="open" if now_open else "closed",
            data={"gate": code, "environment": names.get(env_id)},
        )


def set_state(
    approval: Approval, state: str, *, reason: str, actor: Caller, now: datetime | None = None
) -> None:
    """Move an active approval to ``state`` with its audit event (caller holds the release lock)."""
    now = now or timezone.now()
    from_state = approval.state
    transition_check(
        transitions=APPROVAL_TRANSITIONS,
        choices=ApprovalState,
        noun="decision",
        from_state=from_state,
        to_state=state,
    )
    # Conditional: whoever changed it first wins; the loser is told, nothing is written twice.
    updated = Approval.objects.filter(pk=approval.pk, state=from_state).update(
        state=state, state_reason=reason, state_changed_at=now
    )
    if not updated:
        raise TransitionNotAllowed("This decision is no longer active.")
    approval.state, approval.state_reason, approval.state_changed_at = state, reason, now
    release = approval.release
    audit_record(
        actor=actor,
        action=f"approval.{state}",
        obj=approval,
        project=release.project_id,
        release=release,
        from_state=from_state,
        to_state=state,
        reason=reason,
        data=approval_data(approval),
    )


def audited_denial(attempt: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Write refused attempts to the audit trail after the refused transaction rolled back."""

    def decorator(func: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return func(*args, **kwargs)
            except (ApprovalDenied, OutsiderDenied) as exc:
                _denial_record(attempt=attempt, exc=exc, kwargs=kwargs)
                raise

        return wrapper

    return decorator


def _denial_record(
    *, attempt: str, exc: ApprovalDenied | OutsiderDenied, kwargs: dict[str, Any]
) -> None:
    actor = kwargs.get("actor")
    release = kwargs.get("release")
    target = kwargs.get("approval") or kwargs.get("meeting")
    if release is None and target is not None:
        release = target.release
    environment = kwargs.get("environment")
    data = {
        "attempt": attempt,
        "kind": kwargs.get("kind"),
        "decision": kwargs.get("decision") or kwargs.get("vote"),
        "environment": getattr(environment, "name", None),
        "role": kwargs.get("role"),
        "error": exc.code,
    }
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="approval.denied",
            obj=target or release,
            project=release.project_id if release else None,
            release=release,
            to_state="denied",
            reason=exc.message,
            data={k: v for k, v in data.items() if v},
        )
