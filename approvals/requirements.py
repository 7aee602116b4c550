"""The approval matrix of a release: what each environment asks for and what is given.

Everything is computed in Python from a handful of queries (``ReleaseFacts``, in
``approvals.facts``, re-exported here), so the gates, the release page panel, the
API and the services share one answer and the page's query count does not grow
with the number of approvals.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from approvals.choices import ApprovalKind, Decision, MeetingDecision, MeetingStatus
from approvals.facts import ReleaseFacts, names, person_name
from approvals.models import Approval, ApprovalPolicy, ApprovalRequest, GoNoGoMeeting
from approvals.permissions import eligible_roles, separation_refusal
from core.when import format_when
from projects.models import Environment

# Gate codes registered by this app (``approvals.gates``), in evaluation order.
GATE_QA = "qa_signoff"
GATE_SCOPE = "scope_approval"
GATE_DEPLOYMENT = "deployment_approvals"
GATE_GO_NO_GO = "go_no_go"
__all__ = [
    "GATE_DEPLOYMENT",
    "GATE_GO_NO_GO",
    "GATE_QA",
    "GATE_SCOPE",
    "KIND_GATE",
    "GoNoGoState",
    "ReleaseFacts",
    "Requirement",
    "emergency_waiver",
    "gate_states",
    "go_no_go_state",
    "names",
    "person_name",
    "requirement_for",
    "requirements_for",
]
KIND_GATE: dict[str, str] = {
    ApprovalKind.QA_SIGNOFF: GATE_QA,
    ApprovalKind.SCOPE: GATE_SCOPE,
    ApprovalKind.DEPLOYMENT: GATE_DEPLOYMENT,
}


@dataclass
class Requirement:
    """One thing an environment asks for, with what is given so far."""

    kind: str
    environment: Environment  # the environment whose policy asks
    subject: Environment | None  # what the decision is about (None: the whole release)
    needed: int
    policy: ApprovalPolicy
    counted: list[Approval] = field(default_factory=list)
    rejections: list[Approval] = field(default_factory=list)
    not_counted: list[tuple[Approval, str]] = field(default_factory=list)
    eligible: list = field(default_factory=list)  # people who may still decide
    roles: tuple[str, ...] = ()
    latest_request: ApprovalRequest | None = None

    @property
    def gate_code(self) -> str:
        return KIND_GATE[self.kind]

    @property
    def satisfied(self) -> bool:
        return not self.rejections and len(self.counted) >= self.needed

    @property
    def given(self) -> int:
        return len(self.counted)

    @property
    def missing(self) -> int:
        return max(self.needed - len(self.counted), 0)

    @property
    def key(self) -> str:
        """Identifies the decision slot, e.g. for HTML ids: kind and subject environment."""
        return f"{self.kind}-{self.subject.name if self.subject else 'release'}"

    @property
    def title(self) -> str:
        if self.kind == ApprovalKind.QA_SIGNOFF:
            return f"QA sign-off of {self.subject}"
        if self.kind == ApprovalKind.SCOPE:
            # What is asked for, not a state: it reads right both under "waiting for" and done.
            return "Scope approval by the product owner"
        return (
            f"{self.needed} deployment approval{'s' if self.needed != 1 else ''} for {self.subject}"
        )

    def reason(self) -> str:
        """The sentence the gate shows."""
        rejected = "; ".join(
            f"rejected by {person_name(a.person)}: {a.comment}" for a in self.rejections
        )
        if self.kind == ApprovalKind.QA_SIGNOFF:
            where = str(self.subject).lower()
            if self.rejections:
                return _sentence(
                    f"QA refused to sign off {where}: " + rejected.removeprefix("rejected by ")
                )
            if self.counted:
                return f"QA signed off {where} ({names(a.person for a in self.counted)})."
            return f"QA sign-off for {where} missing." + self._not_counted_text()
        if self.kind == ApprovalKind.SCOPE:
            if self.rejections:
                return _sentence(
                    "The product owner rejected the scope: " + rejected.removeprefix("rejected by ")
                )
            if self.counted:
                return f"Scope approved by the product owner ({names(a.person for a in self.counted)})."
            return "Scope not approved by the product owner." + self._not_counted_text()
        where = str(self.subject).lower()
        count = f"{len(self.counted)} of {self.needed} {where} approvals"
        if self.rejections:
            return _sentence(f"{count}; {rejected}")
        if self.satisfied:
            return f"{count} ({names(a.person for a in self.counted)})."
        if self.eligible:
            text = f"{count}; eligible: {names(self.eligible)}."
        else:
            text = f"{count}; nobody else in this project may approve it."
        return text + self._not_counted_text()

    def _not_counted_text(self) -> str:
        if not self.not_counted:
            return ""
        return (
            " Not counted: "
            + "; ".join(f"{person_name(a.person)} ({why})" for a, why in self.not_counted)
            + "."
        )


def _sentence(text: str) -> str:
    """End ``text`` with a full stop unless it already ends with punctuation (people's comments may)."""
    text = text.rstrip()
    return text if text.endswith((".", "!", "?", "…")) else text + "."


def _requirement(
    facts: ReleaseFacts,
    *,
    kind: str,
    environment: Environment,
    subject: Environment | None,
    needed: int,
    policy: ApprovalPolicy,
) -> Requirement:
    req = Requirement(
        kind=kind,
        environment=environment,
        subject=subject,
        needed=needed,
        policy=policy,
        roles=eligible_roles(kind, policy),
    )
    # Expiry follows the policy of the environment the decision is about.
    decision_policy = facts.policy(subject) if subject is not None else policy
    deployers = facts.deployer_ids
    decided: set[int] = set()
    for approval in facts.active(kind, subject):
        refusal = separation_refusal(
            person_id=approval.person_id, kind=kind, release=facts.release, deployer_ids=deployers
        )
        if approval.decision == Decision.REJECT:
            req.rejections.append(approval)
            decided.add(approval.person_id)
        elif refusal is not None:
            req.not_counted.append((approval, _short(refusal.message)))
            decided.add(approval.person_id)
        elif approval.is_expired(decision_policy, facts.now):
            req.not_counted.append((approval, "expired"))
        else:
            req.counted.append(approval)
            decided.add(approval.person_id)
    for user_id, (user, roles) in facts.members.items():
        if user_id in decided or not (roles & set(req.roles)):
            continue
        if separation_refusal(
            person_id=user_id, kind=kind, release=facts.release, deployer_ids=deployers
        ):
            continue
        req.eligible.append(user)
    subject_id = subject.pk if subject is not None else None
    requests = facts.requests if facts.with_requests else []
    requests = [r for r in requests if r.kind == kind and r.environment_id == subject_id]
    req.latest_request = max(requests, key=lambda r: (r.created_at, r.pk), default=None)
    return req


def _short(message: str) -> str:
    if "created this release" in message:
        return "author of the release"
    if "release manager" in message:
        return "release manager of the release"
    if "deployed this release" in message:
        return "deployed the release"
    return message


def requirements_for(facts: ReleaseFacts, environment: Environment) -> list[Requirement]:
    """What ``environment``'s policy asks of this release, in gate order."""
    policy = facts.policy(environment)
    found = []
    previous = facts.previous(environment)
    if policy.requires_qa_signoff and previous is not None:
        found.append(
            _requirement(
                facts,
                kind=ApprovalKind.QA_SIGNOFF,
                environment=environment,
                subject=previous,
                needed=1,
                policy=policy,
            )
        )
    if policy.requires_scope_approval:
        found.append(
            _requirement(
                facts,
                kind=ApprovalKind.SCOPE,
                environment=environment,
                subject=None,
                needed=1,
                policy=policy,
            )
        )
    if policy.required_approvals:
        found.append(
            _requirement(
                facts,
                kind=ApprovalKind.DEPLOYMENT,
                environment=environment,
                subject=environment,
                needed=policy.required_approvals,
                policy=policy,
            )
        )
    return found


def requirement_for(facts: ReleaseFacts, *, kind: str, subject: Environment | None) -> Requirement:
    """The requirement a decision of ``kind`` about ``subject`` would count towards.

    Used to list who may decide, even where no policy asks for it (then ``needed`` is 0).
    """
    if kind == ApprovalKind.QA_SIGNOFF and subject is not None:
        following = [e for e in facts.environments if e.order > subject.order]
        asker = following[0] if following else subject
        return _requirement(
            facts,
            kind=kind,
            environment=asker,
            subject=subject,
            needed=1 if facts.policy(asker).requires_qa_signoff else 0,
            policy=facts.policy(asker),
        )
    if kind == ApprovalKind.SCOPE:
        asking = [e for e in facts.environments if facts.policy(e).requires_scope_approval]
        env = asking[0] if asking else facts.environments[-1]
        return _requirement(
            facts,
            kind=kind,
            environment=env,
            subject=None,
            needed=1 if asking else 0,
            policy=facts.policy(env),
        )
    if subject is None:
        raise ValueError(f"A {kind} decision is always about an environment.")
    if kind == ApprovalKind.EMERGENCY:
        return _emergency_requirement(facts, subject)
    policy = facts.policy(subject)
    return _requirement(
        facts,
        kind=kind,
        environment=subject,
        subject=subject,
        needed=policy.required_approvals,
        policy=policy,
    )


def _emergency_requirement(facts: ReleaseFacts, environment: Environment) -> Requirement:
    policy = facts.policy(environment)
    req = Requirement(
        kind=ApprovalKind.EMERGENCY,
        environment=environment,
        subject=environment,
        needed=1,
        policy=policy,
        roles=eligible_roles(ApprovalKind.EMERGENCY, policy),
    )
    deployers = facts.deployer_ids
    decided = set()
    for approval in facts.active(ApprovalKind.EMERGENCY, environment):
        decided.add(approval.person_id)
        refusal = separation_refusal(
            person_id=approval.person_id,
            kind=ApprovalKind.EMERGENCY,
            release=facts.release,
            deployer_ids=deployers,
        )
        if refusal is None and approval.decision == Decision.APPROVE:
            req.counted.append(approval)
        elif refusal is not None:
            req.not_counted.append((approval, _short(refusal.message)))
    for user_id, (user, roles) in facts.members.items():
        if user_id in decided or not (roles & set(req.roles)):
            continue
        if (
            separation_refusal(
                person_id=user_id,
                kind=ApprovalKind.EMERGENCY,
                release=facts.release,
                deployer_ids=deployers,
            )
            is None
        ):
            req.eligible.append(user)
    return req


def gate_states(facts: ReleaseFacts) -> dict[tuple[str, int], bool]:
    """(gate code, environment id) → satisfied, for every approval requirement of every environment."""
    states = {}
    for environment in facts.environments:
        for req in requirements_for(facts, environment):
            states[(req.gate_code, environment.pk)] = req.satisfied
    return states


# --- Go/no-go ---------------------------------------------------------------------


@dataclass(frozen=True)
class GoNoGoState:
    required: bool
    satisfied: bool
    reason: str
    meeting: GoNoGoMeeting | None


def go_no_go_state(facts: ReleaseFacts, environment: Environment) -> GoNoGoState:
    policy = facts.policy(environment)
    meetings = sorted(
        (m for m in facts.meetings if m.environment_id == environment.pk),
        key=lambda m: (m.decided_at or m.created_at, m.pk),
        reverse=True,
    )
    decided = [m for m in meetings if m.status == MeetingStatus.DECIDED]
    scheduled = [m for m in meetings if m.status == MeetingStatus.SCHEDULED]
    required = policy.requires_go_no_go
    latest = decided[0] if decided else None
    release = facts.release
    if latest is None:
        if scheduled:
            when = format_when(scheduled[0].scheduled_for)
            return GoNoGoState(
                required,
                False,
                f"Go/no-go not decided; the meeting is scheduled for {when}.",
                scheduled[0],
            )
        return GoNoGoState(required, False, "Go/no-go not decided.", None)
    who = person_name(latest.decided_by)
    if latest.decision == MeetingDecision.NO_GO:
        return GoNoGoState(
            required,
            False,
            _sentence(f"Go/no-go decided no-go ({who}): {latest.decision_reason}"),
            latest,
        )
    if not latest.holds_for(release):
        given_for = latest.decided_version + (
            f" / {latest.decided_artifact_version}" if latest.decided_artifact_version else ""
        )
        return GoNoGoState(
            required,
            False,
            f"The go was given for {given_for}, not for the release as it is now; decide again.",
            latest,
        )
    when = format_when(latest.decided_at)
    return GoNoGoState(
        required, True, f"Go decided by {who} on {when} for {latest.decided_version}.", latest
    )


# --- The emergency path -----------------------------------------------------------


def emergency_waiver(facts: ReleaseFacts, environment: Environment) -> str | None:
    """Why a hotfix may enter ``environment`` without passing through staging, or None.

    Only a hotfix, only into production, only in place of the staging
    environment right before it (seed 004: "skip staging, deploy the hotfix
    directly to production"), and only with an active emergency approval
    that keeps separation of duties.
    """
    release = facts.release
    if not environment.is_production or release.type != "hotfix":
        return None
    skipped = facts.previous(environment)
    if skipped is None or skipped.tier != "staging" or facts.succeeded_in(skipped):
        return None
    req = _emergency_requirement(facts, environment)
    if not req.counted:
        return None
    approval = req.counted[0]
    return f"emergency approval by {person_name(approval.person)}: {approval.comment}"
