"""Statuses of flags' rollout plans and their steps, with the allowed transitions.

A plan::

    draft ──start──► running ──(step passed, auto)──► running (next step) … ──► completed
                       │  ├──(step passed, manual / inconclusive)──► waiting ──advance──► running
                       │  └──(step failed)──► paused ──resume──► running
                       ├──pause──► paused
                       └──abort──► aborted (0 %)
"""

from django.db import models


class Stickiness(models.TextChoices):
    USER_ID = "userId", "User id"
    SESSION_ID = "sessionId", "Session id"


class PlanStatus(models.TextChoices):
    DRAFT = "draft", "Not started"
    RUNNING = "running", "Running"
    WAITING = "waiting", "Waiting for a person"
    PAUSED = "paused", "Paused"
    COMPLETED = "completed", "Completed"
    ABORTED = "aborted", "Aborted"


PLAN_TRANSITIONS: dict[str, frozenset[str]] = {
    PlanStatus.DRAFT: frozenset({PlanStatus.RUNNING, PlanStatus.ABORTED, PlanStatus.COMPLETED}),
    PlanStatus.RUNNING: frozenset(
        {
            PlanStatus.RUNNING,
            PlanStatus.WAITING,
            PlanStatus.PAUSED,
            PlanStatus.COMPLETED,
            PlanStatus.ABORTED,
        }
    ),
    PlanStatus.WAITING: frozenset(
        {PlanStatus.RUNNING, PlanStatus.PAUSED, PlanStatus.COMPLETED, PlanStatus.ABORTED}
    ),
    PlanStatus.PAUSED: frozenset({PlanStatus.RUNNING, PlanStatus.COMPLETED, PlanStatus.ABORTED}),
    PlanStatus.COMPLETED: frozenset(),
    PlanStatus.ABORTED: frozenset(),
}
PLAN_OPEN_STATES = frozenset({PlanStatus.RUNNING, PlanStatus.WAITING, PlanStatus.PAUSED})


class StepStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    WATCHING = "watching", "Watching"
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"
    INCONCLUSIVE = "inconclusive", "Inconclusive"
    ADVANCED = "advanced", "Advanced by a person"
    SKIPPED = "skipped", "Skipped"
    STOPPED = "stopped", "Stopped"


class FlagSource(models.TextChoices):
    SHIPCHECK = "shipcheck", "Shipcheck"
    UNLEASH = "unleash", "Unleash"


class HookStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


# The steps a new plan gets: the rollout the seeds describe (10 → 25 → 50 → 100 %).
DEFAULT_STEPS = (10, 25, 50, 100)
