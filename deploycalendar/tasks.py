"""Periodic work of the release calendar (thin: the rules live in ``deploycalendar.services``)."""

from __future__ import annotations

from celery import current_app as app
from celery import shared_task

# A window opens on the minute; half a minute keeps a queued promotion within a minute of it.
QUEUE_CHECK_SECONDS = 30.0


@shared_task(ignore_result=True)
def queue_run() -> int:
    """Start every queued promotion whose window has opened (safe to run on many workers)."""
    from deploycalendar.services import queue_run_due

    return queue_run_due()


@shared_task(ignore_result=True)
def queue_start_one(item_id: int) -> str:
    from deploycalendar.services import queue_start

    return queue_start(item_id=item_id)


app.conf.beat_schedule["deploycalendar-queue"] = {
    "task": "deploycalendar.tasks.queue_run",
    "schedule": QUEUE_CHECK_SECONDS,
    "options": {"expires": QUEUE_CHECK_SECONDS},
}
