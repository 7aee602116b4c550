"""Celery tasks: thin wrappers over notifications.services. All are safe to run twice."""

from __future__ import annotations

from celery import shared_task

from notifications import services


@shared_task(ignore_result=True)
def deliver(delivery_id: int) -> str:
    """Send one outbox row (claimed first: a row another worker holds is skipped)."""
    return services.delivery_attempt(delivery_id=delivery_id)


@shared_task(ignore_result=True)
def sweep() -> int:
    """Deliver, in claimed batches, rows that are due and held by nobody: a backlog, lost
    messages, retries whose message was lost, rows of a worker that died mid-send."""
    return services.deliveries_drain()


@shared_task(ignore_result=True)
def digest() -> int:
    """Once a day: one e-mail per person and project with everything they chose to hear later."""
    return services.digest_send()


def schedule(app) -> None:
    """Add the notifications entries to the scheduler (a new dict; the settings' one is left alone)."""
    from notifications.conf import DIGEST_SECONDS, SWEEP_SECONDS

    app.conf.beat_schedule = {
        **(app.conf.beat_schedule or {}),
        "notifications-sweep": {
            "task": "notifications.tasks.sweep",
            "schedule": SWEEP_SECONDS,
            "options": {"expires": SWEEP_SECONDS * 2},
        },
        "notifications-digest": {
            "task": "notifications.tasks.digest",
            "schedule": DIGEST_SECONDS,
        },
    }
