"""The board: a release's checklist as people see it, with progress, permissions and highlights."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.utils import timezone

from checklists.choices import ITEM_RESOLVED_STATES, PHASE_TIER, ItemStatus, StepPhase
from checklists.models import Checklist, Item, Step
from checklists.permissions import (
    can_manage_checklist,
    can_record_step_output,
    can_tick_item,
    can_untick_item,
)
from checklists.selectors.common import GATE_PASSING_DEPLOYMENT_STATES
from projects.models import Environment
from projects.permissions import roles_for
from projects.principals import Caller
from releases.choices import DeploymentStatus, ReleaseStatus
from releases.models import Deployment, Release


@dataclass
class ItemView:
    item: Item
    can_tick: bool = False
    can_untick: bool = False
    can_mark_na: bool = False
    is_mine: bool = False

    @property
    def is_blocking(self) -> bool:
        return self.item.required and self.item.status == ItemStatus.OPEN


@dataclass
class StepView:
    step: Step
    number: int
    items: list[ItemView] = field(default_factory=list)
    gate_passed: bool = False
    is_blocking: bool = False
    is_overdue: bool = False
    can_record_output: bool = False

    @property
    def required_total(self) -> int:
        return sum(1 for v in self.items if v.item.required)

    @property
    def required_resolved(self) -> int:
        return sum(
            1 for v in self.items if v.item.required and v.item.status in ITEM_RESOLVED_STATES
        )

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def resolved(self) -> int:
        return sum(1 for v in self.items if v.item.status in ITEM_RESOLVED_STATES)

    @property
    def is_complete(self) -> bool:
        return self.required_resolved == self.required_total

    @property
    def percent(self) -> int:
        return round(100 * self.resolved / self.total) if self.total else 100

    @property
    def missing(self) -> list[Item]:
        return [v.item for v in self.items if v.is_blocking]

    @property
    def my_open(self) -> int:
        return sum(1 for v in self.items if v.is_mine and v.item.status == ItemStatus.OPEN)

    @property
    def has_mine(self) -> bool:
        return any(v.is_mine for v in self.items)


@dataclass
class GateView:
    tier: str
    label: str
    environment: Environment | None
    steps: list[StepView]
    passed: bool

    @property
    def is_open(self) -> bool:
        return all(s.is_complete for s in self.steps)

    @property
    def missing_count(self) -> int:
        return sum(len(s.missing) for s in self.steps)


@dataclass
class ChecklistBoard:
    release: Release
    checklist: Checklist
    steps: list[StepView]
    gates: list[GateView]
    can_manage: bool
    next_environment: Environment | None

    @property
    def total(self) -> int:
        return sum(s.total for s in self.steps)

    @property
    def resolved(self) -> int:
        return sum(s.resolved for s in self.steps)

    @property
    def percent(self) -> int:
        return round(100 * self.resolved / self.total) if self.total else 100

    @property
    def my_open(self) -> int:
        return sum(s.my_open for s in self.steps)


def checklist_board(*, release: Release, user: Caller) -> ChecklistBoard | None:
    """A release's checklist with progress, permissions and highlights, in six queries at most.

    Queries: checklist, steps, items (with who ticked), this release's
    deployments, the project's environments, the caller's roles (cached).
    """
    checklist = Checklist.objects.filter(release=release).first()
    if checklist is None:
        return None
    steps = list(Step.objects.filter(checklist=checklist).order_by("position", "id"))
    items = list(
        Item.objects.filter(checklist=checklist)
        .select_related("completed_by", "added_by")
        .order_by("position", "id")
    )
    deployments = list(
        Deployment.objects.filter(release=release).values_list(
            "environment__tier", "environment_id", "status"
        )
    )
    environments = list(
        Environment.objects.filter(project_id=release.project_id, retired_at__isnull=True).order_by(
            "order"
        )
    )
    roles = roles_for(user, release.project_id)
    manage = can_manage_checklist(user, release)

    passed_tiers = {
        tier for tier, _env, status in deployments if status in GATE_PASSING_DEPLOYMENT_STATES
    }
    succeeded_envs = {
        env for _tier, env, status in deployments if status == DeploymentStatus.SUCCEEDED
    }
    closed = release.status in (ReleaseStatus.CANCELLED, ReleaseStatus.RELEASED)
    next_environment = (
        None if closed else next((e for e in environments if e.pk not in succeeded_envs), None)
    )
    overdue_date = release.target_date is not None and release.target_date < timezone.localdate()
    cancelled = release.status == ReleaseStatus.CANCELLED

    by_step: dict[int, list[Item]] = defaultdict(list)
    for item in items:
        by_step[item.step_id].append(item)
    step_views: list[StepView] = []
    for number, step in enumerate(steps, start=1):
        step_roles = {i.role for i in by_step[step.pk]}
        view = StepView(
            step=step,
            number=number,
            gate_passed=PHASE_TIER.get(step.phase) in passed_tiers,
            can_record_output=not cancelled and can_record_step_output(user, step_roles, release),
        )
        for item in by_step[step.pk]:
            item.step = step  # already loaded: spare the template a query per item
            may_tick = can_tick_item(user, item, release)
            view.items.append(
                ItemView(
                    item=item,
                    is_mine=item.role in roles,
                    can_tick=not cancelled and may_tick and item.status == ItemStatus.OPEN,
                    can_untick=not cancelled
                    and not view.gate_passed
                    and item.status != ItemStatus.OPEN
                    and can_untick_item(user, item, release),
                    can_mark_na=not cancelled and manage and item.status == ItemStatus.OPEN,
                )
            )
        tier = PHASE_TIER.get(step.phase)
        incomplete = not view.is_complete
        view.is_blocking = bool(
            incomplete and next_environment is not None and tier == next_environment.tier
        )
        view.is_overdue = bool(
            incomplete
            and overdue_date
            and not closed
            and not view.gate_passed
            and step.phase != StepPhase.AFTER_PRODUCTION
        )
        step_views.append(view)

    gates: list[GateView] = []
    for phase, tier in PHASE_TIER.items():
        gated = [s for s in step_views if s.step.phase == phase]
        if gated:
            env = next((e for e in environments if e.tier == tier), None)
            gates.append(
                GateView(
                    tier=tier,
                    label=str(env) if env else tier.capitalize(),
                    environment=env,
                    steps=gated,
                    passed=tier in passed_tiers,
                )
            )
    board = ChecklistBoard(
        release=release,
        checklist=checklist,
        steps=step_views,
        gates=gates,
        can_manage=manage and not cancelled,
        next_environment=next_environment,
    )
    return board
