"""Closing a release: QA's confirmations on production, the results message, the summary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from audit.services import audit_record
from core.events import publish
from core.exceptions import Conflict, ValidationFailed
from incidents.choices import SEVERE, IncidentState, PostMortemState
from incidents.models import (
    Incident,
    PostMortem,
    ReleaseClosure,
    TicketCheck,
    TicketConfirmation,
)
from incidents.permissions import require_close, require_confirm
from incidents.services._common import check_text, person
from incidents.services.incidents import escaped_defect_record
from projects.models import Membership
from releases.choices import ReleaseStatus
from releases.models import Release, Ticket


@dataclass(frozen=True)
class Blocker:
    code: str
    message: str


def release_close_blockers(*, release: Release, today: date | None = None) -> list[Blocker]:
    """Why ``release`` cannot be closed now (empty when it can). Four queries."""
    today = today or timezone.localdate()
    blockers: list[Blocker] = []
    if ReleaseClosure.objects.filter(release=release).exists():
        blockers.append(Blocker("closed", f"Release {release.version} is closed already."))
    if release.status != ReleaseStatus.RELEASED:
        blockers.append(
            Blocker(
                "not_released",
                f"Release {release.version} is {release.get_status_display().lower()}; only a "
                "release that reached production can be closed.",
            )
        )
    unchecked = list(
        Ticket.objects.filter(release=release, production_check__isnull=True).values_list(
            "key", flat=True
        )
    )
    if unchecked:
        blockers.append(
            Blocker(
                "unchecked_tickets",
                f"QA has not checked {len(unchecked)} ticket{'s' if len(unchecked) != 1 else ''} "
                f"on production: {', '.join(unchecked)}.",
            )
        )
    open_severe = list(
        Incident.objects.filter(cause_release=release, severity__in=sorted(SEVERE))
        .exclude(state=IncidentState.RESOLVED)
        .values_list("pk", "severity", "title")
    )
    for pk, severity, title in open_severe:
        blockers.append(
            Blocker("open_incident", f"Incident #{pk} (SEV{severity}: {title}) is still open.")
        )
    overdue = list(
        PostMortem.objects.filter(release=release, due_on__lt=today)
        .exclude(state__in=[PostMortemState.REVIEWED, PostMortemState.CLOSED])
        .values_list("title", "due_on")
    )
    for title, due_on in overdue:
        blockers.append(
            Blocker("overdue_postmortem", f"The post-mortem “{title}” was due on {due_on}.")
        )
    return blockers


@transaction.atomic
def ticket_confirm(
    *,
    actor: Any,
    ticket: Ticket,
    confirmed: bool,
    note: str = "",
    severity: Any = 3,
) -> TicketConfirmation:
    """QA's verdict on one ticket after production: confirmed, or reopened as an escaped defect.

    Only for a release that reached production and is not closed; one verdict per ticket
    (a person changes their mind by reopening a confirmed ticket, never the other way).
    Audit: ``release.ticket_confirmed`` / ``release.ticket_reopened`` (and
    ``escaped_defect.recorded``).
    """
    release = Release.objects.select_for_update().get(pk=ticket.release_id)
    require_confirm(actor, release.project_id, "confirm this release's tickets on production")
    if release.status != ReleaseStatus.RELEASED:
        raise ValidationFailed(
            f"Release {release.version} has not reached production "
            f"({release.get_status_display().lower()}); its tickets are checked after it has."
        )
    if ReleaseClosure.objects.filter(release=release).exists():
        raise ValidationFailed(f"Release {release.version} is closed; its tickets cannot change.")
    note = check_text(note, "Note", 2000).strip()
    existing = TicketConfirmation.objects.select_for_update().filter(ticket=ticket).first()
    if existing is not None and (existing.result == TicketCheck.REOPENED or confirmed):
        raise Conflict(f"Ticket {ticket.key} is {existing.get_result_display().lower()} already.")
    defect = None
    if not confirmed:
        if not note:
            raise ValidationFailed(f"Say what is wrong with {ticket.key} on production.")
        defect = escaped_defect_record(
            actor=actor,
            release=release,
            key=ticket.key,
            severity=severity,
            found_at=timezone.now(),
            title=note[:300],
            ticket=ticket,
        )
    fields = {
        "release": release,
        "result": TicketCheck.CONFIRMED if confirmed else TicketCheck.REOPENED,
        "note": note,
        "escaped_defect": defect,
        "checked_by": person(actor),
        "checked_at": timezone.now(),
    }
    if existing is not None:
        for name, value in fields.items():
            setattr(existing, name, value)
        existing.save()
        check = existing
    else:
        try:
            with transaction.atomic():
                check = TicketConfirmation.objects.create(ticket=ticket, **fields)
        except IntegrityError:
            raise Conflict(f"Ticket {ticket.key} was checked a moment ago.") from None
    audit_record(
        actor=actor,
        action="release.ticket_confirmed" if confirmed else "release.ticket_reopened",
        obj=ticket,
        project=release.project_id,
        release=release,
        reason=note,
        data={"key": ticket.key, "escaped_defect": defect.pk if defect else None},
    )
    return check


def results_text(*, release: Release, summary: str) -> str:
    checks = {
        c.ticket_id: c
        for c in TicketConfirmation.objects.filter(release=release).select_related("checked_by")
    }
    lines = [f"Release {release.version} ({release.title}) is closed.", "", summary, ""]
    tickets = list(Ticket.objects.filter(release=release).order_by("key"))
    confirmed = [t for t in tickets if checks.get(t.pk) and checks[t.pk].result == "confirmed"]
    reopened = [t for t in tickets if checks.get(t.pk) and checks[t.pk].result == "reopened"]
    lines.append(f"Confirmed on production by QA: {len(confirmed)} of {len(tickets)} tickets.")
    for ticket in confirmed:
        lines.append(f"  ✓ {ticket.key} {ticket.title}".rstrip())
    if reopened:
        lines.append(f"Reopened as escaped defects: {len(reopened)}.")
        for ticket in reopened:
            lines.append(f"  ✗ {ticket.key}: {checks[ticket.pk].note}")
    return "\n".join(lines)


@transaction.atomic
def release_close(*, actor: Any, release: Release, summary: str) -> ReleaseClosure:
    """Close a released release with a summary and send the results to the stakeholders.

    Refused (with every reason) while a ticket is unchecked, a SEV1/SEV2 incident it
    caused is open or one of its post-mortems is overdue. The release's status stays
    *released*; the closure row records the closing. Audit: ``release.closed``.
    Announces ``incidents.release_results`` (stakeholders, QA and the team).
    """
    release = Release.objects.select_for_update().select_related("project").get(pk=release.pk)
    require_close(actor, release)
    summary = check_text(summary, "Summary", 10000).strip()
    if not summary:
        raise ValidationFailed("Write a summary of the release before closing it.")
    blockers = release_close_blockers(release=release)
    if blockers:
        raise ValidationFailed(
            f"Release {release.version} cannot be closed: " + " ".join(b.message for b in blockers),
            details={"blockers": [{"code": b.code, "message": b.message} for b in blockers]},
        )
    now = timezone.now()
    body = results_text(release=release, summary=summary)
    closure = ReleaseClosure.objects.create(
        release=release,
        summary=summary,
        closed_by=person(actor),
        closed_at=now,
        results_sent_at=now,
    )
    audit_record(
        actor=actor,
        action="release.closed",
        obj=release,
        project=release.project_id,
        release=release,
        reason=summary,
        data={"results": body},
    )
    stakeholders = list(
        Membership.objects.filter(project_id=release.project_id, role__in=["product_owner", "qa"])
        .select_related("user")
        .values_list("user", flat=True)
        .distinct()
    )
    from django.contrib.auth.models import User

    publish(
        "incidents.release_results",
        project=release.project,
        subject=f"Results of release {release.version}: closed",
        body=body,
        url=reverse("incidents:release-close", args=[release.pk]),
        release=release,
        recipients=list(User.objects.filter(pk__in=stakeholders)),
        data={"release": release.pk},
    )
    return closure
