"""Reads of go/no-go meetings: the meeting page and the criteria Shipcheck fills in itself."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch

from approvals.choices import (
    AutoCriterion,
    CriterionKind,
)
from approvals.facts import ReleaseFacts
from approvals.models import (
    GoNoGoMeeting,
    MeetingAttendee,
    MeetingCriterion,
    MeetingVote,
)
from approvals.permissions import can_run_meeting
from approvals.requirements import GoNoGoState, go_no_go_state, requirements_for
from core.exceptions import NotFound
from projects.principals import Caller
from projects.selectors import project_list
from releases.gates import gate_evaluate
from releases.models import Release, TestRun


def meeting_get(*, user: Caller, pk: int | str) -> GoNoGoMeeting:
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


def meeting_view(*, meeting: GoNoGoMeeting, user: Caller) -> MeetingView:
    criteria = list(meeting.criteria.all())
    auto = meeting_auto_criteria(meeting) if meeting.is_open else {}
    go_criteria: list[tuple[MeetingCriterion, bool | None, str]] = []
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
    facts = ReleaseFacts(meeting.release)
    user_pk = getattr(user, "pk", None)
    return MeetingView(
        meeting=meeting,
        attendees=attendees,
        agenda=list(meeting.agenda.all()),
        go_criteria=go_criteria,
        triggers=[c for c in criteria if c.kind == CriterionKind.NO_GO_TRIGGER],
        votes=votes,
        tally=tally,
        my_vote=votes.get(user_pk) if user_pk is not None else None,
        is_attendee=any(a.person_id == user_pk for a in attendees),
        can_run=can_run_meeting(user, meeting.release),
        gate=go_no_go_state(facts, meeting.environment),
    )


def meeting_for_vote(*, pk: int | str) -> GoNoGoMeeting:
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
