"""Periodic clean-up of idempotency keys."""

from __future__ import annotations

from celery import current_app as app
from celery import shared_task

from integrations.idempotency import ttl
from integrations.services import idempotency_keys_purge

# Hourly is plenty: keys only need to outlive their 24 hours, not vanish on the dot.
PURGE_INTERVAL_SECONDS = 3600.0


@shared_task
def idempotency_keys_purge_task() -> int:
    """Forget idempotency keys older than their time to live (at least 24 hours). Safe to run twice."""
    return idempotency_keys_purge(older_than=ttl())


app.conf.beat_schedule["integrations-idempotency-keys-purge"] = {
    "task": "integrations.tasks.idempotency_keys_purge_task",
    "schedule": PURGE_INTERVAL_SECONDS,
}
