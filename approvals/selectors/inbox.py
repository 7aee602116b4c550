"""*Waiting for me*: every decision, vote and review waiting for a person, and their count."""

from __future__ import annotations

from collections import defaultdict

from django.contrib.auth.models import User
from django.core.cache import cache
from django.utils import timezone

from approvals.choices import (
    ApprovalKind,
    ApprovalState,
    MeetingStatus,
)
from approvals.facts import ReleaseFacts
from approvals.links import release_url
from approvals.models import (
    Approval,
    ApprovalPolicy,
    ApprovalRequest,
    EmergencyReview,
    GoNoGoMeeting,
)
from approvals.permissions import can_complete_review, can_run_meeting
from approvals.requirements import requirement_for, requirements_for
from audit.models import AuditEvent
from core.when import format_when
from projects.models import Environment, Membership
from projects.principals import Caller
from projects.selectors import project_list
from releases.choices import RELEASE_CLOSED_STATES, ReleaseType
from releases.models import Deployment, Release
from releases.registry import Waiting, waiting_for, waiting_source

# One shape for every app's "waiting for me" rows (releases.registry.waiting_for).
InboxItem = Waiting


OPEN_LIMIT = 200


@waiting_source
def inbox(*, user: Caller) -> list[InboxItem]:
    """Everything waiting for ``user`` across their projects, most urgent first.

    Loads every open release's approval facts in bulk: a fixed number of
    queries however many projects and releases there are (up to ``OPEN_LIMIT``).
    """
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
                if req.kind == ApprovalKind.QA_SIGNOFF and (
                    req.subject is None or not facts.succeeded_in(req.subject)
                ):
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
            emergency_asks = [r for r in facts.requests if r.kind == ApprovalKind.EMERGENCY]
            if emergency_asks and not req.counted and user in req.eligible:
                items.append(
                    InboxItem(
                        "emergency",
                        release,
                        "Emergency approval requested",
                        emergency_asks[-1].note or "A hotfix asks to skip staging.",
                        url,
                        since=emergency_asks[-1].created_at,
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


def waiting_count(user: Caller) -> int:
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
    environments: defaultdict[int, list[Environment]] = defaultdict(list)
    # The promotion order: retired environments left it (as in ReleaseFacts.environments).
    for env in Environment.objects.filter(
        project_id__in=project_ids, retired_at__isnull=True
    ).order_by("order"):
        environments[env.project_id].append(env)
    policies: defaultdict[int, dict[int, ApprovalPolicy]] = defaultdict(dict)
    for policy in ApprovalPolicy.objects.filter(
        environment__project_id__in=project_ids
    ).select_related("environment"):
        policies[policy.environment.project_id][policy.environment_id] = policy
    members: defaultdict[int, dict[int, tuple[User, frozenset[str]]]] = defaultdict(dict)
    for m in (
        Membership.objects.filter(project_id__in=project_ids)
        .select_related("user")
        .order_by("user__username")
    ):
        user, roles = members[m.project_id].get(m.user_id, (m.user, frozenset()))
        members[m.project_id][m.user_id] = (user, roles | {m.role})
    approvals: defaultdict[int, list[Approval]] = defaultdict(list)
    for a in Approval.objects.filter(release_id__in=ids, state=ApprovalState.ACTIVE).select_related(
        "person", "environment"
    ):
        approvals[a.release_id].append(a)
    deployments: defaultdict[int, list[Deployment]] = defaultdict(list)
    for d in Deployment.objects.filter(release_id__in=ids).order_by("created_at", "id"):
        deployments[d.release_id].append(d)
    meetings: defaultdict[int, list[GoNoGoMeeting]] = defaultdict(list)
    for meeting in GoNoGoMeeting.objects.filter(release_id__in=ids).select_related("decided_by"):
        meetings[meeting.release_id].append(meeting)
    requests: defaultdict[int, list[ApprovalRequest]] = defaultdict(list)
    for r in ApprovalRequest.objects.filter(release_id__in=ids).order_by("created_at", "id"):
        requests[r.release_id].append(r)
    found = {}
    for release in releases:
        facts = ReleaseFacts(
            release,
            environments=environments[release.project_id],
            deployments=deployments[release.pk],
            with_requests=True,
        )
        facts.__dict__.update(
            {
                "saved_policies": policies[release.project_id],
                "members": members[release.project_id],
                "approvals": approvals[release.pk],
                "meetings": meetings[release.pk],
                "requests": requests[release.pk],
            }
        )
        found[release.pk] = facts
    return found
