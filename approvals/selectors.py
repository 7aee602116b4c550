"""Reads of the approvals app, narrowed to what the reader may see."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from approvals.choices import (
    ApprovalKind,
    ApprovalState,
    AutoCriterion,
    CriterionKind,
    MeetingStatus,
)
from approvals.models import (
    Approval,
    ApprovalPolicy,
    ApprovalRequest,
    EmergencyReview,
    GoNoGoMeeting,
    MeetingAttendee,
    MeetingCriterion,
    MeetingVote,
)
from approvals.permissions import can_complete_review, can_run_meeting
from approvals.requirements import (
    GoNoGoState,
    ReleaseFacts,
    Requirement,
    emergency_waiver,
    go_no_go_state,
    requirement_for,
    requirements_for,
)
from audit.models import AuditEvent
from core.exceptions import NotFound
from core.when import format_when
from projects.models import Environment, Membership, Project
from projects.selectors import project_list
from releases.choices import RELEASE_CLOSED_STATES, ReleaseType
from releases.models import Deployment, Release, TestRun
from releases.registry import Waiting, waiting_for, waiting_source

# --- The approval matrix ------------------------------------------------------------


@dataclass
class EnvironmentColumn:
    environment: Environment
    policy: ApprovalPolicy
    requirements: list[Requirement]
    go_no_go: GoNoGoState | None
    waiver: str | None = None

    @property
    def satisfied(self) -> bool:
        return all(r.satisfied for r in self.requirements) and (
            self.go_no_go is None or self.go_no_go.satisfied
        )


@dataclass
class ApprovalMatrix:
    release: Release
    facts: ReleaseFacts
    columns: list[EnvironmentColumn]
    emergency: Requirement | None = None
    review: EmergencyReview | None = None
    history: list[Approval] = field(default_factory=list)

    @property
    def meetings(self) -> list[GoNoGoMeeting]:
        return sorted(self.facts.meetings, key=lambda m: (m.scheduled_for, m.pk), reverse=True)


def approval_matrix(
    *,
    release: Release,
    deployments: list[Deployment] | None = None,
    environments: list[Environment] | None = None,
) -> ApprovalMatrix:
    """What every environment asks of ``release``, what is given, who may still decide.

    A fixed number of queries whatever the number of environments, people or approvals.
    """
    facts = ReleaseFacts(
        release, deployments=deployments, environments=environments, with_requests=True
    )
    columns = []
    for environment in facts.environments:
        policy = facts.policy(environment)
        if not policy.asks_anything:
            continue
        state = go_no_go_state(facts, environment) if policy.requires_go_no_go else None
        columns.append(
            EnvironmentColumn(
                environment,
                policy,
                requirements_for(facts, environment),
                state,
                emergency_waiver(facts, environment),
            )
        )
    emergency = None
    review = None
    if release.type == ReleaseType.HOTFIX or release.is_emergency:
        production = next((e for e in facts.environments if e.is_production), None)
        if production is not None:
            emergency = requirement_for(facts, kind=ApprovalKind.EMERGENCY, subject=production)
        review = (
            EmergencyReview.objects.filter(release=release).select_related("completed_by").first()
        )
    history = sorted(facts.approvals, key=lambda a: (a.created_at, a.pk), reverse=True)
    return ApprovalMatrix(release, facts, columns, emergency, review, history)


def approval_list(*, user, filters: dict | None = None) -> QuerySet[Approval]:
    """Approval records in projects ``user`` may see, newest first."""
    qs = (
        Approval.objects.filter(release__project__in=project_list(user=user))
        .select_related("release", "environment", "person")
        .order_by("-created_at", "-id")
    )
    filters = filters or {}
    if filters.get("release"):
        qs = qs.filter(release_id=filters["release"])
    if filters.get("kind"):
        qs = qs.filter(kind=filters["kind"])
    if filters.get("state"):
        qs = qs.filter(state=filters["state"])
    return qs


def approval_get(*, user, pk) -> Approval:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound("No such approval.") from None
    approval = approval_list(user=user).select_related("release__project").filter(pk=pk).first()
    if approval is None:
        raise NotFound("No such approval.")
    return approval


def emergency_review_get(*, user, pk) -> EmergencyReview:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound("No such review.") from None
    review = (
        EmergencyReview.objects.filter(pk=pk, release__project__in=project_list(user=user))
        .select_related("release", "release__project")
        .first()
    )
    if review is None:
        raise NotFound("No such review.")
    return review


# --- Policies -------------------------------------------------------------------------


def policy_rows(*, project: Project) -> list[tuple[Environment, ApprovalPolicy]]:
    """Each environment of ``project`` in promotion order with its policy (saved or default)."""
    environments = list(Environment.objects.filter(project=project).order_by("order"))
    saved = {
        p.environment_id: p
        for p in ApprovalPolicy.objects.filter(environment__project=project).select_related(
            "updated_by"
        )
    }
    return [(e, saved.get(e.pk) or ApprovalPolicy.default_for(e)) for e in environments]


def project_for_admin(*, user, slug: str) -> Project:
    project = project_list(user=user).filter(slug=str(slug)[:60]).first()
    if project is None:
        raise NotFound("No such project.")
    return project


# --- Go/no-go meetings ----------------------------------------------------------------


def meeting_get(*, user, pk) -> GoNoGoMeeting:
    """A meeting visible to ``user`` with everything its page shows already loaded."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound("No such meeting.") from None
    meeting = (
        GoNoGoMeeting.objects.filter(pk=pk, release__project__in=project_list(user=user))
        .select_related(
            "release", "release__project", "release__release_manager", "environment", "decided_by"
        )
        .prefetch_related(
            Prefetch("attendees", queryset=MeetingAttendee.objects.select_related("person")),
            Prefetch("agenda"),
            Prefetch(
                "criteria", queryset=MeetingCriterion.objects.order_by("kind", "position", "id")
            ),
            Prefetch("votes", queryset=MeetingVote.objects.select_related("person")),
        )
        .first()
    )
    if meeting is None:
        raise NotFound("No such meeting.")
    return meeting


