"""Every write of the approvals app.

Each service is keyword-only, runs in one transaction, locks the release row
(``select_for_update``) so concurrent decisions on one release serialise,
writes its audit events in that transaction and leaves e-mail to
``notification_send`` (queued on commit).

Refused approval attempts (a machine, an outsider, the wrong role, the
author, the deployer …) are written to the audit trail as ``approval.denied``
in a transaction of their own, after the refused one rolled back: nothing
else changes.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.urls import NoReverseMatch
from django.utils import timezone

from accounts.mfa import approval_mfa_refusal
from approvals.choices import (
    AGENDA,
    APPROVAL_TRANSITIONS,
    EMERGENCY_REVIEW_DUE_HOURS,
    MANUAL_GO_CRITERIA,
    MAX_REQUIRED_APPROVALS,
    MEETING_TRANSITIONS,
    NO_GO_TRIGGERS,
    SEAT_ROLES,
    ApprovalKind,
    ApprovalState,
    AutoCriterion,
    CriterionKind,
    Decision,
    MeetingDecision,
    MeetingStatus,
    Seat,
    Vote,
)
from approvals.exceptions import (
    AlreadyDecided,
    ApprovalDenied,
    CommentRequired,
    NoGoTriggerRaised,
    NotAnAttendee,
    NotEligible,
    OutsiderDenied,
    PeopleOnly,
    ReleaseClosed,
    RoleNotHeld,
)
from approvals.models import (
    AgendaItem,
    Approval,
    ApprovalPolicy,
    ApprovalRequest,
    EmergencyReview,
    GoNoGoMeeting,
    MeetingAttendee,
    MeetingCriterion,
    MeetingVote,
)
from approvals.permissions import (
    acting_role,
    can_complete_review,
    can_edit_policy,
    can_request_approval,
    can_run_meeting,
    decision_refusal,
    is_insider,
)
from approvals.requirements import ReleaseFacts, gate_states, person_name, requirement_for
from audit.services import audit_record
from core.exceptions import NotFound, TransitionNotAllowed, ValidationFailed
from core.notifications import notification_send
from core.transitions import transition_check
from core.when import format_when
from projects.choices import Role
from projects.models import Environment
from projects.permissions import (
    READ_ONLY_REFUSAL,
    can_view_project,
    holds_writing_role,
    is_person,
    role_refusal,
    roles_for,
)
from releases.choices import RELEASE_CLOSED_STATES, ReleaseType
from releases.models import Release

COMMENT_MAX = 5000


# --- Helpers ------------------------------------------------------------------------


def _clean(value, field: str, max_length: int = COMMENT_MAX) -> str:
    value = "" if value is None else str(value)
    if "\x00" in value:
        raise ValidationFailed(f"{field} contains a NUL character, which is not allowed.")
    if len(value) > max_length:
        raise ValidationFailed(f"{field} is longer than {max_length} characters.")
    return value.strip()


def _lock_release(release: Release) -> Release:
    return Release.objects.select_for_update().select_related("project").get(pk=release.pk)


def _ensure_open(release: Release) -> None:
    if release.status in RELEASE_CLOSED_STATES:
        raise ReleaseClosed(
            f"Release {release.version} is {release.get_status_display().lower()}; "
            "approvals and go/no-go decisions on it are closed."
        )


def release_url(release: Release) -> str:
    try:
        return release.get_absolute_url()
    except NoReverseMatch:
        return ""


def _members(release: Release, *roles: str) -> list:
    from projects.models import Membership

    qs = Membership.objects.filter(project_id=release.project_id).select_related("user")
    if roles:
        qs = qs.filter(role__in=roles)
    return list({m.user_id: m.user for m in qs}.values())


def _subject(release: Release, kind: str, environment: Environment | None) -> Environment | None:
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


def _decision_policy(facts: ReleaseFacts, kind: str, subject: Environment | None) -> ApprovalPolicy:
    if subject is not None:
        return facts.policy(subject)
    return requirement_for(facts, kind=kind, subject=None).policy


def _what(kind: str, subject: Environment | None) -> str:
    label = ApprovalKind(kind).label.lower() if kind in ApprovalKind.values else "decision"
    return f"{label} for {subject}" if subject is not None else label


def _approval_data(approval: Approval) -> dict:
    return {
        "kind": approval.kind,
        "environment": approval.environment.name if approval.environment_id else None,
        "person": approval.person.get_username(),
        "role": approval.role,
        "decision": approval.decision,
        "release_version": approval.release_version,
        "artifact_version": approval.artifact_version,
        "commit_sha": approval.commit_sha,
    }


def _record_gate_changes(
    *, release: Release, before: dict, after: dict, actor, environments: list[Environment]
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


def _set_state(
    approval: Approval, state: str, *, reason: str, actor, now: datetime | None = None
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
        data=_approval_data(approval),
    )


def _audited_denial(what: str):
    """Write refused attempts to the audit trail after the refused transaction rolled back."""

    def decorator(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            try:
                return func(*args, **kwargs)
            except (ApprovalDenied, OutsiderDenied) as exc:
                _denial_record(what=what, exc=exc, kwargs=kwargs)
                raise

        return wrapper

    return decorator


def _denial_record(*, what: str, exc, kwargs: dict) -> None:
    actor = kwargs.get("actor")
    release = kwargs.get("release")
    target = kwargs.get("approval") or kwargs.get("meeting")
    if release is None and target is not None:
        release = target.release
    environment = kwargs.get("environment")
    data = {
        "attempt": what,
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


# --- Decisions ----------------------------------------------------------------------


def _decision_precheck(*, release, actor) -> None:
    if not is_insider(actor, release.project_id):
        raise OutsiderDenied("No such release.")
    if not is_person(actor):
        raise PeopleOnly("Only people can approve or sign off; API tokens never can.")
    if not holds_writing_role(actor, release.project_id):
        raise RoleNotHeld(READ_ONLY_REFUSAL)


@_audited_denial("decide")
def decision_authorize(*, release: Release, actor, kind: str | None = None) -> None:
    """Refuse (and audit) at once someone who can give no decision at all on ``release``:
    an outsider (404), a token, or an auditor (403). Views call it before reading the form;
    ``approval_decide`` checks the precise role and separation of duties itself.

    ``kind``: when the view fixes it (the emergency path), the role it needs and
    separation of duties are asked here too. Deployment approvals cannot be: their
    roles depend on the environment the form names.
    """
    _decision_precheck(release=release, actor=actor)
    if kind is not None and kind != ApprovalKind.DEPLOYMENT:
        refusal = decision_refusal(
            user=actor,
            release=release,
            kind=kind,
            policy=None,
            deployer_ids=ReleaseFacts(release).deployer_ids,
        )
        if refusal is not None:
            raise refusal


@_audited_denial("decide")
def approval_decide(
    *,
    release: Release,
    kind: str,
    decision: str,
    actor,
    environment: Environment | None = None,
    comment: str = "",
    role: str | None = None,
) -> Approval:
    """Record a person's approval or rejection of ``kind`` for ``release`` (and ``environment``).

    Callers: people holding a role eligible for ``kind`` (QA for sign-offs,
    the product owner for scope, the policy's approver roles for deployment
    approvals, emergency approvers for emergencies), never the release's
    author, and for deployment approvals never its release manager or a
    deployer. Giving the same decision twice returns the first one unchanged,
    with ``repeat = True`` set on it (a new record has ``repeat = False``), so
    the API can answer 200 rather than 201 and say that nothing changed.
    Audit: ``approval.approved`` / ``approval.rejected``, ``approvals.gate_opened``
    or ``approvals.gate_closed`` when a gate changes; refusals ``approval.denied``.
    Notifies the release manager after commit. An emergency approval also
    marks the release as an emergency (see ``_emergency_effects``).
    """
    return _approval_decide(
        release=release,
        kind=kind,
        decision=decision,
        actor=actor,
        environment=environment,
        comment=comment,
        role=role,
    )


@transaction.atomic
def _approval_decide(*, release, kind, decision, actor, environment, comment, role) -> Approval:
    _decision_precheck(release=release, actor=actor)
    if kind not in ApprovalKind.values:
        raise ValidationFailed(
            f"Unknown approval kind '{str(kind)[:40]}'. Choose one of {', '.join(ApprovalKind.values)}."
        )
    if decision not in Decision.values:
        raise ValidationFailed(
            f"Unknown decision '{str(decision)[:40]}'. Choose approve or reject."
        )
    if role is not None and role != "" and role not in Role.values:
        raise ValidationFailed(f"Unknown role '{str(role)[:40]}'.")
    comment = _clean(comment, "The comment")
    subject = _subject(release, kind, environment)
    if decision == Decision.REJECT and not comment:
        raise CommentRequired("Say why you reject: a rejection needs a comment.")
    if kind == ApprovalKind.EMERGENCY:
        if decision != Decision.APPROVE:
            raise ValidationFailed(
                "An emergency approval is either given or not; to object, reject the deployment."
            )
        if not comment:
            raise CommentRequired("An emergency approval needs a written justification.")
    release = _lock_release(release)
    _ensure_open(release)
    if kind == ApprovalKind.EMERGENCY:
        if release.type != ReleaseType.HOTFIX:
            raise ValidationFailed("Only a hotfix release may take the emergency path.")
        if not subject.is_production:
            raise ValidationFailed(
                "An emergency approval lets a hotfix into production; choose a production environment."
            )
    facts = ReleaseFacts(release)
    policy = facts.policy(subject) if subject is not None else None
    refusal = decision_refusal(
        user=actor,
        release=release,
        kind=kind,
        policy=policy,
        deployer_ids=facts.deployer_ids,
        role=role or None,
    )
    if refusal is None:  # a project may require MFA of production approvers (accounts/mfa.py)
        mfa = approval_mfa_refusal(
            user=actor, project=release.project_id, kind=kind, environment=subject
        )
        refusal = NotEligible(mfa, code="mfa_required") if mfa else None
    if refusal is not None:
        raise refusal
    if kind == ApprovalKind.QA_SIGNOFF and not facts.succeeded_in(subject):
        raise TransitionNotAllowed(
            f"QA can sign off {subject} only after {release.version} was deployed there successfully."
        )
    now = timezone.now()
    mine = [a for a in facts.active(kind, subject) if a.person_id == actor.pk]
    if mine:
        current = mine[0]
        if not current.is_expired(_decision_policy(facts, kind, subject), now):
            if current.decision == decision:
                current.repeat = True
                return current
            raise AlreadyDecided(
                f"You already {current.get_decision_display().lower()} this {_what(kind, subject)}; "
                "withdraw that decision first to change it."
            )
        current.release = release
        _set_state(
            current,
            ApprovalState.EXPIRED,
            reason="Replaced by a new decision after it expired.",
            actor=actor,
            now=now,
        )
    before = gate_states(facts)
    approval = Approval(
        release=release,
        environment=subject,
        kind=kind,
        person=actor,
        role=acting_role(actor, release, kind, policy, role or None),
        decision=decision,
        comment=comment,
        release_version=release.version,
        artifact_version=release.artifact_version,
        commit_sha=release.commit_sha,
        created_at=now,
    )
    try:
        with transaction.atomic():
            approval.save()
    except IntegrityError:
        # The release lock makes this unreachable in practice; the constraint is the backstop.
        raise AlreadyDecided(f"You already decided on this {_what(kind, subject)}.") from None
    approval.repeat = False
    facts.approvals.append(approval)
    action = "approval.approved" if decision == Decision.APPROVE else "approval.rejected"
    audit_record(
        actor=actor,
        action=action,
        obj=approval,
        project=release.project_id,
        release=release,
        to_state=decision,
        reason=comment,
        data=_approval_data(approval),
    )
    if kind == ApprovalKind.EMERGENCY:
        _emergency_effects(release=release, approval=approval, actor=actor, now=now)
    _record_gate_changes(
        release=release,
        before=before,
        after=gate_states(facts),
        actor=actor,
        environments=facts.environments,
    )
    verb = "approved" if decision == Decision.APPROVE else "rejected"
    if release.release_manager_id != actor.pk:
        notification_send(
            recipients=[release.release_manager],
            subject=f"{person_name(actor)} {verb} the {_what(kind, subject)} of {release.version}",
            body=comment,
            url=release_url(release),
            project=release.project,
        )
    return approval


def emergency_approve(
    *, release: Release, environment: Environment, actor, justification: str
) -> Approval:
    """Let a hotfix skip staging: an emergency approver's approval with a written justification.

    The loud part (``_emergency_effects``): the release is flagged as an
    emergency, ``release.marked_emergency`` is audited, the whole project is
    told at once (urgent), and a post-implementation review falls due in 48 hours.
    """
    return approval_decide(
        release=release,
        kind=ApprovalKind.EMERGENCY,
        decision=Decision.APPROVE,
        environment=environment,
        actor=actor,
        comment=justification,
    )


def _emergency_effects(*, release: Release, approval: Approval, actor, now: datetime) -> None:
    if not release.is_emergency:
        # The releases app owns the field; a queryset update leaves its other fields alone.
        Release.objects.filter(pk=release.pk).update(is_emergency=True)
        release.is_emergency = True
        audit_record(
            actor=actor,
            action="release.marked_emergency",
            obj=release,
            project=release.project_id,
            release=release,
            from_state="",
            to_state="emergency",
            reason=approval.comment,
            data={"approval": approval.pk, "environment": approval.environment.name},
        )
    review, created = EmergencyReview.objects.get_or_create(
        release=release,
        defaults={
            "approval": approval,
            "due_at": now + timedelta(hours=EMERGENCY_REVIEW_DUE_HOURS),
        },
    )
    if created:
        audit_record(
            actor=actor,
            action="emergency_review.opened",
            obj=review,
            project=release.project_id,
            release=release,
            to_state="due",
            data={"due_at": review.due_at.isoformat()},
        )
    notification_send(
        recipients=_members(release),
        subject=f"EMERGENCY: {release.version} may go to {approval.environment} without staging",
        body=f"{person_name(actor)} gave an emergency approval: {approval.comment}\n\n"
        f"A post-implementation review is due by {format_when(review.due_at)}.",
        url=release_url(release),
        project=release.project,
        urgent=True,
    )


@_audited_denial("withdraw")
def approval_withdraw(*, approval: Approval, actor, reason: str = "") -> Approval:
    """Take back one's own active decision (approval or rejection).

    Only the person who gave it may withdraw it. Audit: ``approval.withdrawn``
    and any gate change. Notifies the release manager.
    """
    return _approval_withdraw(approval=approval, actor=actor, reason=reason)


def _withdraw_precheck(*, approval: Approval, actor) -> None:
    if not is_insider(actor, approval.release.project_id):
        raise OutsiderDenied("No such approval.")
    if not is_person(actor):
        raise PeopleOnly("Only people can withdraw decisions; API tokens never can.")
    if approval.person_id != actor.pk:
        raise NotEligible("Only the person who gave a decision may withdraw it.")


@_audited_denial("withdraw")
def withdraw_authorize(*, approval: Approval, actor) -> None:
    """Refuse (and audit) a withdrawal by anyone but the person who decided, before the form is read."""
    _withdraw_precheck(approval=approval, actor=actor)


@transaction.atomic
def _approval_withdraw(*, approval: Approval, actor, reason: str) -> Approval:
    _withdraw_precheck(approval=approval, actor=actor)
    reason = _clean(reason, "The reason")
    release = _lock_release(approval.release)
    _ensure_open(release)
    facts = ReleaseFacts(release)
    current = next((a for a in facts.approvals if a.pk == approval.pk), None)
    if current is None:
        raise TransitionNotAllowed(
            "This decision is no longer active, so there is nothing to withdraw."
        )
    before = gate_states(facts)
    current.release = release
    _set_state(
        current,
        ApprovalState.WITHDRAWN,
        reason=reason or "Withdrawn by the person who gave it.",
        actor=actor,
    )
    _record_gate_changes(
        release=release,
        before=before,
        after=gate_states(facts),
        actor=actor,
        environments=facts.environments,
    )
    if release.release_manager_id != actor.pk:
        notification_send(
            recipients=[release.release_manager],
            subject=f"{person_name(actor)} withdrew their {_what(current.kind, current.environment)} "
            f"of {release.version}",
            body=reason,
            url=release_url(release),
            project=release.project,
        )
    return current


def request_authorize(*, release: Release, actor) -> None:
    """Raise unless ``actor`` may ask for decisions on ``release`` (views ask before the form)."""
    if not can_view_project(actor, release.project_id):
        raise NotFound("No such release.")
    if not can_request_approval(actor, release):
        raise role_refusal(Role.RELEASE_MANAGER, Role.ADMIN, to="ask for decisions on this release")


@transaction.atomic
def approval_request(
    *, release: Release, kind: str, actor, environment: Environment | None = None, note: str = ""
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
    note = _clean(note, "The note")
    subject = _subject(release, kind, environment)
    release = _lock_release(release)
    _ensure_open(release)
    facts = ReleaseFacts(release)
    before = gate_states(facts)
    req = requirement_for(facts, kind=kind, subject=subject)
    who = actor.get_username() if hasattr(actor, "get_username") else str(actor)
    for rejection in req.rejections:
        rejection.release = release
        _set_state(
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
        requested_by=actor if is_person(actor) else None,
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
    _record_gate_changes(
        release=release,
        before=before,
        after=gate_states(facts),
        actor=actor,
        environments=facts.environments,
    )
    notification_send(
        recipients=[u for u in req.eligible if u.pk != getattr(actor, "pk", None)],
        subject=f"Your {_what(kind, subject)} of {release.version} is requested",
        body=note or f"{who} asks for your decision on {release.version} · {release.title}.",
        url=release_url(release),
        project=release.project,
    )
    return request


def approvals_invalidate(*, release: Release, kinds, reason: str, actor) -> list[Approval]:
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
        _set_state(approval, ApprovalState.INVALIDATED, reason=reason, actor=actor, now=now)
    _record_gate_changes(
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
            + ", ".join(_what(a.kind, a.environment) for a in approvals)
            + ". Look at the release again and decide anew.",
            url=release_url(release),
            project=release.project,
        )
    return targets


# --- Policies -----------------------------------------------------------------------

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


def policy_authorize(*, project, actor) -> None:
    """Raise unless ``actor`` may change ``project``'s approval policies (views ask before the form)."""
    if not can_view_project(actor, project):
        raise NotFound("No such environment.")
    if not can_edit_policy(actor, project):
        raise role_refusal(Role.ADMIN, to="change approval policies")


