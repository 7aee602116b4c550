"""The demo's release calendar: Storefront's production windows and freezes, planned releases,
a queued promotion and one override (``docs/calendar.md``).

Played last, after every production deployment of the story, so the windows and freezes never
stand in the way of what the story told before. Times of the one-off freezes are set around the
moment the demo is seeded, so the queue and the override have something to wait for or break
through. Creates nothing on a second run.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from demo.releases import DemoContext
from deploycalendar.models import (
    DeployWindow,
    Freeze,
    Override,
    QueuedPromotion,
    ScheduledDeployment,
)
from deploycalendar.services import (
    freeze_create,
    override_grant,
    queue_add,
    schedule_set,
    window_create,
)

BERLIN = "Europe/Berlin"


def _next(weekday: int, at: time) -> datetime:
    """The next ``weekday`` (0 = Monday) at ``at`` in Berlin, at least a day ahead."""
    zone = ZoneInfo(BERLIN)
    day = timezone.now().astimezone(zone).date() + timedelta(days=1)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return datetime.combine(day, at, tzinfo=zone)


def _wall(moment: datetime, tz: str) -> str:
    return moment.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%dT%H:%M")


def seed(ctx: DemoContext) -> None:
    storefront, mobile = ctx.project, ctx.other_project
    people = ctx.people
    production = storefront.environments.get(name="production")
    rita, cora, otto = people["rita"], people["cora"], people["otto"]
    created = 0
    if not DeployWindow.objects.filter(environment=production).exists():
        window_create(
            environment=production,
            actor=rita,
            name="Production hours",
            start="2026-01-06T10:00",
            end="2026-01-06T16:00",
            time_zone=BERLIN,
            rrule="FREQ=WEEKLY;BYDAY=TU,WE,TH",
        )
        window_create(
            environment=production,
            actor=rita,
            name="Sunday maintenance",
            kind="maintenance",
            release_types=["major"],
            start="2026-01-04T02:00",
            end="2026-01-04T04:00",
            time_zone=BERLIN,
            rrule="FREQ=WEEKLY;BYDAY=SU",
        )
        created += 2
    if not Freeze.objects.filter(environment=production).exists():
        freeze_create(
            environment=production,
            actor=rita,
            name="Weekend freeze",
            reason="Nobody is on call for Storefront at weekends.",
            start="2026-01-02T17:00",
            end="2026-01-05T06:00",
            time_zone=BERLIN,
            rrule="FREQ=WEEKLY;BYDAY=FR",
        )
        freeze_create(
            environment=production,
            actor=rita,
            name="Year-end freeze",
            reason="Peak sales and holidays: no production changes.",
            start="2025-12-20T00:00",
            end="2026-01-05T06:00",
            time_zone=BERLIN,
            rrule="FREQ=YEARLY",
        )
        created += 2
    # Planned production slots for the next releases (in a window).
    plans = {"2.4.0": _next(1, time(11, 0)), "2.5.0": _next(3, time(14, 0))}
    for version, planned in plans.items():
        release = ctx.releases.get(version)
        if release is not None and not ScheduledDeployment.objects.filter(release=release).exists():
            schedule_set(release=release, environment=production, planned_at=planned, actor=rita)
            created += 1
    # Storefront's staging is frozen for a load test; Cora lets 2.4.0 in, since the load test
    # is meant to run on exactly that release candidate.
    staging = storefront.environments.get(name="staging")
    candidate = ctx.releases.get("2.4.0")
    if candidate is not None and not Override.objects.filter(release=candidate).exists():
        now = timezone.now()
        if not Freeze.objects.filter(environment=staging, name="Staging load test").exists():
            freeze_create(
                environment=staging,
                actor=rita,
                name="Staging load test",
                reason="The load test owns staging.",
                start=_wall(now - timedelta(hours=1), BERLIN),
                end=_wall(now + timedelta(hours=6), BERLIN),
                time_zone=BERLIN,
            )
        override_grant(
            release=candidate,
            environment=staging,
            actor=cora,
            reason="The load test must run on the 2.4.0 release candidate itself.",
        )
        created += 2
    # Mobile App's build farm moves: its dev environment is frozen for two days, and Otto
    # queued 1.9.0 to start there by itself when the freeze ends.
    dev = mobile.environments.get(name="dev")
    dark_mode = mobile.releases.filter(version="1.9.0").first()
    if dark_mode is not None and not QueuedPromotion.objects.filter(release=dark_mode).exists():
        now = timezone.now()
        if not Freeze.objects.filter(environment=dev).exists():
            freeze_create(
                environment=dev,
                actor=otto,
                name="Build farm migration",
                reason="The build farm moves to the new data centre.",
                start=_wall(now - timedelta(hours=1), "UTC"),
                end=_wall(now + timedelta(days=2), "UTC"),
                time_zone="UTC",
            )
        queue_add(release=dark_mode, environment=dev, actor=otto)
        created += 2
    if ctx.stdout is not None and created:
        ctx.stdout.write(
            "Calendar: production windows and freezes, planned releases, a queued promotion, "
            "an override."
        )
