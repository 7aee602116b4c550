"""Incidents: open, move through their states, resolve; escaped defects."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from audit.services import audit_record
from core.events import publish
from core.exceptions import ValidationFailed
from core.transitions import transition_check
from incidents.choices import INCIDENT_TRANSITIONS, SEVERE, IncidentState, Severity
from incidents.models import EscapedDefect, Incident, IncidentDetails
from incidents.permissions import require_confirm, require_respond
from incidents.services._common import (
    actor_label,
    check_members,
    check_text,
    check_time,
    person,
)
from projects.models import Environment, Project
from releases.choices import DeploymentStatus
from releases.models import Deployment, Release, Ticket


def severity_parse(value: Any) -> int:
    """1–4, or "SEV1"…"SEV4" (any case), as the stored number; anything else is refused."""
    text = str(value).strip().upper()
    if text.startswith("SEV"):
        text = text[3:]
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number not in Severity.values:
        raise ValidationFailed("Severity must be one of SEV1, SEV2, SEV3 or SEV4.")
    return number


def cause_propose(*, project: Project, started_at: datetime) -> Deployment | None:
    """The last production deployment of ``project`` that started before ``started_at``.

    What Shipcheck proposes as the cause when nobody chose one: the change that
    reached production last before the trouble began.
    """
    return (
        Deployment.objects.filter(
            release__project=project,
            environment__tier="production",
            started_at__isnull=False,
            started_at__lte=started_at,
        )
        .exclude(status=DeploymentStatus.PENDING)
        .select_related("release", "environment")
        .order_by("-started_at", "-id")
        .first()
    )


def _url(incident: Incident) -> str:
    return reverse("incidents:detail", args=[incident.pk])


def _people_to_tell(details: IncidentDetails, actor: Any) -> list[User]:
    people = [details.commander] if details.commander_id else []
    return [p for p in people if p is not None and p.pk != getattr(actor, "pk", None)]


@transaction.atomic
def incident_open(
    *,
    actor: Any,
    project: Project,
    title: str,
    severity: Any,
    started_at: datetime,
    detected_at: datetime | None = None,
    environment: Environment | None = None,
    cause_deployment: Deployment | None = None,
    impact: str = "",
    commander: User | None = None,
    responders: Iterable[User] = (),
    monitoring_window: Any = None,
    propose_cause: bool = True,
) -> Incident:
    """Open an incident in ``project``, investigating.

    Any member but an auditor, or a token with the ``deployments`` scope (alerting
    tools), may open one. The cause is the deployment given, else (``propose_cause``)
    Shipcheck proposes the last production deployment before the start; its release
    becomes ``cause_release``. The commander defaults to the person opening it.
    Audit: ``incident.opened``. Announces ``incidents.opened`` (urgent for SEV1/SEV2).
    """
    require_respond(actor, project, "open incidents in this project")
    title = check_text(title, "Title", 200).strip()
    if not title:
        raise ValidationFailed("Give the incident a title.")
    impact = check_text(impact, "Impact", 5000).strip()
    level = severity_parse(severity)
    now = timezone.now()
    started_at = check_time(started_at, "The start", now=now)
    if detected_at is not None:
        detected_at = check_time(detected_at, "The detection time", now=now)
        if detected_at < started_at:
            raise ValidationFailed("The incident cannot be detected before it started.")
    if environment is not None and environment.project_id != project.pk:
        raise ValidationFailed("That environment belongs to another project.")
    proposed = False
    if cause_deployment is not None:
        if cause_deployment.release.project_id != project.pk:
            raise ValidationFailed(
                "The suspected deployment belongs to another project; choose one of "
                f"{project.name}'s deployments."
            )
    elif propose_cause:
        cause_deployment = cause_propose(project=project, started_at=started_at)
        proposed = cause_deployment is not None
    if commander is None:
        commander = person(actor)
    check_members(project, [commander], "The commander")
    responder_list = check_members(project, list(responders), "Responders")
    if monitoring_window is not None and (
        monitoring_window.deployment.release.project_id != project.pk
    ):
        raise ValidationFailed("That monitoring window belongs to another project.")
    if environment is None and cause_deployment is not None:
        environment = cause_deployment.environment
    incident = Incident.objects.create(
        project=project,
        environment=environment,
        title=title,
        severity=level,
        impact=impact,
        started_at=started_at,
        detected_at=detected_at or now,
        cause_deployment=cause_deployment,
        cause_release=cause_deployment.release if cause_deployment else None,
        created_by=person(actor),
    )
    details = IncidentDetails.objects.create(
        incident=incident,
        commander=commander,
        cause_proposed=proposed,
        monitoring_window=monitoring_window,
    )
    if responder_list:
        details.responders.set(responder_list)
    audit_record(
        actor=actor,
        action="incident.opened",
        obj=incident,
        project=project,
        release=incident.cause_release_id,
        to_state=incident.state,
        data={
            "severity": f"SEV{level}",
            "cause_deployment": cause_deployment.pk if cause_deployment else None,
            "cause_proposed": proposed,
            "commander": commander.get_username() if commander else None,
            "responders": sorted(u.get_username() for u in responder_list),
        },
    )
    publish(
        "incidents.opened",
        project=project,
        subject=f"Incident opened: SEV{level} {title}",
        body=(impact or "Impact not known yet.") + f"\nOpened by {actor_label(actor)}.",
        url=_url(incident),
        release=incident.cause_release,
        recipients=_people_to_tell(details, actor),
        urgent=level in SEVERE,
        data={"incident": incident.pk, "severity": level},
    )
    return incident


def _lock(incident: Incident) -> Incident:
    return Incident.objects.select_for_update().select_related("project").get(pk=incident.pk)


def _check_open(incident: Incident) -> None:
    if incident.state == IncidentState.RESOLVED:
        raise ValidationFailed("This incident is resolved; it cannot change any more.")


@transaction.atomic
def incident_transition(
    *, actor: Any, incident: Incident, to_state: str, reason: str = ""
) -> Incident:
    """Move an open incident to investigating, identified or monitoring.

    Resolving goes through ``incident_resolve``. Audit: ``incident.state_changed``.
    """
    require_respond(actor, incident.project, "change this incident")
    incident = _lock(incident)
    reason = check_text(reason, "Reason", 2000).strip()
    if to_state not in IncidentState.values:
        raise ValidationFailed(
            "State must be one of investigating, identified, monitoring or resolved."
        )
    if to_state == IncidentState.RESOLVED:
        return incident_resolve(actor=actor, incident=incident, summary=reason)
    _check_open(incident)
    if to_state == incident.state:
        return incident
    transition_check(
        transitions=INCIDENT_TRANSITIONS,
        choices=IncidentState,
        noun="incident",
        from_state=incident.state,
        to_state=to_state,
    )
    from_state = incident.state
    incident.state = to_state
    incident.save(update_fields=["state", "updated_at"])
    audit_record(
        actor=actor,
        action="incident.state_changed",
        obj=incident,
        project=incident.project_id,
        release=incident.cause_release_id,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
    )
    return incident


@transaction.atomic
def incident_resolve(
    *,
    actor: Any,
    incident: Incident,
    resolved_at: datetime | None = None,
    summary: str = "",
) -> Incident:
    """Resolve an open incident at ``resolved_at`` (now by default).

    Refused when already resolved or when the time is before the start. A SEV1/SEV2
    incident gets its post-mortem draft, due 3 days (SEV1) or 5 business days (SEV2)
    after the resolution. Audit: ``incident.resolved``. Announces ``incidents.resolved``.
    """
    require_respond(actor, incident.project, "resolve this incident")
    incident = _lock(incident)
    summary = check_text(summary, "Summary", 5000).strip()
    _check_open(incident)
    now = timezone.now()
    resolved_at = check_time(resolved_at or now, "The resolution time", now=now)
    if resolved_at < incident.started_at:
        raise ValidationFailed(
            "The incident cannot be resolved before it started "
            f"({incident.started_at:%Y-%m-%d %H:%M} UTC)."
        )
    from_state = incident.state
    incident.state = IncidentState.RESOLVED
    incident.resolved_at = resolved_at
    incident.save(update_fields=["state", "resolved_at", "updated_at"])
    audit_record(
        actor=actor,
        action="incident.resolved",
        obj=incident,
        project=incident.project_id,
        release=incident.cause_release_id,
        from_state=from_state,
        to_state=IncidentState.RESOLVED,
        reason=summary,
        data={"resolved_at": resolved_at.isoformat()},
    )
    details = IncidentDetails.objects.select_related("commander").get(incident=incident)
    if incident.severity in SEVERE:
        from incidents.services.postmortems import postmortem_for_incident

        postmortem_for_incident(actor=None, incident=incident)
    publish(
        "incidents.resolved",
        project=incident.project,
        subject=f"Incident resolved: {incident}",
        body=summary or "The incident is resolved.",
        url=_url(incident),
        release=incident.cause_release,
        recipients=_people_to_tell(details, actor),
        data={"incident": incident.pk, "severity": incident.severity},
    )
    return incident


@transaction.atomic
def escaped_defect_record(
    *,
    actor: Any,
    release: Release,
    key: str,
    severity: Any,
    found_at: datetime,
    title: str = "",
    ticket: Ticket | None = None,
) -> EscapedDefect:
    """Record a defect found in production that ``release`` shipped.

    QA, release managers and project admins may. ``ticket`` must belong to the release.
    Audit: ``escaped_defect.recorded``.
    """
    require_confirm(actor, release.project_id, "record escaped defects for this release")
    key = check_text(key, "Key", 64).strip()
    if not key:
        raise ValidationFailed("Give the defect's ticket key.")
    title = check_text(title, "Title", 300).strip()
    level = severity_parse(severity)
    found_at = check_time(found_at, "The time it was found")
    if ticket is not None and ticket.release_id != release.pk:
        raise ValidationFailed(f"Ticket {ticket.key} is not in release {release.version}.")
    defect = EscapedDefect.objects.create(
        release=release,
        ticket=ticket,
        key=key,
        title=title,
        severity=level,
        found_at=found_at,
        reported_by=person(actor),
    )
    audit_record(
        actor=actor,
        action="escaped_defect.recorded",
        obj=defect,
        project=release.project_id,
        release=release,
        data={"key": key, "severity": f"SEV{level}", "ticket": ticket.pk if ticket else None},
    )
    return defect