@transaction.atomic
def approval_policy_update(*, environment: Environment, actor, **values) -> ApprovalPolicy:
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
    policy.updated_by = actor
    policy.save()
    audit_record(
        actor=actor,
        action="approval_policy.updated",
        obj=policy,
        project=environment.project_id,
        data={"environment": environment.name, "changes": changes, "created": created},
    )
    return policy


def _policy_clean(environment: Environment, values: dict) -> dict:
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
    hours = values["approval_valid_hours"]
    if hours in ("", None):
        hours = None
    else:
        try:
            hours = int(hours)
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


# --- Emergency reviews ----------------------------------------------------------------


def review_authorize(*, review: EmergencyReview, actor) -> None:
    """Raise unless ``actor`` may record ``review`` (views ask before reading the form)."""
    if not can_view_project(actor, review.release.project_id):
        raise NotFound("No such review.")
    if not can_complete_review(actor, review.release):
        raise role_refusal(
            Role.RELEASE_MANAGER,
            Role.ADMIN,
            Role.EMERGENCY_APPROVER,
            to="record the post-implementation review",
        )


@transaction.atomic
def emergency_review_complete(*, review: EmergencyReview, actor, summary: str) -> EmergencyReview:
    """Record the post-implementation review of an emergency release.

    Callers: the release manager, release managers, admins, emergency
    approvers (people). Audit: ``emergency_review.completed``.
    """
    release = review.release
    review_authorize(review=review, actor=actor)
    summary = _clean(summary, "The summary", 20000)
    if not summary:
        raise ValidationFailed("Write what the review found: the summary is required.")
    review = EmergencyReview.objects.select_for_update().get(pk=review.pk)
    if review.completed_at is not None:
        raise TransitionNotAllowed("This review is already recorded.")
    now = timezone.now()
    overdue = review.due_at <= now
    review.summary, review.completed_at, review.completed_by = summary, now, actor
    review.save(update_fields=["summary", "completed_at", "completed_by"])
    audit_record(
        actor=actor,
        action="emergency_review.completed",
        obj=review,
        project=release.project_id,
        release=release,
        from_state="overdue" if overdue else "due",
        to_state="done",
        reason=summary,
        data={"due_at": review.due_at.isoformat(), "late": overdue},
    )
    return review


