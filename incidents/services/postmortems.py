"""Post-mortems and retrospectives: open, write, review, close; their action items."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import audit_record
from core.exceptions import Conflict, ValidationFailed
from core.transitions import transition_check
from incidents.choices import POSTMORTEM_TRANSITIONS, PostMortemState, Severity
from incidents.models import ActionItem, Incident, PostMortem, PostMortemKind
from incidents.permissions import require_respond
from incidents.services._common import check_members, check_text, person
from releases.models import Deployment, Release

# PagerDuty's process: the post-mortem of a SEV1 within 3 calendar days, of a SEV2
# within 5 business days; rollbacks and emergency releases are treated like a SEV2.
SEV1_DAYS = 3
SEV2_BUSINESS_DAYS = 5

# The blameless template's sections, in the order the page shows them: field, heading.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("summary", "Summary"),
    ("impact", "Impact"),
    ("root_causes", "Root causes"),
    ("trigger", "Trigger"),
    ("resolution", "Resolution"),
    ("detection", "Detection"),
    ("went_well", "What went well"),
    ("went_wrong", "What went wrong"),
    ("got_lucky", "Where we got lucky"),
    ("timeline_notes", "Timeline notes"),
)
# A retrospective keeps the structure and names three sections its own way.
RETRO_HEADINGS = {
    "went_well": "What went well",
    "went_wrong": "What to improve",
    "got_lucky": "Surprises",
}
SECTION_FIELDS = tuple(name for name, _ in SECTIONS)


def business_days_after(start: date, days: int) -> date:
    """The date ``days`` business days (Monday–Friday) after ``start``."""
    current = start
    left = days
    while left > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            left -= 1
    return current


def postmortem_due(*, severity: int, at: datetime) -> date:
    """When a post-mortem is due: 3 days after ``at`` for SEV1, else 5 business days."""
    day = timezone.localdate(at) if timezone.is_aware(at) else at.date()
    if severity == Severity.SEV1:
        return day + timedelta(days=SEV1_DAYS)
    return business_days_after(day, SEV2_BUSINESS_DAYS)


def _create(actor: Any, **fields: Any) -> PostMortem:
    try:
        with transaction.atomic():
            postmortem = PostMortem.objects.create(created_by=person(actor), **fields)
    except IntegrityError:
        raise Conflict("That post-mortem exists already.") from None
    audit_record(
        actor=actor,
        action="postmortem.opened",
        obj=postmortem,
        project=postmortem.project_id,
        release=postmortem.release_id,
        to_state=postmortem.state,
        data={"kind": postmortem.kind, "due_on": str(postmortem.due_on or "")},
    )
    return postmortem


@transaction.atomic
def postmortem_for_incident(*, actor: Any, incident: Incident) -> PostMortem:
    """The incident's post-mortem, opened as a draft if it has none (idempotent).

    Due from the resolution (or now) by the incident's severity. Audit: ``postmortem.opened``.
    """
    if actor is not None:
        require_respond(actor, incident.project_id, "write post-mortems in this project")
    existing = PostMortem.objects.filter(incident=incident).first()
    if existing is not None:
        return existing
    at = incident.resolved_at or timezone.now()
    if incident.cause_deployment_id:
        # The rollback of the suspected deployment opened its post-mortem already: it
        # becomes this incident's, so one rollback and its incident share one document.
        adopted = (
            PostMortem.objects.select_for_update()
            .filter(deployment_id=incident.cause_deployment_id, incident__isnull=True)
            .exclude(state=PostMortemState.CLOSED)
            .first()
        )
        if adopted is not None:
            adopted.incident = incident
            adopted.title = f"Post-mortem: {incident.title}"[:200]
            adopted.due_on = min(
                filter(None, [adopted.due_on, postmortem_due(severity=incident.severity, at=at)])
            )
            adopted.save(update_fields=["incident", "title", "due_on", "updated_at"])
            audit_record(
                actor=actor,
                action="postmortem.linked",
                obj=adopted,
                project=adopted.project_id,
                release=adopted.release_id,
                data={"incident": incident.pk},
            )
            return adopted
    return _create(
        actor,
        project_id=incident.project_id,
        kind=PostMortemKind.INCIDENT,
        incident=incident,
        release_id=incident.cause_release_id,
        deployment_id=incident.cause_deployment_id,
        title=f"Post-mortem: {incident.title}"[:200],
        due_on=postmortem_due(severity=incident.severity, at=at),
        impact=incident.impact,
    )


@transaction.atomic
def postmortem_for_rollback(*, actor: Any, deployment: Deployment) -> PostMortem:
    """The post-mortem a production rollback requires (idempotent), due in 5 business days."""
    # One document per rollback: an incident's post-mortem about this deployment counts.
    existing = PostMortem.objects.filter(deployment=deployment).first()
    if existing is not None:
        return existing
    release = deployment.release
    return _create(
        actor,
        project_id=release.project_id,
        kind=PostMortemKind.ROLLBACK,
        release=release,
        deployment=deployment,
        title=f"Rollback of {release.version} in {deployment.environment}"[:200],
        due_on=postmortem_due(severity=Severity.SEV2, at=timezone.now()),
    )


@transaction.atomic
def postmortem_for_emergency(*, actor: Any, release: Release, review: Any) -> PostMortem:
    """The post-mortem an emergency release requires, linked to its emergency review."""
    existing = PostMortem.objects.filter(release=release, kind=PostMortemKind.EMERGENCY).first()
    if existing is not None:
        return existing
    return _create(
        actor,
        project_id=release.project_id,
        kind=PostMortemKind.EMERGENCY,
        release=release,
        emergency_review=review,
        title=f"Emergency release {release.version}"[:200],
        due_on=postmortem_due(severity=Severity.SEV2, at=timezone.now()),
    )


@transaction.atomic
def retrospective_open(*, actor: Any, release: Release) -> PostMortem:
    """Hold a retrospective for ``release`` (one per release), due in 5 business days."""
    require_respond(actor, release.project_id, "hold retrospectives in this project")
    if PostMortem.objects.filter(release=release, kind=PostMortemKind.RETROSPECTIVE).exists():
        raise Conflict(f"Release {release.version} has a retrospective already.")
    return _create(
        actor,
        project_id=release.project_id,
        kind=PostMortemKind.RETROSPECTIVE,
        release=release,
        title=f"Retrospective of {release.version}"[:200],
        due_on=postmortem_due(severity=Severity.SEV2, at=timezone.now()),
    )


def _lock(postmortem: PostMortem) -> PostMortem:
    return PostMortem.objects.select_for_update().get(pk=postmortem.pk)


@transaction.atomic
def postmortem_update(*, actor: Any, postmortem: PostMortem, **sections: str) -> PostMortem:
    """Write sections of the template (keys of SECTIONS, and ``title``); not once closed.

    Audit: ``postmortem.updated`` with the names of the sections changed.
    """
    require_respond(actor, postmortem.project_id, "write post-mortems in this project")
    postmortem = _lock(postmortem)
    if postmortem.state == PostMortemState.CLOSED:
        raise ValidationFailed("This post-mortem is closed; it cannot change any more.")
    unknown = set(sections) - set(SECTION_FIELDS) - {"title"}
    if unknown:
        raise ValidationFailed(f"Unknown sections: {', '.join(sorted(unknown))}.")
    changed = []
    for name, value in sections.items():
        limit = 200 if name == "title" else 20000
        text = check_text(value, name.replace("_", " ").capitalize(), limit).strip()
        if name == "title" and not text:
            raise ValidationFailed("Give the post-mortem a title.")
        if getattr(postmortem, name) != text:
            setattr(postmortem, name, text)
            changed.append(name)
    if changed:
        postmortem.save(update_fields=[*changed, "updated_at"])
        audit_record(
            actor=actor,
            action="postmortem.updated",
            obj=postmortem,
            project=postmortem.project_id,
            release=postmortem.release_id,
            data={"sections": changed},
        )
    return postmortem


def open_items(postmortem: PostMortem) -> list[ActionItem]:
    return list(postmortem.items.filter(done_at__isnull=True).select_related("owner"))


@transaction.atomic
def postmortem_transition(*, actor: Any, postmortem: PostMortem, to_state: str) -> PostMortem:
    """Move a post-mortem Draft → In review → Reviewed → Closed.

    Reviewing needs a summary and root causes; closing is refused while action items
    are open, with their list. Audit: ``postmortem.state_changed``.
    """
    require_respond(actor, postmortem.project_id, "review post-mortems in this project")
    postmortem = _lock(postmortem)
    if to_state not in PostMortemState.values:
        raise ValidationFailed("State must be one of draft, in_review, reviewed or closed.")
    transition_check(
        transitions=POSTMORTEM_TRANSITIONS,
        choices=PostMortemState,
        noun="post-mortem",
        from_state=postmortem.state,
        to_state=to_state,
    )
    if to_state == PostMortemState.REVIEWED:
        missing = [
            heading
            for name, heading in SECTIONS
            if name in ("summary", "root_causes") and not getattr(postmortem, name)
        ]
        if missing:
            raise ValidationFailed(
                f"Write the {' and the '.join(m.lower() for m in missing)} before the review ends."
            )
    if to_state == PostMortemState.CLOSED:
        items = open_items(postmortem)
        if items:
            listing = "; ".join(
                f"{i.title} ({i.owner.get_username()}, due {i.due_on:%Y-%m-%d})" for i in items
            )
            raise ValidationFailed(
                f"The post-mortem cannot be closed while {len(items)} action "
                f"item{'s are' if len(items) != 1 else ' is'} open: {listing}.",
                details={"open_items": [i.pk for i in items]},
            )
    from_state = postmortem.state
    postmortem.state = to_state
    now = timezone.now()
    fields = ["state", "updated_at"]
    if to_state == PostMortemState.REVIEWED:
        postmortem.reviewed_at, postmortem.reviewed_by = now, person(actor)
        fields += ["reviewed_at", "reviewed_by"]
    if to_state == PostMortemState.CLOSED:
        postmortem.closed_at = now
        fields.append("closed_at")
    postmortem.save(update_fields=fields)
    audit_record(
        actor=actor,
        action="postmortem.state_changed",
        obj=postmortem,
        project=postmortem.project_id,
        release=postmortem.release_id,
        from_state=from_state,
        to_state=to_state,
    )
    return postmortem


@transaction.atomic
def action_item_add(
    *,
    actor: Any,
    postmortem: PostMortem,
    title: str,
    owner: User,
    due_on: date,
    ticket_key: str = "",
) -> ActionItem:
    """Add an action item with its owner (a project member), due date and ticket key.

    Audit: ``postmortem.item_added``.
    """
    require_respond(actor, postmortem.project_id, "add action items in this project")
    postmortem = _lock(postmortem)
    if postmortem.state == PostMortemState.CLOSED:
        raise ValidationFailed("This post-mortem is closed; it cannot change any more.")
    title = check_text(title, "Title", 300).strip()
    if not title:
        raise ValidationFailed("Say what the action item is.")
    ticket_key = check_text(ticket_key, "Ticket key", 64).strip()
    if not isinstance(due_on, date):
        raise ValidationFailed("Give the action item a due date.")
    check_members(postmortem.project, [owner], "The owner")
    item = ActionItem.objects.create(
        postmortem=postmortem, title=title, owner=owner, due_on=due_on, ticket_key=ticket_key
    )
    audit_record(
        actor=actor,
        action="postmortem.item_added",
        obj=item,
        project=postmortem.project_id,
        release=postmortem.release_id,
        data={"owner": owner.get_username(), "due_on": str(due_on), "ticket": ticket_key},
    )
    return item


@transaction.atomic
def action_item_set_done(*, actor: Any, item: ActionItem, done: bool = True) -> ActionItem:
    """Mark an action item done (or open again). Audit: ``postmortem.item_done`` / ``item_reopened``."""
    postmortem = item.postmortem
    require_respond(actor, postmortem.project_id, "track action items in this project")
    item = ActionItem.objects.select_for_update().get(pk=item.pk)
    if postmortem.state == PostMortemState.CLOSED:
        raise ValidationFailed("This post-mortem is closed; its action items cannot change.")
    if done == (item.done_at is not None):
        return item
    item.done_at = timezone.now() if done else None
    item.save(update_fields=["done_at"])
    audit_record(
        actor=actor,
        action="postmortem.item_done" if done else "postmortem.item_reopened",
        obj=item,
        project=postmortem.project_id,
        release=postmortem.release_id,
    )
    return item
