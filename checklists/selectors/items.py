"""Reading items and steps: the gates' steps, one item or step for a write, my open items."""

from __future__ import annotations

from collections import defaultdict
from typing import cast

from django.contrib.auth.models import User
from django.db.models import Q

from checklists.choices import ITEM_RESOLVED_STATES, PHASE_TIER, ItemStatus
from checklists.models import Item, Step
from checklists.selectors.common import GATE_PASSING_DEPLOYMENT_STATES, pk_or_404
from core.exceptions import NotFound
from projects.models import Membership
from projects.principals import Caller, is_token
from projects.selectors import project_list
from releases.choices import ReleaseStatus
from releases.models import Deployment, Release


def gate_passed_for_phase(*, release_id: int, phase: str) -> bool:
    """Did this release already go into the environment tier ``phase`` gates?"""
    tier = PHASE_TIER.get(phase)
    if tier is None:
        return False
    return Deployment.objects.filter(
        release_id=release_id, environment__tier=tier, status__in=GATE_PASSING_DEPLOYMENT_STATES
    ).exists()


def checklist_gate_steps(*, release: Release, tier: str) -> list[Step]:
    """The steps of ``release`` that gate entry into ``tier``, each with ``gate_items`` loaded.

    Always two queries, whether or not any step gates ``tier``, so that the
    release page costs the same for every checklist.
    """
    phases = [phase for phase, gated in PHASE_TIER.items() if gated == tier]
    steps = list(
        Step.objects.filter(checklist__release=release, phase__in=phases).order_by("position", "id")
    )
    items = Item.objects.filter(checklist__release=release, step__phase__in=phases).order_by(
        "position", "id"
    )
    by_step: dict[int, list[Item]] = defaultdict(list)
    for item in items:
        by_step[item.step_id].append(item)
    for step in steps:
        step.gate_items = by_step[step.pk]
    return steps


def missing_items(step: Step) -> list[Item]:
    """Required items of a step from ``checklist_gate_steps`` that are still open."""
    return [i for i in step.gate_items if i.required and i.status not in ITEM_RESOLVED_STATES]


def item_get(*, user: Caller, pk: object) -> Item:
    """An item of a release ``user`` may see, with its step and release loaded."""
    item = (
        Item.objects.select_related("step", "checklist__release__project", "completed_by")
        .filter(pk=pk_or_404(pk), checklist__release__project__in=project_list(user=user))
        .first()
    )
    if item is None:
        raise NotFound("No such checklist item.")
    return item


def step_get(*, user: Caller, pk: object) -> Step:
    """A step of a release ``user`` may see, with its release loaded."""
    step = (
        Step.objects.select_related("checklist__release__project")
        .filter(pk=pk_or_404(pk), checklist__release__project__in=project_list(user=user))
        .first()
    )
    if step is None:
        raise NotFound("No such checklist step.")
    return step


def my_open_items(*, user: Caller, limit: int = 500) -> list[tuple[Release, list[Item]]]:
    """Open items owned by one of ``user``'s roles, grouped by release, in two queries.

    "Mine" means the item's role is one ``user`` holds in the release's
    project (a release manager may tick any item of their releases, but the
    list shows what is theirs to do). Cancelled releases are left out.
    """
    if is_token(user) or not getattr(user, "is_authenticated", False):
        return []
    roles_by_project: dict[int, set[str]] = defaultdict(set)
    person = cast(User, user)  # neither a token nor anonymous: a signed-in person
    for project_id, role in Membership.objects.filter(user=person).values_list(
        "project_id", "role"
    ):
        roles_by_project[project_id].add(role)
    if not roles_by_project:
        return []
    mine = Q(pk__in=[])
    for project_id, roles in roles_by_project.items():
        mine |= Q(checklist__release__project_id=project_id, role__in=sorted(roles))
    items = list(
        Item.objects.filter(mine, status=ItemStatus.OPEN)
        .exclude(checklist__release__status=ReleaseStatus.CANCELLED)
        .select_related("step", "checklist__release__project")
        .order_by(
            "checklist__release__target_date",
            "checklist__release_id",
            "step__position",
            "position",
            "id",
        )[:limit]
    )
    grouped: dict[int, tuple[Release, list[Item]]] = {}
    for item in items:
        release = item.checklist.release
        grouped.setdefault(release.pk, (release, []))[1].append(item)
    return list(grouped.values())