def emergency_reviews_overdue_notify(*, now: datetime | None = None) -> int:
    """Tell the people responsible about each review that just became overdue; once per review.

    Run by the periodic task. Each review is claimed with a conditional
    UPDATE (``overdue_notified_at IS NULL``) so two workers never both send.
    Audit: ``emergency_review.overdue``.
    """
    now = now or timezone.now()
    sent = 0
    candidates = EmergencyReview.objects.filter(
        completed_at__isnull=True, overdue_notified_at__isnull=True, due_at__lte=now
    ).values_list("pk", flat=True)
    for pk in list(candidates[:500]):
        with transaction.atomic():
            claimed = EmergencyReview.objects.filter(
                pk=pk, overdue_notified_at__isnull=True, completed_at__isnull=True
            ).update(overdue_notified_at=now)
            if not claimed:
                continue
            review = EmergencyReview.objects.select_related(
                "release", "release__project", "release__release_manager"
            ).get(pk=pk)
            release = review.release
            audit_record(
                actor=None,
                action="emergency_review.overdue",
                obj=review,
                project=release.project_id,
                release=release,
                from_state="due",
                to_state="overdue",
                data={"due_at": review.due_at.isoformat()},
            )
            people = [
                release.release_manager,
                *_members(release, Role.EMERGENCY_APPROVER, Role.ADMIN),
            ]
            notification_send(
                recipients=people,
                urgent=True,
                project=release.project,
                url=release_url(release),
                subject=f"Overdue: the post-implementation review of emergency release {release.version}",
                body=f"It was due {format_when(review.due_at)}.",
            )
            sent += 1
    return sent


