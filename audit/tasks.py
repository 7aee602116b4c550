"""Periodic checkpoints of the audit chain (thin: the work is in audit.checkpoints)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from config.celery import app


@shared_task
def audit_checkpoint_take_task() -> int:
    """Sign the chain heads; does nothing when no event is newer than the last checkpoint."""
    from audit.checkpoints import audit_checkpoint_take

    return len(audit_checkpoint_take())


app.conf.beat_schedule["audit-checkpoint"] = {
    "task": "audit.tasks.audit_checkpoint_take_task",
    "schedule": float(settings.SHIPCHECK_AUDIT_CHECKPOINT_SECONDS),
}
