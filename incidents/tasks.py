"""Periodic work of the incidents app (thin: the rules live in ``incidents.services``)."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings

# Updates are due every 20 minutes by default; a check each minute reminds within one.
DEFAULT_CHECK_SECONDS = 60.0


def check_seconds() -> float:
    return float(getattr(settings, "SHIPCHECK_INCIDENT_CHECK_SECONDS", DEFAULT_CHECK_SECONDS))


@shared_task(ignore_result=True)
def updates_overdue_check() -> int:
    """Remind commanders of open SEV1/SEV2 incidents whose status update is overdue."""
    from incidents.services import overdue_updates_remind

    return overdue_updates_remind()


def schedule(app: Any) -> None:
    """Add the reminder to the scheduler (a new dict; the settings' one is left alone)."""
    every = check_seconds()
    app.conf.beat_schedule = {
        **(app.conf.beat_schedule or {}),
        # A missed check is useless once the next one ran, so stale ones expire.
        "incidents-updates-overdue": {
            "task": "incidents.tasks.updates_overdue_check",
            "schedule": every,
            "options": {"expires": max(every * 5, 10.0)},
        },
    }
