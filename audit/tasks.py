"""Periodic checkpoints of the audit chain (thin: the work is in audit.checkpoints)."""

from __future__ import annotations

from celery import current_app as app
from celery import shared_task
from django.conf import settings


@shared_task
def audit_checkpoint_take_task() -> int:
    """Sign the chain heads; does nothing when no event is newer than the last checkpoint."""
    import logging

    from audit.checkpoints import AuditTampered, audit_checkpoint_take

    try:
        return len(audit_checkpoint_take())
    except AuditTampered as exc:
        # Refusing to vouch for a forged row is the point; say so loudly, sign nothing.
        logging.getLogger("shipcheck.audit.checkpoint").critical("%s", exc)
        return 0


app.conf.beat_schedule["audit-checkpoint"] = {
    "task": "audit.tasks.audit_checkpoint_take_task",
    "schedule": float(settings.SHIPCHECK_AUDIT_CHECKPOINT_SECONDS),
}
