"""Go/no-go meetings: scheduling, who may steer them, and their outcome.

A meeting is scheduled with its seats, agenda, criteria and triggers, then
moved, cancelled or decided by a release manager. Its minutes and votes, kept
by the attendees, are in ``approvals.services.meeting_minutes``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from approvals.choices import (
    AGENDA,
    MANUAL_GO_CRITERIA,
    MEETING_TRANSITIONS,
    NO_GO_TRIGGERS,
    SEAT_ROLES,
    AutoCriterion,
    CriterionKind,
    MeetingDecision,
    MeetingStatus,
    Seat,
)
from approvals.exceptions import (
    CommentRequired,
    NoGoTriggerRaised,
    NotAnAttendee,
    PeopleOnly,
)
from approvals.models import (
    AgendaItem,
    GoNoGoMeeting,
    MeetingAttendee,
    MeetingCriterion,
    MeetingVote,
)
from approvals.permissions import (
    can_run_meeting,
    is_insider,
)
from approvals.selectors import meeting_auto_criteria
from approvals.services._common import (
    clean_text,
    ensure_open,
    lock_release,
)
from audit.services import audit_record
from core.events import publish
from core.exceptions import NotFound, TransitionNotAllowed, ValidationFailed
from core.notifications import notification_send
from core.transitions import transition_check
from core.when import format_when
from projects.choices import Role
from projects.models import Environment, Membership
from projects.permissions import (
    can_view_project,
    is_person,
    role_refusal,
    roles_for,
)
from projects.principals import Caller
from releases.models import Release

# A meeting's seats: (person, seat), the seat a value of ``Seat``.
Seats = list[tuple[User, str]]


def meeting_default_attendees(release: Release, *, security_sensitive: bool = False) -> Seats:
    """(person, seat) for everyone whose role fills a seat, the release manager first."""
    found: dict[int, tuple[User, str]] = {
        release.release_manager_id: (release.release_manager, Seat.RELEASE_MANAGER)
    }
    memberships = (
        Membership.objects.filter(project_id=release.project_id)
        .select_related("user")
        .order_by("user__username")
    )
    by_role: dict[str, list[User]] = {}
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


def meeting_schedule_authorize(*, release: Release, actor: Caller) -> None:
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
    actor: Caller,
    attendees: Seats | None = None,
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
    release = lock_release(release)
    ensure_open(release)
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
    chosen: dict[int, tuple[User, str]] = {
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
        created_by=cast(User, actor),  # only a person may run a meeting
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


def _meeting_time_check(scheduled_for: object) -> None:
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


def lock_meeting(meeting: GoNoGoMeeting) -> tuple[GoNoGoMeeting, Release]:
    release = lock_release(meeting.release)
    meeting = GoNoGoMeeting.objects.select_for_update().get(pk=meeting.pk)
    meeting.release = release
    return meeting, release


def ensure_meeting_open(meeting: GoNoGoMeeting) -> None:
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


def is_attendee(meeting: GoNoGoMeeting, user: Caller) -> bool:
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


def meeting_authorize(*, meeting: GoNoGoMeeting, actor: Caller, action: str) -> None:
    """Raise unless ``actor`` may do ``action`` (a key of _MEETING_RIGHTS) to ``meeting``.

    Release managers steer a meeting; its attendees also keep the minutes. The
    services check this first, and views call it before reading the form.
    """
    if not can_view_project(actor, meeting.release.project_id):
        raise NotFound("No such meeting.")
    steer_only, doing = _MEETING_RIGHTS[action]
    if not (
        can_run_meeting(actor, meeting.release) or (not steer_only and is_attendee(meeting, actor))
    ):
        if steer_only:
            raise role_refusal(Role.RELEASE_MANAGER, to=doing)
        raise NotAnAttendee(_MINUTES_REFUSAL)


def checked_text(kind: str, checked: bool | None) -> str:
    if checked is None:
        return "open"
    if kind == CriterionKind.NO_GO_TRIGGER:
        return "raised" if checked else "clear"
    return "met" if checked else "not_met"


@transaction.atomic
def meeting_decide(
    *, meeting: GoNoGoMeeting, decision: str, reason: str, actor: Caller
) -> GoNoGoMeeting:
    """Record the release manager's go or no-go, with its reason, for this release version.

    Freezes the automatic criteria as they stand. A go is refused while a
    no-go trigger is raised. Callers: the release's manager or a release
    manager, people only. Audit: ``meeting.decided``. Notifies the attendees.
    """
    if not is_insider(actor, meeting.release.project_id):
        raise NotFound("No such meeting.")
    if not is_person(actor):
        raise PeopleOnly("Only a person decides go or no-go; API tokens never can.")
    meeting_authorize(meeting=meeting, actor=actor, action="decide")
    if decision not in MeetingDecision.values:
        raise ValidationFailed("Decide go or no_go.")
    reason = clean_text(reason, "The reason")
    if not reason:
        raise CommentRequired("Give the reason for the decision; it goes into the minutes.")
    meeting, release = lock_meeting(meeting)
    ensure_open(release)
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
    meeting.decided_by, meeting.decided_at = cast(User, actor), now  # a person: checked above
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
            "criteria": {c.title: checked_text(c.kind, c.checked) for c in criteria},
        },
    )
    attendees = [
        a.person for a in MeetingAttendee.objects.filter(meeting=meeting).select_related("person")
    ]
    publish(
        "approvals.go_no_go_decided",
        recipients=[p for p in attendees if p.pk != actor.pk],
        subject=f"Go/no-go for {release.version} → {meeting.environment}: "
        f"{MeetingDecision(decision).label.upper()}",
        body=reason,
        url=meeting.get_absolute_url(),
        project=release.project,
        release=release,
        data={"decision": str(decision), "environment": meeting.environment.name},
    )
    return meeting


@transaction.atomic
def meeting_cancel(*, meeting: GoNoGoMeeting, actor: Caller, reason: str) -> GoNoGoMeeting:
    """Cancel a scheduled meeting. Callers: release managers. Audit: ``meeting.cancelled``."""
    meeting_authorize(meeting=meeting, actor=actor, action="cancel")
    reason = clean_text(reason, "The reason")
    if not reason:
        raise ValidationFailed("Say why the meeting is cancelled.")
    meeting, release = lock_meeting(meeting)
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
    *, meeting: GoNoGoMeeting, scheduled_for: datetime, actor: Caller, reason: str = ""
) -> GoNoGoMeeting:
    """Move a scheduled meeting to another time and tell its attendees.

    Callers: release managers. Audit: ``meeting.rescheduled`` with the old and
    new time. Notifies every attendee but the actor.
    """
    meeting_authorize(meeting=meeting, actor=actor, action="reschedule")
    _meeting_time_check(scheduled_for)
    reason = clean_text(reason, "The reason")
    meeting, release = lock_meeting(meeting)
    ensure_meeting_open(meeting)
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