def _tests_criterion(release: Release) -> tuple[bool, str]:
    runs = list(TestRun.objects.filter(release=release).order_by("-created_at", "-id")[:200])
    if not runs:
        return False, "No test results are recorded for this release."
    latest: dict[str, TestRun] = {}
    for run in runs:
        latest.setdefault(run.name, run)
    failing = [r for r in latest.values() if not r.ok]
    total = sum(r.total for r in latest.values())
    if failing:
        return False, "Failing: " + "; ".join(
            f"{r.name} ({r.failures + r.errors} failed)" for r in failing
        ) + "."
    return (
        True,
        f"{len(latest)} suite{'s' if len(latest) != 1 else ''}, {total} tests, all passing.",
    )


# Gate codes that speak for the checklist and for monitoring readiness, owned by
# the checklists and monitoring apps; read through the one gate answer.
CHECKLIST_GATE_CODES = ("checklist",)
MONITORING_GATE_PREFIXES = ("monitoring", "health", "canary")


def meeting_auto_criteria(meeting: GoNoGoMeeting) -> dict[str, tuple[bool | None, str]]:
    """auto_key → (met, explanation) from the release's state as it is now.

    ``None`` means Shipcheck does not know (no such gate registered): a
    person judges it in the meeting.
    """
    from releases.gates import gate_evaluate

    release, environment = meeting.release, meeting.environment
    report = gate_evaluate(release=release, environment=environment)
    gates = {g.code: g for g in report.gates}
    result: dict[str, tuple[bool | None, str]] = {}
    checklist = [gates[c] for c in CHECKLIST_GATE_CODES if c in gates]
    if checklist:
        result[AutoCriterion.CHECKLIST] = (
            all(g.is_open for g in checklist),
            " ".join(g.reason for g in checklist),
        )
    else:
        result[AutoCriterion.CHECKLIST] = (
            None,
            "No checklist gate answers for this release; judge it here.",
        )
    monitoring = [g for code, g in gates.items() if code.startswith(MONITORING_GATE_PREFIXES)]
    if monitoring:
        result[AutoCriterion.MONITORING] = (
            all(g.is_open for g in monitoring),
            " ".join(g.reason for g in monitoring),
        )
    else:
        result[AutoCriterion.MONITORING] = (
            None,
            "Shipcheck watches nothing for this environment yet; judge it here.",
        )
    result[AutoCriterion.TESTS] = _tests_criterion(release)
    plan = (release.rollback_plan or "").strip()
    result[AutoCriterion.ROLLBACK_PLAN] = (
        bool(plan),
        "A rollback plan is written." if plan else "The release has no rollback plan.",
    )
    facts = ReleaseFacts(release)
    reqs = requirements_for(facts, environment)
    missing = [r.reason() for r in reqs if not r.satisfied]
    if not reqs:
        result[AutoCriterion.APPROVALS] = (True, f"{environment} asks for no approvals.")
    else:
        result[AutoCriterion.APPROVALS] = (
            not missing,
            " ".join(missing) if missing else " ".join(r.reason() for r in reqs),
        )
    return result


