"""Statuses and the transitions allowed between them.

Release lifecycle:

    planned ──► in_progress ──► released ──► rolled_back
       │             │  ▲                        │
       │             │  └────────────────────────┘ (redeploy after a rollback)
       └─────────────┴──► cancelled (terminal)

A release becomes *in progress* when its first deployment starts, *released*
when production accepts it, *rolled back* when production is reverted.
"""

from django.db import models


class ReleaseType(models.TextChoices):
    MAJOR = "major", "Major"
    MINOR = "minor", "Minor"
    PATCH = "patch", "Patch"
    HOTFIX = "hotfix", "Hotfix"
    SECURITY = "security", "Security"
    BETA = "beta", "Beta"


class ReleaseStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    RELEASED = "released", "Released"
    ROLLED_BACK = "rolled_back", "Rolled back"
    CANCELLED = "cancelled", "Cancelled"


RELEASE_TRANSITIONS: dict[str, frozenset[str]] = {
    ReleaseStatus.PLANNED: frozenset({ReleaseStatus.IN_PROGRESS, ReleaseStatus.CANCELLED}),
    ReleaseStatus.IN_PROGRESS: frozenset(
        {ReleaseStatus.RELEASED, ReleaseStatus.ROLLED_BACK, ReleaseStatus.CANCELLED}
    ),
    ReleaseStatus.RELEASED: frozenset({ReleaseStatus.ROLLED_BACK}),
    ReleaseStatus.ROLLED_BACK: frozenset({ReleaseStatus.IN_PROGRESS, ReleaseStatus.CANCELLED}),
    ReleaseStatus.CANCELLED: frozenset(),
}

# A release in one of these states may not be deployed anywhere.
RELEASE_CLOSED_STATES = frozenset({ReleaseStatus.CANCELLED, ReleaseStatus.RELEASED})


class DeploymentStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    IN_PROGRESS = "in_progress", "In progress"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    ROLLED_BACK = "rolled_back", "Rolled back"


DEPLOYMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    DeploymentStatus.PENDING: frozenset({DeploymentStatus.IN_PROGRESS, DeploymentStatus.FAILED}),
    DeploymentStatus.IN_PROGRESS: frozenset({DeploymentStatus.SUCCEEDED, DeploymentStatus.FAILED}),
    DeploymentStatus.SUCCEEDED: frozenset({DeploymentStatus.ROLLED_BACK, DeploymentStatus.FAILED}),
    DeploymentStatus.FAILED: frozenset({DeploymentStatus.ROLLED_BACK}),
    DeploymentStatus.ROLLED_BACK: frozenset(),
}

# How a running deployment ends, in every endpoint that records it (docs/api.md).
DEPLOYMENT_FINISH_CHOICES = [
    (DeploymentStatus.SUCCEEDED.value, DeploymentStatus.SUCCEEDED.label),
    (DeploymentStatus.FAILED.value, DeploymentStatus.FAILED.label),
]

# Deployments that occupy their environment: only one at a time per environment.
DEPLOYMENT_ACTIVE_STATES = frozenset({DeploymentStatus.PENDING, DeploymentStatus.IN_PROGRESS})


class DeploymentStrategy(models.TextChoices):
    ALL_AT_ONCE = "all_at_once", "All at once"
    CANARY = "canary", "Canary, then full rollout"


class GateState(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"
    WAIVED = "waived", "Waived"
