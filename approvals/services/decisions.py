"""Decisions and sign-offs: authorising, giving, and withdrawing a person's decision.

``approval_decide`` is the one way a QA sign-off, a scope approval, a deployment
approval or an emergency approval is given; ``emergency_approve`` is its emergency
form, whose loud effects live in ``approvals.services.emergency``.
"""

from __future__ import annotations

from typing import cast

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.mfa import approval_mfa_refusal
from approvals.choices import (
    ApprovalKind,
    ApprovalState,
    Decision,
)
from approvals.exceptions import (
    AlreadyDecided,
    CommentRequired,
    NotEligible,
    OutsiderDenied,
    PeopleOnly,
    RoleNotHeld,
)
from approvals.facts import ReleaseFacts, person_name
from approvals.links import release_url
from approvals.models import (
    Approval,
    ApprovalPolicy,
)
from approvals.permissions import (
    acting_role,
    decision_refusal,
    is_insider,
)
from approvals.requirements import gate_states, requirement_for
from approvals.services._common import (
    approval_data,
    audited_denial,
    clean_text,
    decision_subject,
    ensure_open,
    lock_release,
    record_gate_changes,
    set_state,
    what,
)
from approvals.services.emergency import emergency_effects
from audit.services import audit_record
from core.events import publish
from core.exceptions import TransitionNotAllowed, ValidationFailed
from core.notifications import notification_send
from projects.choices import Role
from projects.models import Environment
from projects.permissions import (
    READ_ONLY_REFUSAL,
    holds_writing_role,
    is_person,
)
from projects.principals import Caller
from releases.choices import ReleaseType
from releases.models import Release


def _decision_precheck(*, release: Release, actor: Caller) -> None:
    if not is_insider(actor, release.project_id):
        raise OutsiderDenied("No such release.")
    if not is_person(actor):
        raise PeopleOnly("Only people can approve or sign off; API tokens never can.")
    if not holds_writing_role(actor, release.project_id):
        raise RoleNotHeld(READ_ONLY_REFUSAL)


@audited_denial("decide")
def decision_authorize(*, release: Release, actor: Caller, kind: str | None = None) -> None:
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


@audited_denial("decide")
def approval_decide(
    *,
    release: Release,
    kind: str,
    decision: str,
    actor: Caller,
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
    marks the release as an emergency (see ``emergency_effects``).
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


def _decision_policy(facts: ReleaseFacts, kind: str, subject: Environment | None) -> ApprovalPolicy:
    if subject is not None:
        return facts.policy(subject)
    return requirement_for(facts, kind=kind, subject=None).policy


@transaction.atomic
def _approval_decide(
    *,
    release: Release,
    kind: str,
    decision: str,
    actor: Caller,
    environment: Environment | None,
    comment: str,
    role: str | None,
) -> Approval:
    _decision_precheck(release=release, actor=actor)
    person = cast(User, actor)  # the precheck let only a person through
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
    comment = clean_text(comment, "The comment")
    subject = decision_subject(release, kind, environment)
    if decision == Decision.REJECT and not comment:
        raise CommentRequired("Say why you reject: a rejection needs a comment.")
    if kind == ApprovalKind.EMERGENCY:
        if decision != Decision.APPROVE:
            raise ValidationFailed(
                "An emergency approval is either given or not; to object, reject the deployment."
            )
        if not comment:
            raise CommentRequired("An emergency approval needs a written justification.")
    release = lock_release(release)
    ensure_open(release)
    if kind == ApprovalKind.EMERGENCY:
        if release.type != ReleaseType.HOTFIX:
            raise ValidationFailed("Only a hotfix release may take the emergency path.")
        if subject is None or not subject.is_production:
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
    if kind == ApprovalKind.QA_SIGNOFF and subject is not None and not facts.succeeded_in(subject):
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
                f"You already {current.get_decision_display().lower()} this {what(kind, subject)}; "
                "withdraw that decision first to change it."
            )
        current.release = release
        set_state(
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
        person=person,
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
        raise AlreadyDecided(f"You already decided on this {what(kind, subject)}.") from None
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
        data=approval_data(approval),
    )
    if kind == ApprovalKind.EMERGENCY:
        emergency_effects(release=release, approval=approval, actor=actor, now=now)
    record_gate_changes(
        release=release,
        before=before,
        after=gate_states(facts),
        actor=actor,
        environments=facts.environments,
    )
    verb = "approved" if decision == Decision.APPROVE else "rejected"
    publish(
        "approvals.decided",
        recipients=[release.release_manager] if release.release_manager_id != actor.pk else [],
        subject=f"{person_name(actor)} {verb} the {what(kind, subject)} of {release.version}",
        body=comment,
        url=release_url(release),
        project=release.project,
        release=release,
        data={
            "kind": str(kind),
            "decision": str(decision),
            "environment": getattr(subject, "name", "") or "",
        },
    )
    return approval


def emergency_approve(
    *, release: Release, environment: Environment, actor: Caller, justification: str
) -> Approval:
    """Let a hotfix skip staging: an emergency approver's approval with a written justification.

    The loud part (``emergency_effects``): the release is flagged as an
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


@audited_denial("withdraw")
def approval_withdraw(*, approval: Approval, actor: Caller, reason: str = "") -> Approval:
    """Take back one's own active decision (approval or rejection).

    Only the person who gave it may withdraw it. Audit: ``approval.withdrawn``
    and any gate change. Notifies the release manager.
    """
    return _approval_withdraw(approval=approval, actor=actor, reason=reason)


def _withdraw_precheck(*, approval: Approval, actor: Caller) -> None:
    if not is_insider(actor, approval.release.project_id):
        raise OutsiderDenied("No such approval.")
    if not is_person(actor):
        raise PeopleOnly("Only people can withdraw decisions; API tokens never can.")
    if approval.person_id != actor.pk:
        raise NotEligible("Only the person who gave a decision may withdraw it.")


@audited_denial("withdraw")
def withdraw_authorize(*, approval: Approval, actor: Caller) -> None:
    """Refuse (and audit) a withdrawal by anyone but the person who decided, before the form is read."""
    _withdraw_precheck(approval=approval, actor=actor)


@transaction.atomic
def _approval_withdraw(*, approval: Approval, actor: Caller, reason: str) -> Approval:
    _withdraw_precheck(approval=approval, actor=actor)
    reason = clean_text(reason, "The reason")
    release = lock_release(approval.release)
    ensure_open(release)
    facts = ReleaseFacts(release)
    current = next((a for a in facts.approvals if a.pk == approval.pk), None)
    if current is None:
        raise TransitionNotAllowed(
            "This decision is no longer active, so there is nothing to withdraw."
        )
    before = gate_states(facts)
    current.release = release
    set_state(
        current,
        ApprovalState.WITHDRAWN,
        reason=reason or "Withdrawn by the person who gave it.",
        actor=actor,
    )
    record_gate_changes(
        release=release,
        before=before,
        after=gate_states(facts),
        actor=actor,
        environments=facts.environments,
    )
    if release.release_manager_id != actor.pk:
        notification_send(
            recipients=[release.release_manager],
            subject=f"{person_name(actor)} withdrew their {what(current.kind, current.environment)} "
            f"of {release.version}",
            body=reason,
            url=release_url(release),
            project=release.project,
        )
    return current
