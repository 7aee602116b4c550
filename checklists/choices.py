"""Statuses of checklist items and template versions, the phases a step gates.

Item lifecycle (a release's copy):

    open ──tick──► done
      │  ◄─untick──┘
      └──not applicable──► not_applicable ──restore──► open

Template versions: ``draft`` (one at a time, editable) ──publish──► ``published``
(immutable; releases copy the newest published version).
"""

from django.db import models

from projects.choices import Role, Tier


class ItemStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    NOT_APPLICABLE = "not_applicable", "Not applicable"


ITEM_TRANSITIONS: dict[str, frozenset[str]] = {
    ItemStatus.OPEN: frozenset({ItemStatus.DONE, ItemStatus.NOT_APPLICABLE}),
    ItemStatus.DONE: frozenset({ItemStatus.OPEN}),
    ItemStatus.NOT_APPLICABLE: frozenset({ItemStatus.OPEN}),
}

# Items in these states count towards a step being complete.
ITEM_RESOLVED_STATES = frozenset({ItemStatus.DONE, ItemStatus.NOT_APPLICABLE})


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


class StepPhase(models.TextChoices):
    """When a step must be complete: before the release enters an environment tier, or after production."""

    BEFORE_DEVELOPMENT = "before_development", "Before development"
    BEFORE_STAGING = "before_staging", "Before staging"
    BEFORE_PRODUCTION = "before_production", "Before production"
    AFTER_PRODUCTION = "after_production", "After production"


# The environment tier a phase gates; "after production" gates no promotion.
PHASE_TIER: dict[str, str] = {
    StepPhase.BEFORE_DEVELOPMENT: Tier.DEVELOPMENT,
    StepPhase.BEFORE_STAGING: Tier.STAGING,
    StepPhase.BEFORE_PRODUCTION: Tier.PRODUCTION,
}

# Roles that may own an item. Auditors read; they never tick.
ITEM_ROLES = [(value, label) for value, label in Role.choices if value != Role.AUDITOR]
ITEM_ROLE_VALUES = frozenset(value for value, _ in ITEM_ROLES)

# Where a template's step or item moves in the editor: one place up or down.
MOVE_DIRECTIONS = [("up", "Up"), ("down", "Down")]
