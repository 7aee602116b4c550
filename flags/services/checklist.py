"""Ticking a release's feature-flag checklist items from a rollout plan, with the plan as evidence.

The items are found by their words ("feature flag", "gradual rollout", "plan …
rollout"); each open one is ticked through the checklists service (so its
rules hold: people only, the item's role or the release manager, audit
``checklist.item_ticked``) with the plan as evidence and its state as the note.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction

from checklists.choices import ItemStatus
from checklists.models import Item
from checklists.services import item_tick
from core.exceptions import Conflict
from flags.choices import PlanStatus
from flags.models import RolloutPlan

FLAG_ITEM = re.compile(r"feature[- ]flag|gradual rollout|plan\b.*\brollout", re.IGNORECASE)


def plan_flag_items(plan: RolloutPlan) -> list[Item]:
    """The open checklist items of the plan's release that are about feature flags."""
    items = Item.objects.filter(checklist__release_id=plan.release_id, status=ItemStatus.OPEN)
    return [
        item for item in items.select_related("checklist__release") if FLAG_ITEM.search(item.text)
    ]


@transaction.atomic
def plan_checklist_tick(*, plan: RolloutPlan, actor: Any) -> list[Item]:
    """Tick every open flag item of the release with the plan as evidence (a started plan only)."""
    if plan.status == PlanStatus.DRAFT:
        raise Conflict(
            "Start the rollout plan first: a plan that has not started proves nothing yet."
        )
    evidence = f"Shipcheck rollout plan {plan.pk}"
    note = (
        f"Rollout of {plan.flag_key} in {plan.environment.name}: "
        f"{plan.get_status_display().lower()} at {plan.current_percent} %."
    )
    return [
        item_tick(item=item, actor=actor, note=note, evidence=evidence)
        for item in plan_flag_items(plan)
    ]