# --- Go/no-go meetings -------------------------------------------------------------------


def meeting_default_attendees(release: Release, *, security_sensitive: bool = False) -> list[tuple]:
    """(person, seat) for everyone whose role fills a seat, the release manager first."""
    from projects.models import Membership

    found: dict[int, tuple] = {
        release.release_manager_id: (release.release_manager, Seat.RELEASE_MANAGER)
    }
    memberships = (
        Membership.objects.filter(project_id=release.project_id)
        .select_related("user")
        .order_by("user__username")
    )
    by_role: dict[str, list] = {}
    for membership in memberships:
        by_role.setdefault(membership.role, []).append(membership.user)
    for seat, roles in SEAT_ROLES.items():
        if seat in (Seat.RELEASE_MANAGER, Seat.SECURITY):
            continue
        for role in roles:
            for user in by_role.get(role, []):
                found.setdefault(user.pk, (user, seat))
    if security_sensitive:
        # One person for security: the first of the seat's roles not seated already.
        for role in SEAT_ROLES[Seat.SECURITY]:
            spare = [u for u in by_role.get(role, []) if u.pk not in found]
            if spare:
                found[spare[0].pk] = (spare[0], Seat.SECURITY)
                break
    return list(found.values())


def meeting_schedule_authorize(*, release: Release, actor) -> None:
    """Raise unless ``actor`` may schedule a go/no-go for ``release`` (views ask before the form)."""
    if not can_view_project(actor, release.project_id):
        raise NotFound("No such release.")
    if not can_run_meeting(actor, release):
        raise role_refusal(Role.RELEASE_MANAGER, to="schedule a go/no-go meeting")