@dataclass
class MeetingView:
    """What the meeting page shows, computed once per request."""

    meeting: GoNoGoMeeting
    attendees: list[MeetingAttendee]
    agenda: list
    go_criteria: list[tuple[MeetingCriterion, bool | None, str]]
    triggers: list[MeetingCriterion]
    votes: dict[int, MeetingVote]
    tally: dict[str, int]
    my_vote: MeetingVote | None
    is_attendee: bool
    can_run: bool
    gate: GoNoGoState | None = None


def meeting_view(*, meeting: GoNoGoMeeting, user) -> MeetingView:
    criteria = list(meeting.criteria.all())
    auto = meeting_auto_criteria(meeting) if meeting.is_open else {}
    go_criteria = []
    for c in criteria:
        if c.kind != CriterionKind.GO:
            continue
        if c.is_auto and c.auto_key in auto:
            checked, note = auto[c.auto_key]
        else:
            checked, note = c.checked, c.note
        go_criteria.append((c, checked, note))
    votes = {v.person_id: v for v in meeting.votes.all()}
    tally = {"go": 0, "no_go": 0, "abstain": 0}
    for v in votes.values():
        tally[v.vote] += 1
    attendees = list(meeting.attendees.all())
    facts = ReleaseFacts(
        meeting.release,
    )
    return MeetingView(
        meeting=meeting,
        attendees=attendees,
        agenda=list(meeting.agenda.all()),
        go_criteria=go_criteria,
        triggers=[c for c in criteria if c.kind == CriterionKind.NO_GO_TRIGGER],
        votes=votes,
        tally=tally,
        my_vote=votes.get(getattr(user, "pk", None)),
        is_attendee=any(a.person_id == getattr(user, "pk", None) for a in attendees),
        can_run=can_run_meeting(user, meeting.release),
        gate=go_no_go_state(facts, meeting.environment),
    )


# --- "Waiting for me" -----------------------------------------------------------------


# One shape for every app's "waiting for me" rows (releases.registry.waiting_for).
InboxItem = Waiting


OPEN_LIMIT = 200


