"""Working an incident: status updates, timeline entries, people, mitigation, the hotfix."""

from __future__ import annotations

import string
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from audit.services import audit_record
from core.events import publish
from core.exceptions import ValidationFailed
from incidents.choices import (
    DEFAULT_STATUS_TEMPLATE,
    ROLLBACK_CRITERIA,
    SEVERE,
    TEMPLATE_FIELDS,
    IncidentState,
)
from incidents.models import (
    Incident,
    IncidentDetails,
    IncidentSettings,
    MitigationChoice,
    StatusUpdate,
    TimelineEntry,
)
from incidents.permissions import require_respond
from incidents.services._common import (
    actor_label,
    check_members,
    check_text,
    check_time,
    person,
)
from incidents.services.incidents import incident_resolve, incident_transition
from projects.models import Project
from projects.permissions import can_admin_project, role_refusal
from releases.choices import ReleaseType
from releases.models import Release

# Bounds on the reminder interval a project may set, in minutes.
MIN_INTERVAL, MAX_INTERVAL = 5, 24 * 60


def settings_for(project: Project | int) -> IncidentSettings:
    """The project's template and cadence (the defaults until someone edits them); no write."""
    project_id: int = project.pk if isinstance(project, Project) else project
    found = IncidentSettings.objects.filter(project_id=project_id).first()
    return found or IncidentSettings(project_id=project_id, status_template=DEFAULT_STATUS_TEMPLATE)


def template_check(text: str) -> str:
    """Refuse a template whose placeholders are not ours or whose braces do not pair."""
    text = check_text(text, "Template", 10000).strip()
    if not text:
        raise ValidationFailed("The template cannot be empty.")
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError:
        raise ValidationFailed(
            "The template has an unpaired brace; write {{ and }} for literal braces."
        ) from None
    unknown = sorted(n for n in names if n not in TEMPLATE_FIELDS)
    if unknown:
        raise ValidationFailed(
            f"Unknown placeholders {', '.join('{' + n + '}' for n in unknown)}; "
            f"use {', '.join('{' + n + '}' for n in TEMPLATE_FIELDS)}."
        )
    return text


@transaction.atomic
def settings_update(
    *,
    actor: Any,
    project: Project,
    status_template: str | None = None,
    update_interval_minutes: int | None = None,
) -> IncidentSettings:
    """Edit the project's status-update template and reminder interval (project admins).

    Audit: ``incidents.settings_updated``.
    """
    if actor is not None and not can_admin_project(actor, project):
        raise role_refusal("admin", to="change the incident settings of this project")
    current = IncidentSettings.objects.select_for_update().filter(project=project).first()
    if current is None:
        current = IncidentSettings(project=project, status_template=DEFAULT_STATUS_TEMPLATE)
    if status_template is not None:
        current.status_template = template_check(status_template)
    if update_interval_minutes is not None:
        if not isinstance(update_interval_minutes, int) or not (
            MIN_INTERVAL <= update_interval_minutes <= MAX_INTERVAL
        ):
            raise ValidationFailed(
                f"The update interval is a number of minutes from {MIN_INTERVAL} to {MAX_INTERVAL}."
            )
        current.update_interval_minutes = update_interval_minutes
    current.save()
    audit_record(
        actor=actor,
        action="incidents.settings_updated",
        obj=current,
        project=project,
        data={"update_interval_minutes": current.update_interval_minutes},
    )
    return current


def _stamp(value: datetime | None) -> str:
    if value is None:
        return "–"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def update_render(
    *,
    incident: Incident,
    state: str,
    impact: str,
    actions_taken: str,
    next_steps: str,
    at: datetime,
    commander: User | None = None,
    template: str | None = None,
) -> str:
    """The update's message: the project's template filled in."""
    text = template or settings_for(incident.project_id).status_template
    values = {
        "title": incident.title,
        "status": IncidentState(state).label,
        "severity": f"SEV{incident.severity}",
        "impact": impact or "Not known yet.",
        "started": _stamp(incident.started_at),
        "last_update": _stamp(at),
        "actions_taken": actions_taken or "None yet.",
        "next_steps": next_steps or "None planned.",
        "commander": commander.get_username() if commander else "nobody yet",
        "url": reverse("incidents:detail", args=[incident.pk]),
    }
    try:
        return text.format(**values)
    except (KeyError, ValueError, IndexError):
        # A template saved before a placeholder was retired: fall back to the default.
        return DEFAULT_STATUS_TEMPLATE.format(**values)