@transaction.atomic
def meeting_schedule(
    *,
    release: Release,
    environment: Environment,
    scheduled_for: datetime,
    actor,
    attendees: list[tuple] | None = None,
    security_sensitive: bool = False,
) -> GoNoGoMeeting:
    """Schedule a go/no-go meeting with its agenda, criteria and triggers.

    Callers: the release's manager or a release manager. ``attendees`` is a
    list of (person, seat); by default everyone whose role fills a seat.
    Audit: ``meeting.scheduled``. Notifies the attendees.
    """
    meeting_schedule_authorize(release=release, actor=actor)
    if environment.project_id != release.project_id:
        raise NotFound("No such environment in this project.")
    _meeting_time_check(scheduled_for)
    release = _lock_release(release)
    _ensure_open(release)
    existing = GoNoGoMeeting.objects.filter(
        release=release, environment=environment, status=MeetingStatus.SCHEDULED
    ).first()
    if existing is not None:
        raise TransitionNotAllowed(
            f"A go/no-go meeting for {environment} is already scheduled; use it or cancel it first."
        )
    seats = (
        attendees
        if attendees is not None
        else meeting_default_attendees(release, security_sensitive=security_sensitive)
    )
    chosen: dict[int, tuple] = {
        release.release_manager_id: (release.release_manager, Seat.RELEASE_MANAGER)
    }
    for person, seat in seats:
        if seat not in Seat.values:
            raise ValidationFailed(f"Unknown seat '{str(seat)[:40]}'.")
        if not roles_for(person, release.project_id):
            raise ValidationFailed(f"{person.get_username()} is not a member of this project.")
        chosen.setdefault(person.pk, (person, seat))
    meeting = GoNoGoMeeting.objects.create(
        release=release,
        environment=environment,
        scheduled_for=scheduled_for,
        security_sensitive=security_sensitive,
        created_by=actor,
    )
    MeetingAttendee.objects.bulk_create(
        [MeetingAttendee(meeting=meeting, person=p, seat=s) for p, s in chosen.values()]
    )
    AgendaItem.objects.bulk_create(
        [
            AgendaItem(meeting=meeting, position=i, key=key, title=title)
            for i, (key, title) in enumerate(AGENDA, 1)
        ]
    )
    criteria = [
        MeetingCriterion(
            meeting=meeting, kind=CriterionKind.GO, title=c.label, auto_key=c.value, position=i
        )
        for i, c in enumerate(AutoCriterion, 1)
    ]
    offset = len(criteria)
    criteria += [
        MeetingCriterion(meeting=meeting, kind=CriterionKind.GO, title=t, position=offset + i)
        for i, t in enumerate(MANUAL_GO_CRITERIA, 1)
    ]
    criteria += [
        MeetingCriterion(meeting=meeting, kind=CriterionKind.NO_GO_TRIGGER, title=t, position=i)
        for i, t in enumerate(NO_GO_TRIGGERS, 1)
    ]
    MeetingCriterion.objects.bulk_create(criteria)
    audit_record(
        actor=actor,
        action="meeting.scheduled",
        obj=meeting,
        project=release.project_id,
        release=release,
        to_state=meeting.status,
        data={
            "environment": environment.name,
            "scheduled_for": scheduled_for.isoformat(),
            "security_sensitive": security_sensitive,
            "attendees": [{"person": p.get_username(), "seat": s} for p, s in chosen.values()],
        },
    )
    notification_send(
        recipients=[p for p, _ in chosen.values() if p.pk != actor.pk],
        subject=f"Go/no-go for {release.version} → {environment}: {format_when(scheduled_for)}",
        body="You are invited as an attendee. The agenda: " + "; ".join(t for _, t in AGENDA) + ".",
        url=meeting.get_absolute_url(),
        project=release.project,
    )
    return meeting


