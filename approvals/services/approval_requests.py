"""Asking for decisions, and setting decisions aside when what they were given for changed.

``approval_request`` asks the eligible people (and sets aside active rejections);
``approvals_invalidate`` lapses approvals when the release changes under them.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import cast

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from approvals.choices import (
    ApprovalKind,
    ApprovalState,
    Decision,
)
from approvals.facts import ReleaseFacts
from approvals.links import release_url
from approvals.models import (
    Approval,
    ApprovalRequest,
)
from approvals.permissions import (
    can_request_approval,
)
from approvals.requirements import gate_states, requirement_for
from approvals.services._common import (
    clean_text,
    decision_subject,
    ensure_open,
    lock_release,
    record_gate_changes,
    set_state,
    what,
)
from audit.services import audit_record
from core.events import publish
from core.exceptions import NotFound, ValidationFailed
from core.notifications import notification_send
from projects.choices import Role
from projects.models import Environment
from projects.permissions import (
    can_view_project,
    is_person,
    role_refusal,
)
from projects.principals import Caller
from releases.models import Release


def request_authorize(*, release: Release, actor: Caller) -> None:
    """Raise unless ``actor`` may ask for decisions on ``release`` (views ask before the form)."""
    if not can_view_project(actor, release.project_id):
        raise NotFound("No such release.")
    if not can_request_approval(actor, release):
        raise role_refusal(Role.RELEASE_MANAGER, Role.ADMIN, to="ask for decisions on this release")


@transaction.atomic
def approval_request(
    *,
    release: Release,
    kind: str,
    actor: Caller,
    environment: Environment | None = None,
    note: str = "",
) -> ApprovalRequest:
    """Ask the eligible people for a decision; a new request sets aside active rejections.

    Callers: whoever may manage the release (its release manager, release
    managers, admins, tokens with the releases scope). Audit:
    ``approval.requested`` (and ``approval.superseded`` per rejection set
    aside). Notifies every person who may still decide.
    """
    request_authorize(release=release, actor=actor)
    if kind not in ApprovalKind.values:
        raise ValidationFailed(f"Unknown approval kind '{str(kind)[:40]}'.")
    note = clean_text(note, "The note")
    subject = decision_subject(release, kind, environment)
    release = lock_release(release)
    ensure_open(release)
    facts = ReleaseFacts(release)
    before = gate_states(facts)
    req = requirement_for(facts, kind=kind, subject=subject)
    who = actor.get_username() if hasattr(actor, "get_username") else str(actor)
    for rejection in req.rejections:
        rejection.release = release
        set_state(
            rejection,
            ApprovalState.SUPERSEDED,
            reason=f"Set aside by a new request from {who}.",
            actor=actor,
        )
    superseded = [r.pk for r in req.rejections]
    # Those whose rejection was set aside may decide again: ask them too.
    req = requirement_for(facts, kind=kind, subject=subject)
    request = ApprovalRequest.objects.create(
        release=release,
        environment=subject,
        kind=kind,
        requested_by=cast(User, actor) if is_person(actor) else None,
        requested_by_label=who,
        note=note,
    )
    audit_record(
        actor=actor,
        action="approval.requested",
        obj=request,
        project=release.project_id,
        release=release,
        reason=note,
        data={
            "kind": kind,
            "environment": subject.name if subject else None,
            "notified": [u.get_username() for u in req.eligible],
            "superseded": superseded,
        },
    )
    record_gate_changes(
        release=release,
        before=before,
        after=gate_states(facts),
        actor=actor,
        environments=facts.environments,
    )
    publish(
        "approvals.requested",
        recipients=[u for u in req.eligible if u.pk != getattr(actor, "pk", None)],
        subject=f"Your {what(kind, subject)} of {release.version} is requested",
        body=note or f"{who} asks for your decision on {release.version} · {release.title}.",
        url=release_url(release),
        project=release.project,
        release=release,
        data={"kind": str(kind), "environment": getattr(subject, "name", "") or ""},
    )
    return request


def approvals_invalidate(
    *, release: Release, kinds: Collection[str], reason: str, actor: Caller
) -> list[Approval]:
    """Invalidate the active approvals of ``kinds`` on ``release`` because what they approved changed.

    Runs inside the transaction of the change (a ``releases`` listener; the
    release row is already locked there). Rejections stay: they object to
    the release, not to the old version of it. Audit: ``approval.invalidated``
    per approval and any gate change. Tells each person whose approval lapsed.
    """
    facts = ReleaseFacts(release)
    targets = [
        a
        for a in facts.approvals
        if a.state == ApprovalState.ACTIVE and a.decision == Decision.APPROVE and a.kind in kinds
    ]
    if not targets:
        return []
    before = gate_states(facts)
    now = timezone.now()
    for approval in targets:
        approval.release = release
        set_state(approval, ApprovalState.INVALIDATED, reason=reason, actor=actor, now=now)
    record_gate_changes(
        release=release,
        before=before,
        after=gate_states(facts),
        actor=actor,
        environments=facts.environments,
    )
    by_person: dict[int, list[Approval]] = {}
    for approval in targets:
        by_person.setdefault(approval.person_id, []).append(approval)
    for approvals in by_person.values():
        person = approvals[0].person
        notification_send(
            recipients=[person],
            subject=f"Your approval of {release.version} no longer counts",
            body=f"{reason}\n\nInvalidated: "
            + ", ".join(what(a.kind, a.environment) for a in approvals)
            + ". Look at the release again and decide anew.",
            url=release_url(release),
            project=release.project,
        )
    return targets
