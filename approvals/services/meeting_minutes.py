"""What the attendees of a go/no-go meeting write: who attends, notes, criteria and votes.

Everything here changes a scheduled meeting only. The release manager's steering
(schedule, move, cancel, decide) and the rights check are in ``approvals.services.meetings``.
"""

from __future__ import annotations

from typing import cast

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from approvals.choices import (
    CriterionKind,
    Seat,
    Vote,
)
from approvals.exceptions import (
    CommentRequired,
    NotAnAttendee,
    OutsiderDenied,
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
    is_insider,
)
from approvals.services._common import (
    audited_denial,
    clean_text,
    ensure_open,
)
from approvals.services.meetings import (
    checked_text,
    ensure_meeting_open,
    is_attendee,
    lock_meeting,
    meeting_authorize,
)
from audit.services import audit_record
from core.exceptions import ValidationFailed
from core.notifications import notification_send
from projects.permissions import (
    is_person,
    roles_for,
)
from projects.principals import Caller


@transaction.atomic
def meeting_attendee_add(
    *, meeting: GoNoGoMeeting, person: User | None, seat: str, actor: Caller
) -> MeetingAttendee:
    """Invite one more person. Callers: release managers. Audit: ``meeting.attendee_added``."""
    meeting_authorize(meeting=meeting, actor=actor, action="attendee_add")
    if seat not in Seat.values:
        raise ValidationFailed(f"Unknown seat '{str(seat)[:40]}'.")
    if person is None or not roles_for(person, meeting.release.project_id):
        raise ValidationFailed("Invite a member of this project.")
    meeting, release = lock_meeting(meeting)
    ensure_meeting_open(meeting)
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
def meeting_notes_update(*, item: AgendaItem, notes: str, actor: Caller) -> AgendaItem:
    """Write the notes of one agenda item. Callers: attendees, release managers. Audit: ``meeting.notes_updated``."""
    meeting = item.meeting
    meeting_authorize(meeting=meeting, actor=actor, action="notes")
    notes = clean_text(notes, "The notes", 20000)
    meeting, release = lock_meeting(meeting)
    ensure_meeting_open(meeting)
    item = AgendaItem.objects.select_for_update().get(pk=item.pk)
    if item.notes == notes:
        return item
    # meeting_authorize lets only people through (attendees and release managers).
    item.notes, item.updated_by, item.updated_at = notes, cast(User, actor), timezone.now()
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
    *, criterion: MeetingCriterion, checked: bool | None, actor: Caller, note: str = ""
) -> MeetingCriterion:
    """Judge a manual go criterion (met?) or a no-go trigger (raised?).

    Criteria Shipcheck fills in itself cannot be set by hand. Callers:
    attendees, release managers. Audit: ``meeting.criterion_set``.
    """
    meeting = criterion.meeting
    meeting_authorize(meeting=meeting, actor=actor, action="criterion")
    if criterion.is_auto:
        raise ValidationFailed(f"'{criterion.title}' is filled in from the release itself.")
    note = clean_text(note, "The note", 2000)
    meeting, release = lock_meeting(meeting)
    ensure_meeting_open(meeting)
    criterion = MeetingCriterion.objects.select_for_update().get(pk=criterion.pk)
    old = criterion.checked
    criterion.checked, criterion.note = checked, note
    criterion.updated_by = cast(User, actor)  # a person: meeting_authorize checked
    criterion.save(update_fields=["checked", "note", "updated_by"])
    audit_record(
        actor=actor,
        action="meeting.criterion_set",
        obj=meeting,
        project=release.project_id,
        release=release,
        from_state=checked_text(criterion.kind, old),
        to_state=checked_text(criterion.kind, checked),
        reason=note,
        data={"criterion": criterion.title, "kind": criterion.kind},
    )
    return criterion


@transaction.atomic
def meeting_criterion_add(
    *, meeting: GoNoGoMeeting, kind: str, title: str, actor: Caller
) -> MeetingCriterion:
    """Add a manual go criterion or no-go trigger. Callers: attendees, release managers. Audit: ``meeting.criterion_added``."""
    meeting_authorize(meeting=meeting, actor=actor, action="criterion_add")
    if kind not in CriterionKind.values:
        raise ValidationFailed("Choose a go criterion or a no-go trigger.")
    title = clean_text(title, "The title", 200)
    if not title:
        raise ValidationFailed("Name the criterion.")
    meeting, release = lock_meeting(meeting)
    ensure_meeting_open(meeting)
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


@audited_denial("vote")
def meeting_vote(
    *, meeting: GoNoGoMeeting, vote: str, actor: Caller, comment: str = ""
) -> MeetingVote:
    """Cast or change one's go / no-go / abstain vote, with a comment (required for no-go).

    Callers: the meeting's attendees, people only. Audit: ``meeting.vote_cast``
    (a repeat of the same vote changes nothing); refusals ``approval.denied``.
    """
    return _meeting_vote(meeting=meeting, vote=vote, actor=actor, comment=comment)


def _vote_precheck(*, meeting: GoNoGoMeeting, actor: Caller) -> None:
    if not is_insider(actor, meeting.release.project_id):
        raise OutsiderDenied("No such meeting.")
    if not is_person(actor):
        raise PeopleOnly("Only people vote; API tokens never can.")
    if not is_attendee(meeting, actor):
        raise NotAnAttendee(
            "Only the meeting's attendees may vote; ask the release manager to invite you."
        )


@audited_denial("vote")
def vote_authorize(*, meeting: GoNoGoMeeting, actor: Caller) -> None:
    """Refuse (and audit) a vote from someone who is not an attendee, before the form is read."""
    _vote_precheck(meeting=meeting, actor=actor)


@transaction.atomic
def _meeting_vote(*, meeting: GoNoGoMeeting, vote: str, actor: Caller, comment: str) -> MeetingVote:
    _vote_precheck(meeting=meeting, actor=actor)
    person = cast(User, actor)  # the precheck let only an attendee through
    if vote not in Vote.values:
        raise ValidationFailed("Vote go, no_go or abstain.")
    comment = clean_text(comment, "The comment", 2000)
    if vote == Vote.NO_GO and not comment:
        raise CommentRequired("Say why: a no-go vote needs a comment.")
    meeting, release = lock_meeting(meeting)
    ensure_open(release)
    ensure_meeting_open(meeting)
    existing = MeetingVote.objects.filter(meeting=meeting, person_id=actor.pk).first()
    if existing is not None and existing.vote == vote and existing.comment == comment:
        return existing
    old = existing.vote if existing else ""
    if existing is None:
        existing = MeetingVote.objects.create(
            meeting=meeting, person=person, vote=vote, comment=comment
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