# How far in the past a meeting time may lie: a meeting entered just after it began (or
# with the clock of another time zone in mind) is still recorded, a typo of a year is not.
MEETING_PAST_GRACE = timedelta(days=1)


def _meeting_time_check(scheduled_for) -> None:
    if scheduled_for is None:
        raise ValidationFailed(
            "Say when the meeting takes place.",
            details={"scheduled_for": "Say when the meeting takes place."},
        )
    if not isinstance(scheduled_for, datetime) or timezone.is_naive(scheduled_for):
        raise ValidationFailed(
            "Give the meeting's date and time with its time zone.",
            details={"scheduled_for": "Give a date and time with a time zone."},
        )
    if scheduled_for < timezone.now() - MEETING_PAST_GRACE:
        raise ValidationFailed(
            "Choose a time that is not in the past.",
            details={"scheduled_for": "Choose a time that is not in the past."},
        )


def _lock_meeting(meeting: GoNoGoMeeting) -> tuple[GoNoGoMeeting, Release]:
    release = _lock_release(meeting.release)
    meeting = GoNoGoMeeting.objects.select_for_update().get(pk=meeting.pk)
    meeting.release = release
    return meeting, release


def _ensure_meeting_open(meeting: GoNoGoMeeting) -> None:
    if meeting.status != MeetingStatus.SCHEDULED:
        raise TransitionNotAllowed(
            f"This meeting is {meeting.get_status_display().lower()}; it can no longer change."
        )


def _meeting_transition_check(meeting: GoNoGoMeeting, to_status: str) -> None:
    transition_check(
        transitions=MEETING_TRANSITIONS,
        choices=MeetingStatus,
        noun="go/no-go meeting",
        from_state=meeting.status,
        to_state=to_status,
    )


def _is_attendee(meeting: GoNoGoMeeting, user) -> bool:
    return (
        is_person(user)
        and MeetingAttendee.objects.filter(meeting=meeting, person_id=user.pk).exists()
    )


_MINUTES_REFUSAL = "Only the meeting's attendees and release managers may change its minutes."
# What each change to a meeting needs: (release managers only?, what the person tried).
_MEETING_RIGHTS = {
    "attendee_add": (True, "change who attends"),
    "decide": (True, "decide go or no-go"),
    "cancel": (True, "cancel a go/no-go meeting"),
    "reschedule": (True, "move a go/no-go meeting"),
    "notes": (False, "change the minutes"),
    "criterion": (False, "change the minutes"),
    "criterion_add": (False, "change the minutes"),
}


def meeting_authorize(*, meeting: GoNoGoMeeting, actor, action: str) -> None:
    """Raise unless ``actor`` may do ``action`` (a key of _MEETING_RIGHTS) to ``meeting``.

    Release managers steer a meeting; its attendees also keep the minutes. The
    services check this first, and views call it before reading the form.
    """
    if not can_view_project(actor, meeting.release.project_id):
        raise NotFound("No such meeting.")
    steer_only, doing = _MEETING_RIGHTS[action]
    if not (
        can_run_meeting(actor, meeting.release) or (not steer_only and _is_attendee(meeting, actor))
    ):
        if steer_only:
            raise role_refusal(Role.RELEASE_MANAGER, to=doing)
        raise NotAnAttendee(_MINUTES_REFUSAL)


@transaction.atomic
def meeting_attendee_add(*, meeting: GoNoGoMeeting, person, seat: str, actor) -> MeetingAttendee:
    """Invite one more person. Callers: release managers. Audit: ``meeting.attendee_added``."""
    meeting_authorize(meeting=meeting, actor=actor, action="attendee_add")
    if seat not in Seat.values:
        raise ValidationFailed(f"Unknown seat '{str(seat)[:40]}'.")
    if person is None or not roles_for(person, meeting.release.project_id):
        raise ValidationFailed("Invite a member of this project.")
    meeting, release = _lock_meeting(meeting)
    _ensure_meeting_open(meeting)
    attendee, created = MeetingAttendee.objects.get_or_create(
        meeting=meeting, person=person, defaults={"seat": seat}
    )
    if created:
        audit_record(
            actor=actor,
            action="meeting.attendee_added",
            obj=meeting,
            project=release.project_id,
            release=release,
            data={"person": person.get_username(), "seat": seat},
        )
        notification_send(
            recipients=[person],
            subject=f"You are invited to the go/no-go for {release.version}",
            url=meeting.get_absolute_url(),
            project=release.project,
        )
    return attendee


@transaction.atomic
def meeting_notes_update(*, item: AgendaItem, notes: str, actor) -> AgendaItem:
    """Write the notes of one agenda item. Callers: attendees, release managers. Audit: ``meeting.notes_updated``."""
    meeting = item.meeting
    meeting_authorize(meeting=meeting, actor=actor, action="notes")
    notes = _clean(notes, "The notes", 20000)
    meeting, release = _lock_meeting(meeting)
    _ensure_meeting_open(meeting)
    item = AgendaItem.objects.select_for_update().get(pk=item.pk)
    if item.notes == notes:
        return item
    item.notes, item.updated_by, item.updated_at = notes, actor, timezone.now()
    item.save(update_fields=["notes", "updated_by", "updated_at"])
    audit_record(
        actor=actor,
        action="meeting.notes_updated",
        obj=meeting,
        project=release.project_id,
        release=release,
        data={"item": item.key, "characters": len(notes)},
    )
    return item


