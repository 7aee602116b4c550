"""Kinds and statuses of the release calendar."""

from datetime import timedelta

from django.db import models


class WindowKind(models.TextChoices):
    ALLOWED = "allowed", "Deploy window"
    MAINTENANCE = "maintenance", "Maintenance window"


class QueueStatus(models.TextChoices):
    WAITING = "waiting", "Waiting for the window"
    STARTING = "starting", "Starting"
    STARTED = "started", "Started"
    FAILED = "failed", "Could not start"
    CANCELLED = "cancelled", "Cancelled"


# A queued promotion leaves "waiting" once: a worker claims it (starting) or a person cancels it.
QUEUE_TRANSITIONS: dict[str, set[str]] = {
    QueueStatus.WAITING: {QueueStatus.STARTING, QueueStatus.CANCELLED},
    QueueStatus.STARTING: {QueueStatus.STARTED, QueueStatus.FAILED},
}

# Two plans for one environment closer than this are a conflict (a deployment and its watch).
CONFLICT_SPAN = timedelta(hours=1)