@waiting_source
def inbox(*, user) -> list[InboxItem]:
    """Everything waiting for ``user`` across their projects, most urgent first.

    Loads every open release's approval facts in bulk: a fixed number of
    queries however many projects and releases there are (up to ``OPEN_LIMIT``).
    """
    from approvals.services import release_url

    if not getattr(user, "is_authenticated", False):
        return []
    releases = list(
        Release.objects.filter(project__in=project_list(user=user))
        .exclude(status__in=RELEASE_CLOSED_STATES)
        .select_related("project", "release_manager")
        .order_by("-created_at", "-id")[:OPEN_LIMIT]
    )
    if not releases:
        return []
    ids = [r.pk for r in releases]
    project_ids = {r.project_id for r in releases}
    grouped = _bulk_facts(releases, ids, project_ids)
    items: list[InboxItem] = []
    for release in releases:
        facts = grouped[release.pk]
        url = release_url(release)
        seen_scope = False
        for environment in facts.environments:
            for req in requirements_for(facts, environment):
                if req.satisfied or user not in req.eligible:
                    continue
                if req.kind == ApprovalKind.SCOPE:
                    if seen_scope:
                        continue
                    seen_scope = True
                if req.kind == ApprovalKind.QA_SIGNOFF and not facts.succeeded_in(req.subject):
                    continue
                # A deployment approval is asked for once the release reached the environment
                # before: nobody is asked to approve production for a release still in dev.
                before = (
                    facts.previous(environment) if req.kind == ApprovalKind.DEPLOYMENT else None
                )
                if before is not None and not facts.succeeded_in(before):
                    continue
                asked = req.latest_request
                items.append(
                    InboxItem(
                        "decide",
                        release,
                        req.title,
                        req.reason(),
                        url,
                        since=asked.created_at if asked else release.created_at,
                    )
                )
        production = next((e for e in facts.environments if e.is_production), None)
        if release.type == ReleaseType.HOTFIX and production is not None:
            req = requirement_for(facts, kind=ApprovalKind.EMERGENCY, subject=production)
            asked = [r for r in facts.requests if r.kind == ApprovalKind.EMERGENCY]
            if asked and not req.counted and user in req.eligible:
                items.append(
                    InboxItem(
                        "emergency",
                        release,
                        "Emergency approval requested",
                        asked[-1].note or "A hotfix asks to skip staging.",
                        url,
                        since=asked[-1].created_at,
                        urgent=True,
                    )
                )
    meetings = (
        GoNoGoMeeting.objects.filter(release_id__in=ids, status=MeetingStatus.SCHEDULED)
        .select_related("release", "release__project", "environment")
        .prefetch_related("attendees", "votes")
    )
    for meeting in meetings:
        attendee_ids = {a.person_id for a in meeting.attendees.all()}
        voted = {v.person_id for v in meeting.votes.all()}
        if user.pk in attendee_ids and user.pk not in voted:
            items.append(
                InboxItem(
                    "vote",
                    meeting.release,
                    f"Vote in the go/no-go for {meeting.environment}",
                    f"Scheduled for {format_when(meeting.scheduled_for)}.",
                    meeting.get_absolute_url(),
                    since=meeting.created_at,
                )
            )
        if can_run_meeting(user, meeting.release) and meeting.release.release_manager_id == user.pk:
            items.append(
                InboxItem(
                    "run_meeting",
                    meeting.release,
                    f"Decide the go/no-go for {meeting.environment}",
                    f"{len(voted)} of {len(attendee_ids)} attendees have voted.",
                    meeting.get_absolute_url(),
                    since=meeting.scheduled_for,
                )
            )
    reviews = EmergencyReview.objects.filter(
        release__project__in=project_list(user=user), completed_at__isnull=True
    ).select_related("release", "release__project")
    now = timezone.now()
    for review in reviews:
        if not can_complete_review(user, review.release):
            continue
        overdue = review.is_overdue(now)
        items.append(
            InboxItem(
                "review",
                review.release,
                "Post-implementation review " + ("OVERDUE" if overdue else "due"),
                f"Due {format_when(review.due_at)}.",
                release_url(review.release),
                since=review.due_at,
                urgent=overdue,
            )
        )
    items.sort(key=lambda i: (not i.urgent, i.since or now))
    return items


