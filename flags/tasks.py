"""Celery tasks of the flags app: thin, ids in, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from flags import services


@shared_task(ignore_result=True)
def tick() -> dict:
    """Sent by the scheduler every few seconds: poll due rollout steps, conclude ended ones."""
    report = services.flags_tick()
    return {"polled": report.polled, "concluded": report.concluded, "failed": report.failed}


@shared_task(ignore_result=True)
def hook_send(call_id: int) -> None:
    services.plan_hook_send(call_id=call_id)


def schedule(app) -> None:
    """Add the flags tick to the scheduler (beside monitoring's, at the same period)."""
    from monitoring.conf import tick_seconds

    every = tick_seconds()
    app.conf.beat_schedule = {
        **(app.conf.beat_schedule or {}),
        "flags-tick": {
            "task": "flags.tasks.tick",
            "schedule": every,
            "options": {"expires": max(every * 5, 10.0)},
        },
    }