@transaction.atomic
def meeting_criterion_set(
    *, criterion: MeetingCriterion, checked: bool | None, actor, note: str = ""
) -> MeetingCriterion:
    """Judge a manual go criterion (met?) or a no-go trigger (raised?).

    Criteria Shipcheck fills in itself cannot be set by hand. Callers:
    attendees, release managers. Audit: ``meeting.criterion_set``.
    """
    meeting = criterion.meeting
    meeting_authorize(meeting=meeting, actor=actor, action="criterion")
    if criterion.is_auto:
        raise ValidationFailed(f"'{criterion.title}' is filled in from the release itself.")
    note = _clean(note, "The note", 2000)
    meeting, release = _lock_meeting(meeting)
    _ensure_meeting_open(meeting)
    criterion = MeetingCriterion.objects.select_for_update().get(pk=criterion.pk)
    old = criterion.checked
    criterion.checked, criterion.note, criterion.updated_by = checked, note, actor
    criterion.save(update_fields=["checked", "note", "updated_by"])
    audit_record(
        actor=actor,
        action="meeting.criterion_set",
        obj=meeting,
        project=release.project_id,
        release=release,
        from_state=_checked_text(criterion.kind, old),
        to_state=_checked_text(criterion.kind, checked),
        reason=note,
        data={"criterion": criterion.title, "kind": criterion.kind},
    )
    return criterion


def _checked_text(kind: str, checked: bool | None) -> str:
    if checked is None:
        return "open"
    if kind == CriterionKind.NO_GO_TRIGGER:
        return "raised" if checked else "clear"
    return "met" if checked else "not_met"


@transaction.atomic
def meeting_criterion_add(
    *, meeting: GoNoGoMeeting, kind: str, title: str, actor
) -> MeetingCriterion:
    """Add a manual go criterion or no-go trigger. Callers: attendees, release managers. Audit: ``meeting.criterion_added``."""
    meeting_authorize(meeting=meeting, actor=actor, action="criterion_add")
    if kind not in CriterionKind.values:
        raise ValidationFailed("Choose a go criterion or a no-go trigger.")
    title = _clean(title, "The title", 200)
    if not title:
        raise ValidationFailed("Name the criterion.")
    meeting, release = _lock_meeting(meeting)
    _ensure_meeting_open(meeting)
    last = MeetingCriterion.objects.filter(meeting=meeting, kind=kind).order_by("-position").first()
    criterion = MeetingCriterion.objects.create(
        meeting=meeting, kind=kind, title=title, position=(last.position + 1) if last else 1
    )
    audit_record(
        actor=actor,
        action="meeting.criterion_added",
        obj=meeting,
        project=release.project_id,
        release=release,
        data={"criterion": title, "kind": kind},
    )
    return criterion


@_audited_denial("vote")
def meeting_vote(*, meeting: GoNoGoMeeting, vote: str, actor, comment: str = "") -> MeetingVote:
    """Cast or change one's go / no-go / abstain vote, with a comment (required for no-go).

    Callers: the meeting's attendees, people only. Audit: ``meeting.vote_cast``
    (a repeat of the same vote changes nothing); refusals ``approval.denied``.
    """
    return _meeting_vote(meeting=meeting, vote=vote, actor=actor, comment=comment)


def _vote_precheck(*, meeting, actor) -> None:
    if not is_insider(actor, meeting.release.project_id):
        raise OutsiderDenied("No such meeting.")
    if not is_person(actor):
        raise PeopleOnly("Only people vote; API tokens never can.")
    if not _is_attendee(meeting, actor):
        raise NotAnAttendee(
            "Only the meeting's attendees may vote; ask the release manager to invite you."
        )


@_audited_denial("vote")
def vote_authorize(*, meeting: GoNoGoMeeting, actor) -> None:
    """Refuse (and audit) a vote from someone who is not an attendee, before the form is read."""
    _vote_precheck(meeting=meeting, actor=actor)


@transaction.atomic
def _meeting_vote(*, meeting, vote, actor, comment) -> MeetingVote:
    _vote_precheck(meeting=meeting, actor=actor)
    if vote not in Vote.values:
        raise ValidationFailed("Vote go, no_go or abstain.")
    comment = _clean(comment, "The comment", 2000)
    if vote == Vote.NO_GO and not comment:
        raise CommentRequired("Say why: a no-go vote needs a comment.")
    meeting, release = _lock_meeting(meeting)
    _ensure_open(release)
    _ensure_meeting_open(meeting)
    existing = MeetingVote.objects.filter(meeting=meeting, person_id=actor.pk).first()
    if existing is not None and existing.vote == vote and existing.comment == comment:
        return existing
    old = existing.vote if existing else ""
    if existing is None:
        existing = MeetingVote.objects.create(
            meeting=meeting, person=actor, vote=vote, comment=comment
        )
    else:
        existing.vote, existing.comment = vote, comment
        existing.save(update_fields=["vote", "comment", "updated_at"])
    audit_record(
        actor=actor,
        action="meeting.vote_cast",
        obj=meeting,
        project=release.project_id,
        release=release,
        from_state=old,
        to_state=vote,
        reason=comment,
        data={"person": actor.get_username()},
    )
    return existing


