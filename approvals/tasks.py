"""Periodic work of the approvals app (thin: the rules live in ``approvals.services``)."""

from __future__ import annotations

from celery import current_app as app
from celery import shared_task

# Overdue reviews are a matter of hours; a quarter of an hour is prompt enough.
REVIEW_CHECK_SECONDS = 15 * 60.0


@shared_task(ignore_result=True)
def emergency_reviews_check() -> int:
    """Tell people about post-implementation reviews that became overdue (each one once)."""
    from approvals.services import emergency_reviews_overdue_notify

    return emergency_reviews_overdue_notify()


app.conf.beat_schedule["approvals-emergency-reviews"] = {
    "task": "approvals.tasks.emergency_reviews_check",
    "schedule": REVIEW_CHECK_SECONDS,
    "options": {"expires": REVIEW_CHECK_SECONDS},
}
