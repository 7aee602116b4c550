"""The iCalendar feed (RFC 5545), written with ``icalendar``.

Each window and freeze is one VEVENT with DTSTART/DTEND in its TZID, its RRULE and EXDATEs, so
a calendar program expands it exactly as ``deploycalendar.rules`` does; each deployment is a
VEVENT of its own (a cancelled release's: STATUS:CANCELLED, kept, not dropped). UIDs come from
the rows, DTSTAMP from when the row last changed, SEQUENCE from the row's change count.
Expansion is the calendar program's: the feed holds rules, never an unbounded list.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Calendar, Event

from deploycalendar.models import DeployWindow, Freeze
from deploycalendar.rules import zone_get
from releases.choices import ReleaseStatus

# How far back deployments are listed: a feed stays small and calendar programs re-read it often.
DEPLOYMENTS_SINCE = timedelta(days=180)
PRODID = "-//Shipcheck//Release calendar//EN"


def _rule_event(row: DeployWindow | Freeze, host: str) -> Event:
    rule = row.as_rule()
    zone = zone_get(rule.tz)
    kind = "freeze" if isinstance(row, Freeze) else "window"
    event = Event()
    event.add("uid", f"{kind}-{row.pk}@{host}")
    event.add("dtstamp", row.updated_at)
    event.add("sequence", row.sequence)
    event.add("dtstart", rule.start.replace(tzinfo=zone))
    event.add("dtend", rule.end.replace(tzinfo=zone))
    env = row.environment
    scope = f"{env.project.name} {env.name}" if env is not None else "every project, production"
    if isinstance(row, Freeze):
        event.add("summary", f"Freeze: {row.name} ({scope})")
        if row.reason:
            event.add("description", row.reason)
    else:
        label = "Maintenance window" if row.kind == "maintenance" else "Deploy window"
        event.add("summary", f"{label}: {row.name} ({scope})")
    event.add("transp", "TRANSPARENT")
    if rule.rrule:
        event.add("rrule", _rrule_dict(rule.rrule))
    for exdate in rule.exdates:
        event.add("exdate", exdate.replace(tzinfo=zone))
    if row.removed_at is not None:
        event.add("status", "CANCELLED")
    return event


def _rrule_dict(text: str) -> dict:
    from icalendar import vRecur

    return vRecur.from_ical(text.removeprefix("RRULE:"))


def _deployment_event(deployment, host: str) -> Event:
    release = deployment.release
    event = Event()
    event.add("uid", f"deployment-{deployment.pk}@{host}")
    moments = [deployment.created_at, deployment.started_at, deployment.finished_at]
    changed = max([m for m in moments if m is not None] + [release.updated_at])
    event.add("dtstamp", changed)
    event.add("sequence", _sequence(deployment, release))
    start = deployment.created_at
    end = deployment.finished_at or start + timedelta(minutes=30)
    event.add("dtstart", start)
    event.add("dtend", max(end, start + timedelta(minutes=1)))
    event.add(
        "summary",
        f"{release.project.name} {release.version} → {deployment.environment.name} "
        f"({deployment.get_status_display().lower()})",
    )
    event.add("url", f"https://{host}{release.get_absolute_url()}")
    event.add("status", "CANCELLED" if release.status == ReleaseStatus.CANCELLED else "CONFIRMED")
    return event


def _sequence(deployment, release) -> int:
    # Each change of status raises it: the deployment's and the release's statuses both count.
    order = ["pending", "in_progress", "succeeded", "failed", "rolled_back"]
    step = order.index(deployment.status) if deployment.status in order else len(order)
    return step + (1 if release.status == ReleaseStatus.CANCELLED else 0)


def feed_calendar(*, name: str, windows, freezes, deployments, host: str) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    for row in (*freezes, *windows):
        calendar.add_component(_rule_event(row, host))
    for deployment in deployments:
        calendar.add_component(_deployment_event(deployment, host))
    calendar.add_missing_timezones()
    return calendar.to_ical()


def feed_rows(*, user, project=None, mine: bool = False, now: datetime):
    """Windows, freezes and deployments for a feed: three queries whatever their number."""
    from django.db.models import Q

    from projects.selectors import project_list
    from releases.models import Deployment

    ids = list(project_list(user=user).values_list("pk", flat=True))
    if project is not None:
        ids = [i for i in ids if i == project.pk]
    windows = list(
        DeployWindow.objects.filter(environment__project_id__in=ids).select_related(
            "environment__project"
        )
    )
    freezes = list(
        Freeze.objects.filter(
            Q(environment__project_id__in=ids) | Q(environment__isnull=True)
        ).select_related("environment__project")
    )
    deployments = Deployment.objects.filter(
        release__project_id__in=ids, created_at__gte=now - DEPLOYMENTS_SINCE
    )
    if mine:
        deployments = deployments.filter(Q(release__release_manager=user) | Q(deployed_by=user))
    return (
        windows,
        freezes,
        list(
            deployments.select_related("release__project", "environment").order_by("created_at")[
                :2000
            ]
        ),
    )