@transaction.atomic
def meeting_decide(*, meeting: GoNoGoMeeting, decision: str, reason: str, actor) -> GoNoGoMeeting:
    """Record the release manager's go or no-go, with its reason, for this release version.

    Freezes the automatic criteria as they stand. A go is refused while a
    no-go trigger is raised. Callers: the release's manager or a release
    manager, people only. Audit: ``meeting.decided``. Notifies the attendees.
    """
    from approvals.selectors import meeting_auto_criteria

    if not is_insider(actor, meeting.release.project_id):
        raise NotFound("No such meeting.")
    if not is_person(actor):
        raise PeopleOnly("Only a person decides go or no-go; API tokens never can.")
    meeting_authorize(meeting=meeting, actor=actor, action="decide")
    if decision not in MeetingDecision.values:
        raise ValidationFailed("Decide go or no_go.")
    reason = _clean(reason, "The reason")
    if not reason:
        raise CommentRequired("Give the reason for the decision; it goes into the minutes.")
    meeting, release = _lock_meeting(meeting)
    _ensure_open(release)
    _meeting_transition_check(meeting, MeetingStatus.DECIDED)
    criteria = list(MeetingCriterion.objects.select_for_update().filter(meeting=meeting))
    raised = [c.title for c in criteria if c.kind == CriterionKind.NO_GO_TRIGGER and c.checked]
    if decision == MeetingDecision.GO and raised:
        raise NoGoTriggerRaised(
            "A no-go trigger is raised (" + "; ".join(raised) + "): clear it or decide no-go."
        )
    auto = meeting_auto_criteria(meeting)
    for criterion in criteria:
        if criterion.auto_key in auto:
            criterion.checked, criterion.note = auto[criterion.auto_key]
            criterion.save(update_fields=["checked", "note"])
    now = timezone.now()
    meeting.status, meeting.decision, meeting.decision_reason = (
        MeetingStatus.DECIDED,
        decision,
        reason,
    )
    meeting.decided_by, meeting.decided_at = actor, now
    meeting.decided_version = release.version
    meeting.decided_artifact_version = release.artifact_version or ""
    meeting.decided_commit_sha = release.commit_sha or ""
    meeting.save()
    votes = list(MeetingVote.objects.filter(meeting=meeting).select_related("person"))
    audit_record(
        actor=actor,
        action="meeting.decided",
        obj=meeting,
        project=release.project_id,
        release=release,
        from_state=MeetingStatus.SCHEDULED,
        to_state=decision,
        reason=reason,
        data={
            "environment": meeting.environment.name,
            "version": release.version,
            "artifact_version": release.artifact_version,
            "commit_sha": release.commit_sha,
            "votes": {v.person.get_username(): v.vote for v in votes},
            "criteria": {c.title: _checked_text(c.kind, c.checked) for c in criteria},
        },
    )
    attendees = [
        a.person for a in MeetingAttendee.objects.filter(meeting=meeting).select_related("person")
    ]
    notification_send(
        recipients=[p for p in attendees if p.pk != actor.pk],
        subject=f"Go/no-go for {release.version} → {meeting.environment}: "
        f"{MeetingDecision(decision).label.upper()}",
        body=reason,
        url=meeting.get_absolute_url(),
        project=release.project,
    )
    return meeting


@transaction.atomic
def meeting_cancel(*, meeting: GoNoGoMeeting, actor, reason: str) -> GoNoGoMeeting:
    """Cancel a scheduled meeting. Callers: release managers. Audit: ``meeting.cancelled``."""
    meeting_authorize(meeting=meeting, actor=actor, action="cancel")
    reason = _clean(reason, "The reason")
    if not reason:
        raise ValidationFailed("Say why the meeting is cancelled.")
    meeting, release = _lock_meeting(meeting)
    _meeting_transition_check(meeting, MeetingStatus.CANCELLED)
    meeting.status = MeetingStatus.CANCELLED
    meeting.save(update_fields=["status"])
    audit_record(
        actor=actor,
        action="meeting.cancelled",
        obj=meeting,
        project=release.project_id,
        release=release,
        from_state=MeetingStatus.SCHEDULED,
        to_state=MeetingStatus.CANCELLED,
        reason=reason,
    )
    return meeting


@transaction.atomic
def meeting_reschedule(
    *, meeting: GoNoGoMeeting, scheduled_for: datetime, actor, reason: str = ""
) -> GoNoGoMeeting:
    """Move a scheduled meeting to another time and tell its attendees.

    Callers: release managers. Audit: ``meeting.rescheduled`` with the old and
    new time. Notifies every attendee but the actor.
    """
    meeting_authorize(meeting=meeting, actor=actor, action="reschedule")
    _meeting_time_check(scheduled_for)
    reason = _clean(reason, "The reason")
    meeting, release = _lock_meeting(meeting)
    _ensure_meeting_open(meeting)
    previous = meeting.scheduled_for
    if previous == scheduled_for:
        return meeting
    meeting.scheduled_for = scheduled_for
    meeting.save(update_fields=["scheduled_for"])
    audit_record(
        actor=actor,
        action="meeting.rescheduled",
        obj=meeting,
        project=release.project_id,
        release=release,
        reason=reason,
        data={
            "environment": meeting.environment.name,
            "from": previous.isoformat(),
            "to": scheduled_for.isoformat(),
        },
    )
    attendees = [
        a.person
        for a in MeetingAttendee.objects.filter(meeting=meeting).select_related("person")
        if a.person_id != actor.pk
    ]
    notification_send(
        recipients=attendees,
        subject=f"Go/no-go for {release.version} → {meeting.environment} moved to "
        f"{timezone.localtime(scheduled_for):%d %b %H:%M}",
        body=f"It was planned for {timezone.localtime(previous):%d %b %H:%M}."
        + (f" Why: {reason}" if reason else ""),
        url=meeting.get_absolute_url(),
        project=release.project,
    )
    return meeting
