"""Reads of incidents, post-mortems and release closings, narrowed to what the reader may see.

Every selector here uses a constant number of queries however long the timeline or the
list (tests/incidents/test_pages.py asserts it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from audit.models import AuditEvent
from core.exceptions import NotFound
from incidents.choices import SEVERE, IncidentState, PostMortemState
from incidents.models import (
    ActionItem,
    Incident,
    IncidentDetails,
    PostMortem,
    StatusUpdate,
    TimelineEntry,
)
from projects.models import Membership
from projects.principals import is_token

# How far before the start the timeline looks for what led to the incident.
LOOKBACK = timedelta(minutes=30)

# Audit actions that belong on an incident's timeline (prefixes): deployments and rollbacks,
# verdicts and decisions of monitoring windows, release status changes, flag changes,
# approvals and emergency reviews, and the incident's own changes.
TIMELINE_PREFIXES = (
    "deployment.",
    "monitoring.window_",
    "monitoring.decision",
    "monitoring.canary_promoted",
    "release.status_changed",
    "release.marked_emergency",
    "release.created",
    "flag",
    "approval.",
    "approvals.",
    "emergency_review.",
)


def visible_project_ids(user: Any) -> list[int]:
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    if is_token(user):
        if not user.has_scope("read") and not user.has_scope("deployments"):
            return []
        return [user.api_token.project_id]
    return list(
        Membership.objects.filter(user=user).values_list("project_id", flat=True).distinct()
    )


def incident_list(*, user: Any, filters: dict[str, Any] | None = None) -> QuerySet[Incident]:
    """Incidents of the projects ``user`` may see, with what a list row shows."""
    filters = filters or {}
    qs = Incident.objects.filter(project_id__in=visible_project_ids(user)).select_related(
        "project", "environment", "cause_release", "details__commander"
    )
    if filters.get("project"):
        qs = qs.filter(project__slug=filters["project"])
    state = filters.get("state")
    if state == "open":
        qs = qs.exclude(state=IncidentState.RESOLVED)
    elif state in IncidentState.values:
        qs = qs.filter(state=state)
    if str(filters.get("severity") or "").isdigit():
        qs = qs.filter(severity=int(filters["severity"]))
    if str(filters.get("release") or "").isdigit():
        qs = qs.filter(cause_release_id=int(filters["release"]))
    return qs


def incident_get(*, user: Any, pk: int) -> Incident:
    """One incident with its details, people, updates, entries and post-mortem (prefetched)."""
    incident = (
        incident_list(user=user)
        .select_related(
            "cause_deployment__environment",
            "details__hotfix_release",
            "details__monitoring_window",
            "details__mitigation_decided_by",
        )
        .prefetch_related(
            "details__responders",
            Prefetch("updates", queryset=StatusUpdate.objects.select_related("author")),
        )
        .filter(pk=pk)
        .first()
    )
    if incident is None:
        raise NotFound("No such incident.")
    return incident


def details_of(incident: Incident) -> IncidentDetails:
    try:
        return incident.details
    except IncidentDetails.DoesNotExist:
        return IncidentDetails(incident=incident)


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    text: str
    who: str
    automatic: bool
    kind: str  # state, update, deployment, verdict, rollback, flag, approval, entry, other
    detail: str = ""


def _kind(action: str) -> str:
    if action.startswith("incident.update"):
        return "update"
    if action.startswith("incident."):
        return "state"
    if action == "deployment.rolled_back" or action.endswith("rolled_back"):
        return "rollback"
    if action.startswith("deployment."):
        return "deployment"
    if action.startswith("monitoring."):
        return "verdict"
    if action.startswith("flag"):
        return "flag"
    if action.startswith(("approval", "emergency_review")):
        return "approval"
    return "other"


def _describe(event: AuditEvent) -> str:
    verb = event.action.split(".", 1)[-1].replace("_", " ")
    noun = event.object_repr or event.object_type
    if event.action.startswith("incident."):
        if event.action == "incident.opened":
            return "Incident opened, investigating."
        if event.to_state and event.from_state:
            return f"State: {event.from_state} → {event.to_state}."
        return f"{verb.capitalize()}."
    text = f"{noun}: {verb}"
    if event.from_state and event.to_state:
        text += f" ({event.from_state} → {event.to_state})"
    return text + "."


def timeline_window(incident: Incident) -> tuple[datetime, datetime]:
    start = incident.started_at - LOOKBACK
    deployment = incident.cause_deployment
    if deployment is not None and deployment.started_at and deployment.started_at < start:
        start = deployment.started_at
    end = (incident.resolved_at or timezone.now()) + timedelta(minutes=1)
    return start, end


def incident_timeline(incident: Incident) -> list[TimelineItem]:
    """Everything that happened in the incident's window, in order. Three queries.

    Automatic items come from the project's audit trail (deployments, verdicts,
    rollbacks, flag changes, approvals, and the incident's own state changes); status
    updates come with their text; people's entries are marked as not automatic.
    """
    start, end = timeline_window(incident)
    prefix_q = Q()
    for prefix in TIMELINE_PREFIXES:
        prefix_q |= Q(action__startswith=prefix)
    own = Q(object_type="incidents.incident", object_id=str(incident.pk)) & ~Q(
        action__in=["incident.update_posted", "incident.timeline_entry_added"]
    )
    events = AuditEvent.objects.filter(
        Q(project_id=incident.project_id, created_at__gte=start, created_at__lte=end)
        & (prefix_q | own)
    ).order_by("created_at", "seq")
    items: list[TimelineItem] = [
        TimelineItem(
            at=e.created_at,
            text=_describe(e),
            who=e.actor_label,
            automatic=True,
            kind=_kind(e.action),
            detail=e.reason,
        )
        for e in events.only(
            "created_at",
            "action",
            "object_repr",
            "object_type",
            "from_state",
            "to_state",
            "reason",
            "actor_label",
        )[:500]
    ]
    items += [
        TimelineItem(
            at=u.created_at,
            text=f"Status update ({u.get_state_display()})",
            who=u.author_label,
            automatic=False,
            kind="update",
            detail=u.body,
        )
        for u in incident.updates.all()
    ]
    items += [
        TimelineItem(at=t.at, text=t.text, who=t.author_label, automatic=False, kind="entry")
        for t in TimelineEntry.objects.filter(incident=incident)
    ]
    items.sort(key=lambda i: i.at)
    return items


def postmortem_list(*, user: Any) -> QuerySet[PostMortem]:
    return PostMortem.objects.filter(project_id__in=visible_project_ids(user)).select_related(
        "project", "incident", "release"
    )


def postmortem_get(*, user: Any, pk: int) -> PostMortem:
    postmortem = (
        postmortem_list(user=user)
        .select_related("deployment__environment", "emergency_review", "reviewed_by")
        .prefetch_related(Prefetch("items", queryset=ActionItem.objects.select_related("owner")))
        .filter(pk=pk)
        .first()
    )
    if postmortem is None:
        raise NotFound("No such post-mortem.")
    return postmortem


def overdue_items(*, user: Any, today: date | None = None) -> QuerySet[ActionItem]:
    """Open action items past their due date in the projects ``user`` sees."""
    today = today or timezone.localdate()
    return (
        ActionItem.objects.filter(
            postmortem__project_id__in=visible_project_ids(user),
            done_at__isnull=True,
            due_on__lt=today,
        )
        .select_related("owner", "postmortem__release", "postmortem__project")
        .order_by("due_on", "id")
    )


def overdue_postmortems(
    *, project_ids: list[int], today: date | None = None
) -> QuerySet[PostMortem]:
    today = today or timezone.localdate()
    return (
        PostMortem.objects.filter(project_id__in=project_ids, due_on__lt=today)
        .exclude(state__in=[PostMortemState.REVIEWED, PostMortemState.CLOSED])
        .select_related("release", "project")
    )


def open_severe(*, release_ids: list[int]) -> QuerySet[Incident]:
    return (
        Incident.objects.filter(cause_release_id__in=release_ids, severity__in=sorted(SEVERE))
        .exclude(state=IncidentState.RESOLVED)
        .select_related("project")
    )
