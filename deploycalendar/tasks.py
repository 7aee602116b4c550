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


# A reminder a day ahead needs no more precision than a quarter of an hour.
REMINDER_CHECK_SECONDS = 15 * 60.0


@shared_task(ignore_result=True)
def reminders_send() -> int:
    """Remind the release's people a day before a planned production deployment (once each)."""
    from deploycalendar.services import schedule_reminders_send

    return schedule_reminders_send()


app.conf.beat_schedule["deploycalendar-reminders"] = {
    "task": "deploycalendar.tasks.reminders_send",
    "schedule": REMINDER_CHECK_SECONDS,
    "options": {"expires": REMINDER_CHECK_SECONDS},
}