def _lock(incident: Incident) -> tuple[Incident, IncidentDetails]:
    incident = Incident.objects.select_for_update().select_related("project").get(pk=incident.pk)
    details, _ = IncidentDetails.objects.select_for_update().get_or_create(incident=incident)
    return incident, details


@transaction.atomic
def status_update_post(
    *,
    actor: Any,
    incident: Incident,
    state: str | None = None,
    impact: str | None = None,
    actions_taken: str = "",
    next_steps: str = "",
) -> StatusUpdate:
    """Post a status update from the project's template; it may move the state too.

    Refused on a resolved incident. ``state`` resolved resolves the incident first.
    Audit: ``incident.update_posted``. Announces ``incidents.update`` to the project's
    channels (and the commander and responders in the app).
    """
    require_respond(actor, incident.project, "post updates on this incident")
    incident, details = _lock(incident)
    if incident.state == IncidentState.RESOLVED:
        raise ValidationFailed("This incident is resolved; it takes no more updates.")
    actions_taken = check_text(actions_taken, "Actions taken", 5000).strip()
    next_steps = check_text(next_steps, "Next steps", 5000).strip()
    if impact is not None:
        impact = check_text(impact, "Impact", 5000).strip()
    if not (actions_taken or next_steps or impact or (state and state != incident.state)):
        raise ValidationFailed("Write what was done, what comes next, or a new impact.")
    state = state or incident.state
    if state not in IncidentState.values:
        raise ValidationFailed(
            "State must be one of investigating, identified, monitoring or resolved."
        )
    if impact is not None and impact != incident.impact:
        incident.impact = impact
        incident.save(update_fields=["impact", "updated_at"])
    if state == IncidentState.RESOLVED:
        incident = incident_resolve(actor=actor, incident=incident, summary=actions_taken)
    elif state != incident.state:
        incident = incident_transition(actor=actor, incident=incident, to_state=state)
    now = timezone.now()
    commander = details.commander
    body = update_render(
        incident=incident,
        state=state,
        impact=incident.impact,
        actions_taken=actions_taken,
        next_steps=next_steps,
        at=now,
        commander=commander,
    )
    update = StatusUpdate.objects.create(
        incident=incident,
        state=state,
        impact=incident.impact,
        actions_taken=actions_taken,
        next_steps=next_steps,
        body=body,
        author=person(actor),
        author_label=actor_label(actor),
    )
    IncidentDetails.objects.filter(pk=details.pk).update(
        last_update_at=update.created_at, update_reminded_at=None
    )
    audit_record(
        actor=actor,
        action="incident.update_posted",
        obj=incident,
        project=incident.project_id,
        release=incident.cause_release_id,
        to_state=state,
        data={"update": update.pk},
    )
    recipients = [p for p in [commander, *details.responders.all()] if p is not None]
    publish(
        "incidents.update",
        project=incident.project,
        subject=f"[{IncidentState(state).label}] {incident}",
        body=body,
        url=reverse("incidents:detail", args=[incident.pk]),
        release=incident.cause_release,
        recipients=[p for p in recipients if p.pk != getattr(actor, "pk", None)],
        urgent=incident.severity in SEVERE,
        data={"incident": incident.pk, "update": update.pk, "state": state},
    )
    return update