# How long a cached count may live; any audited change starts a new key before that.
WAITING_COUNT_TTL = 300


def waiting_count(user) -> int:
    """How many rows *Waiting for me* lists for ``user`` (the number in the navigation).

    Every change of state writes an audit event, so the newest event's hash names the state
    of everything: the count is cached under it and costs one query until something changes.
    """
    if not getattr(user, "is_authenticated", False):
        return 0
    head = AuditEvent.objects.order_by("-seq").values_list("hash", flat=True).first() or "-"
    key = f"waiting-count:{user.pk}:{head}"
    count = cache.get(key)
    if count is None:
        count = len(waiting_for(user=user))
        cache.set(key, count, WAITING_COUNT_TTL)
    return count


def _bulk_facts(
    releases: list[Release], ids: list[int], project_ids: set[int]
) -> dict[int, ReleaseFacts]:
    environments = defaultdict(list)
    # The promotion order: retired environments left it (as in ReleaseFacts.environments).
    for env in Environment.objects.filter(
        project_id__in=project_ids, retired_at__isnull=True
    ).order_by("order"):
        environments[env.project_id].append(env)
    policies = defaultdict(dict)
    for policy in ApprovalPolicy.objects.filter(
        environment__project_id__in=project_ids
    ).select_related("environment"):
        policies[policy.environment.project_id][policy.environment_id] = policy
    members: dict[int, dict[int, tuple]] = defaultdict(dict)
    for m in (
        Membership.objects.filter(project_id__in=project_ids)
        .select_related("user")
        .order_by("user__username")
    ):
        user, roles = members[m.project_id].get(m.user_id, (m.user, frozenset()))
        members[m.project_id][m.user_id] = (user, roles | {m.role})
    per_release = {
        name: defaultdict(list) for name in ("approvals", "deployments", "meetings", "requests")
    }
    for a in Approval.objects.filter(release_id__in=ids, state=ApprovalState.ACTIVE).select_related(
        "person", "environment"
    ):
        per_release["approvals"][a.release_id].append(a)
    for d in Deployment.objects.filter(release_id__in=ids).order_by("created_at", "id"):
        per_release["deployments"][d.release_id].append(d)
    for m in GoNoGoMeeting.objects.filter(release_id__in=ids).select_related("decided_by"):
        per_release["meetings"][m.release_id].append(m)
    for r in ApprovalRequest.objects.filter(release_id__in=ids).order_by("created_at", "id"):
        per_release["requests"][r.release_id].append(r)
    found = {}
    for release in releases:
        facts = ReleaseFacts(
            release,
            environments=environments[release.project_id],
            deployments=per_release["deployments"][release.pk],
            with_requests=True,
        )
        facts.__dict__.update(
            {
                "saved_policies": policies[release.project_id],
                "members": members[release.project_id],
                "approvals": per_release["approvals"][release.pk],
                "meetings": per_release["meetings"][release.pk],
                "requests": per_release["requests"][release.pk],
            }
        )
        found[release.pk] = facts
    return found


# --- Targets of decisions -------------------------------------------------------------------


def release_for_decision(*, pk) -> Release:
    """Any release by id, for the decision services, which answer strangers with 404 themselves.

    The services must see an outsider's attempt to write it to the audit trail
    (``approval.denied``); callers show nothing of the release before the service ran.
    """
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound("No such release.") from None
    release = Release.objects.select_related("project").filter(pk=pk).first()
    if release is None:
        raise NotFound("No such release.")
    return release


def meeting_for_vote(*, pk) -> GoNoGoMeeting:
    """Any meeting by id, for ``meeting_vote``, which answers strangers with 404 itself."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound("No such meeting.") from None
    meeting = (
        GoNoGoMeeting.objects.select_related("release", "release__project").filter(pk=pk).first()
    )
    if meeting is None:
        raise NotFound("No such meeting.")
    return meeting
