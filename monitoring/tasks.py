"""Celery tasks: thin wrappers that take ids and call one service. All are safe to run twice."""

from __future__ import annotations

from celery import shared_task

from monitoring import services


@shared_task(ignore_result=True)
def tick() -> dict:
    """Sent by the scheduler every few seconds: claim and poll due slots, conclude ended windows."""
    report = services.monitoring_tick()
    return {
        "claimed": report.claimed,
        "polled": report.polled,
        "gaps": report.gaps,
        "concluded": report.concluded,
    }


@shared_task(ignore_result=True)
def baselines_take(deployment_id: int) -> None:
    services.baselines_take(deployment_id=deployment_id)


@shared_task(ignore_result=True)
def hook_send(call_id: int) -> None:
    services.hook_call_send(call_id=call_id)


@shared_task(ignore_result=True)
def prechecks_refresh() -> None:
    services.precheck_refresh_due()


def schedule(app) -> None:
    """Add the monitoring entries to the scheduler (a new dict; the settings' one is left alone)."""
    from monitoring.conf import PRECHECK_REFRESH_SECONDS, tick_seconds

    every = tick_seconds()
    app.conf.beat_schedule = {
        **(app.conf.beat_schedule or {}),
        # A tick nobody ran within a few periods is useless (the next one does its
        # work), so stale ticks expire instead of running in a burst after a restart.
        "monitoring-tick": {
            "task": "monitoring.tasks.tick",
            "schedule": every,
            "options": {"expires": max(every * 5, 10.0)},
        },
        "monitoring-prechecks": {
            "task": "monitoring.tasks.prechecks_refresh",
            "schedule": PRECHECK_REFRESH_SECONDS,
            "options": {"expires": PRECHECK_REFRESH_SECONDS},
        },
    }