@transaction.atomic
def timeline_entry_add(
    *, actor: Any, incident: Incident, text: str, at: datetime | None = None
) -> TimelineEntry:
    """Add a person's entry to the timeline (at a past moment, or now).

    Allowed after the resolution too (people remember things later). Audit:
    ``incident.timeline_entry_added``.
    """
    require_respond(actor, incident.project, "add to this incident's timeline")
    text = check_text(text, "Entry", 5000).strip()
    if not text:
        raise ValidationFailed("Write what happened.")
    at = check_time(at or timezone.now(), "The time of the entry")
    entry = TimelineEntry.objects.create(
        incident=incident, at=at, text=text, author=person(actor), author_label=actor_label(actor)
    )
    audit_record(
        actor=actor,
        action="incident.timeline_entry_added",
        obj=incident,
        project=incident.project_id,
        release=incident.cause_release_id,
        data={"entry": entry.pk, "at": at.isoformat()},
    )
    return entry


@transaction.atomic
def incident_people_set(
    *,
    actor: Any,
    incident: Incident,
    commander: User | None = None,
    responders: Iterable[User] | None = None,
) -> IncidentDetails:
    """Name the commander and/or the responders: project members only.

    Audit: ``incident.people_changed``.
    """
    require_respond(actor, incident.project, "change who responds to this incident")
    incident, details = _lock(incident)
    data: dict[str, Any] = {}
    if commander is not None:
        check_members(incident.project, [commander], "The commander")
        details.commander = commander
        details.save(update_fields=["commander"])
        data["commander"] = commander.get_username()
    if responders is not None:
        people = check_members(incident.project, list(responders), "Responders")
        details.responders.set(people)
        data["responders"] = sorted(p.get_username() for p in people)
    if data:
        audit_record(
            actor=actor,
            action="incident.people_changed",
            obj=incident,
            project=incident.project_id,
            release=incident.cause_release_id,
            data=data,
        )
    return details


@transaction.atomic
def mitigation_decide(
    *, actor: Any, incident: Incident, decision: str, reason: str, criteria: Iterable[str] = ()
) -> IncidentDetails:
    """Record the mitigation decision: roll back or fix forward, with the reason.

    ``criteria`` are the codes of the seed's rollback criteria ticked. Audit:
    ``incident.mitigation_decided``.
    """
    require_respond(actor, incident.project, "decide how to mitigate this incident")
    incident, details = _lock(incident)
    if incident.state == IncidentState.RESOLVED:
        raise ValidationFailed("This incident is resolved; the mitigation is history now.")
    if decision not in MitigationChoice.values:
        raise ValidationFailed("Decide to roll back or to fix forward.")
    reason = check_text(reason, "Reason", 5000).strip()
    if not reason:
        raise ValidationFailed("Say why this mitigation was chosen.")
    known = {code for code, _ in ROLLBACK_CRITERIA}
    ticked = list(dict.fromkeys(criteria))
    unknown = [c for c in ticked if c not in known]
    if unknown:
        raise ValidationFailed(f"Unknown rollback criteria: {', '.join(unknown)}.")
    details.mitigation = decision
    details.mitigation_reason = reason
    details.rollback_criteria = ticked
    details.mitigation_decided_at = timezone.now()
    details.mitigation_decided_by = person(actor)
    details.save()
    audit_record(
        actor=actor,
        action="incident.mitigation_decided",
        obj=incident,
        project=incident.project_id,
        release=incident.cause_release_id,
        reason=reason,
        data={"decision": decision, "criteria": ticked},
    )
    return details


@transaction.atomic
def hotfix_start(
    *, actor: Any, incident: Incident, version: str, title: str = "", rollback_plan: str = ""
) -> Release:
    """Start a hotfix release from the incident through the releases service, linked as rework.

    The release is created by ``releases.services.release_create`` (its rights and
    rules apply) with type hotfix; ``IncidentDetails.hotfix_release`` links it. One per
    incident. Audit: ``release.created`` and ``incident.hotfix_started``.
    """
    from releases.services import release_create

    require_respond(actor, incident.project, "start a hotfix for this incident")
    incident, details = _lock(incident)
    if details.hotfix_release_id:
        raise ValidationFailed("This incident has its hotfix release already.")
    release = release_create(
        project=incident.project,
        version=version,
        title=title or f"Hotfix: {incident.title}"[:200],
        actor=actor,
        type=ReleaseType.HOTFIX,
        description=f"Fixes incident #{incident.pk}: {incident.title}",
        rollback_plan=rollback_plan,
    )
    details.hotfix_release = release
    details.save(update_fields=["hotfix_release"])
    if details.mitigation == "":
        details.mitigation = MitigationChoice.FIX_FORWARD
        details.mitigation_reason = f"Hotfix {release.version} started."
        details.mitigation_decided_at = timezone.now()
        details.mitigation_decided_by = person(actor)
        details.save()
    audit_record(
        actor=actor,
        action="incident.hotfix_started",
        obj=incident,
        project=incident.project_id,
        release=release,
        data={"hotfix_release": release.pk, "version": release.version},
    )
    return release


