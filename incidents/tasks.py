"""Periodic work of the incidents app (thin: the rules live in ``incidents.services``)."""

from __future__ import annotations

import os
from typing import Any

from celery import shared_task
from django.core.exceptions import ImproperlyConfigured

# Updates are due every 20 minutes by default; a check each minute reminds within one.
DEFAULT_CHECK_SECONDS = 60.0


def check_seconds() -> float:
    """How often the beat looks for overdue updates: ``SHIPCHECK_INCIDENT_CHECK`` seconds."""
    raw = os.environ.get("SHIPCHECK_INCIDENT_CHECK", "").strip()
    if not raw:
        return DEFAULT_CHECK_SECONDS
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(
            f"SHIPCHECK_INCIDENT_CHECK must be a number of seconds, got {raw!r}"
        ) from None
    if not 0.1 <= value <= 3600:
        raise ImproperlyConfigured(
            f"SHIPCHECK_INCIDENT_CHECK must be between 0.1 and 3600 seconds, got {value}"
        )
    return value


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