@transaction.atomic
def hotfix_link(*, actor: Any, incident: Incident, release: Release) -> IncidentDetails:
    """Link an existing hotfix release of the project to the incident as its rework.

    For a hotfix started outside Shipcheck's incident page. Audit: ``incident.hotfix_linked``.
    """
    require_respond(actor, incident.project, "link a hotfix to this incident")
    incident, details = _lock(incident)
    if release.project_id != incident.project_id:
        raise ValidationFailed("That release belongs to another project.")
    if details.hotfix_release_id and details.hotfix_release_id != release.pk:
        raise ValidationFailed("This incident has its hotfix release already.")
    details.hotfix_release = release
    details.save(update_fields=["hotfix_release"])
    audit_record(
        actor=actor,
        action="incident.hotfix_linked",
        obj=incident,
        project=incident.project_id,
        release=release,
        data={"hotfix_release": release.pk, "version": release.version},
    )
    return details


def update_due_at(details: IncidentDetails, incident: Incident, interval: int) -> datetime:
    base = details.last_update_at or incident.detected_at or incident.created_at
    return base + timedelta(minutes=interval)


def overdue_updates_remind(*, now: datetime | None = None) -> int:
    """Remind the commanders of open SEV1/SEV2 incidents whose update is overdue.

    An update is due every interval (the project's, 20 minutes by default) after the
    last one (or the detection). One reminder per interval: a conditional UPDATE on
    ``update_reminded_at`` wins the race between two beats. Audit:
    ``incident.update_overdue``; announces ``incidents.update_overdue`` (urgent).
    Returns how many reminders went out.
    """
    now = now or timezone.now()
    candidates = list(
        IncidentDetails.objects.filter(incident__severity__in=sorted(SEVERE))
        .exclude(incident__state=IncidentState.RESOLVED)
        .select_related("incident__project", "commander")
    )
    settings_by_project = {
        s.project_id: s
        for s in IncidentSettings.objects.filter(
            project_id__in={d.incident.project_id for d in candidates}
        )
    }
    sent = 0
    for details in candidates:
        incident = details.incident
        interval = (
            settings_by_project[incident.project_id].update_interval_minutes
            if incident.project_id in settings_by_project
            else 20
        )
        due = update_due_at(details, incident, interval)
        if due > now:
            continue
        if details.update_reminded_at and details.update_reminded_at > now - timedelta(
            minutes=interval
        ):
            continue
        with transaction.atomic():
            # The conditional UPDATE: only one beat (or worker) reminds for this interval.
            won = IncidentDetails.objects.filter(
                pk=details.pk, update_reminded_at=details.update_reminded_at
            ).update(update_reminded_at=now)
            if not won:
                continue
            minutes = int((now - due).total_seconds() // 60) + interval
            audit_record(
                actor=None,
                action="incident.update_overdue",
                obj=incident,
                project=incident.project_id,
                release=incident.cause_release_id,
                data={"minutes_since_update": minutes},
            )
            publish(
                "incidents.update_overdue",
                project=incident.project,
                subject=f"Update overdue: {incident}",
                body=(
                    f"No status update for {minutes} minutes; a SEV{incident.severity} "
                    f"incident gets one every {interval} minutes."
                ),
                url=reverse("incidents:detail", args=[incident.pk]),
                release=incident.cause_release,
                recipients=[details.commander] if details.commander else [],
                urgent=True,
                data={"incident": incident.pk},
            )
            sent += 1
    return sent
