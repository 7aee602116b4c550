"""Reads: a release's checklist as the page shows it, my open items, templates.

Every reader narrows to what the caller may see; missing and invisible both
raise ``NotFound``. The checklist board loads in a fixed number of queries
whatever the size of the checklist (the release page asserts it).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from checklists.choices import (
    ITEM_RESOLVED_STATES,
    PHASE_TIER,
    ItemStatus,
    StepPhase,
    VersionStatus,
)
from checklists.models import ChecklistTemplate, Item, Step, StepTemplate, TemplateVersion
from checklists.permissions import (
    can_manage_checklist,
    can_record_step_output,
    can_tick_item,
    can_untick_item,
    can_view_template,
)
from core.exceptions import NotFound
from projects.models import Environment, Project
from projects.permissions import roles_for
from projects.principals import is_token
from projects.selectors import project_list
from releases.choices import DeploymentStatus, ReleaseStatus
from releases.models import Deployment, Release

# A deployment in one of these states means the release went through (or is going through) the
# environment; the gate in front of it was passed. Failed and rolled-back attempts do not count:
# the team may need to redo the checks before trying again.
GATE_PASSING_DEPLOYMENT_STATES = (
    DeploymentStatus.PENDING,
    DeploymentStatus.IN_PROGRESS,
    DeploymentStatus.SUCCEEDED,
)


def _pk(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise NotFound("No such object.") from None


# --- Templates ---------------------------------------------------------------


def shipped_templates_ensure() -> None:
    """Install the shipped templates on a database that has none yet (one query otherwise).

    ``seed_demo`` and ``manage.py checklists_install`` install them too; this
    covers a fresh production database and tests that emptied the tables.
    """
    if not ChecklistTemplate.objects.filter(project__isnull=True).exists():
        from checklists.template_services import shipped_templates_install

        shipped_templates_install()


def template_default_for(*, project: Project, release_type: str) -> TemplateVersion | None:
    """The newest published version of the template a new release of ``release_type`` starts from.

    The project's own template for that type wins; otherwise the shipped one;
    otherwise the shipped release procedure. Installs the shipped templates if
    they are missing (a fresh database, or a test that emptied the tables).
    """
    from checklists.template_services import shipped_templates_install

    templates = list(ChecklistTemplate.objects.filter(Q(project=project) | Q(project__isnull=True)))
    if not any(t.project_id is None for t in templates):
        shipped_templates_install()
        templates = list(
            ChecklistTemplate.objects.filter(Q(project=project) | Q(project__isnull=True))
        )
    published = {
        v.template_id: v
        for v in TemplateVersion.objects.filter(
            template__in=templates, status=VersionStatus.PUBLISHED
        )
        .select_related("template")
        .order_by("template_id", "number")
    }  # the last (highest) number per template wins
    candidates = [t for t in templates if t.pk in published]
    for t in sorted(candidates, key=lambda t: (t.project_id is None, -t.pk)):
        if release_type in (t.release_types or []):
            return published[t.pk]
    fallback = next(
        (t for t in candidates if t.project_id is None and t.slug == "release-procedure"), None
    )
    return published[fallback.pk] if fallback else None


def template_list(*, user, project: Project | None = None) -> list[ChecklistTemplate]:
    """Templates ``user`` may see (their projects' and the shipped ones), with their versions."""
    shipped_templates_ensure()
    projects = project_list(user=user)
    qs = ChecklistTemplate.objects.filter(Q(project__in=projects) | Q(project__isnull=True))
    if project is not None:
        qs = qs.filter(Q(project=project) | Q(project__isnull=True))
    return list(
        qs.select_related("project")
        .prefetch_related(
            Prefetch(
                "versions",
                queryset=TemplateVersion.objects.select_related("published_by").order_by("-number"),
            )
        )
        .order_by("project__name", "name", "id")
    )


def template_get(*, user, pk) -> ChecklistTemplate:
    template = (
        ChecklistTemplate.objects.select_related("project")
        .prefetch_related(
            Prefetch(
                "versions",
                queryset=TemplateVersion.objects.select_related("published_by").order_by("-number"),
            )
        )
        .filter(pk=_pk(pk))
        .first()
    )
    if template is None or not can_view_template(user, template):
        raise NotFound("No such checklist template.")
    return template


def version_get(*, template: ChecklistTemplate, number) -> TemplateVersion:
    version = next((v for v in template.versions.all() if v.number == _pk(number)), None)
    if version is None:
        raise NotFound("No such version of this template.")
    return version


def latest_published(template: ChecklistTemplate) -> TemplateVersion | None:
    """From prefetched versions (newest first)."""
    return next((v for v in template.versions.all() if v.status == VersionStatus.PUBLISHED), None)


def current_draft(template: ChecklistTemplate) -> TemplateVersion | None:
    return next((v for v in template.versions.all() if v.status == VersionStatus.DRAFT), None)


def version_steps(version: TemplateVersion) -> list[StepTemplate]:
    """Steps of a version with their items, two queries."""
    return list(
        StepTemplate.objects.filter(version=version)
        .prefetch_related("items")
        .order_by("position", "id")
    )


def published_versions_for(*, user, project: Project) -> list[TemplateVersion]:
    """The newest published version of every template a release in ``project`` may use."""
    templates = template_list(user=user, project=project)
    return [v for t in templates if (v := latest_published(t)) is not None]


# --- Gates and locks ---------------------------------------------------------


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


# --- Single objects for the write paths --------------------------------------


def item_get(*, user, pk) -> Item:
    """An item of a release ``user`` may see, with its step and release loaded."""
    item = (
        Item.objects.select_related("step", "checklist__release__project", "completed_by")
        .filter(pk=_pk(pk), checklist__release__project__in=project_list(user=user))
        .first()
    )
    if item is None:
        raise NotFound("No such checklist item.")
    return item


def step_get(*, user, pk) -> Step:
    step = (
        Step.objects.select_related("checklist__release__project")
        .filter(pk=_pk(pk), checklist__release__project__in=project_list(user=user))
        .first()
    )
    if step is None:
        raise NotFound("No such checklist step.")
    return step


# --- The board: a release's checklist as people see it ----------------------


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
    checklist: object
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


def checklist_board(*, release: Release, user) -> ChecklistBoard | None:
    """A release's checklist with progress, permissions and highlights, in six queries at most.

    Queries: checklist, steps, items (with who ticked), this release's
    deployments, the project's environments, the caller's roles (cached).
    """
    from checklists.models import Checklist

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
    step_views = []
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

    gates = []
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


# --- My open items -------------------------------------------------------------


def my_open_items(*, user, limit: int = 500) -> list[tuple[Release, list[Item]]]:
    """Open items owned by one of ``user``'s roles, grouped by release, in two queries.

    "Mine" means the item's role is one ``user`` holds in the release's
    project (a release manager may tick any item of their releases, but the
    list shows what is theirs to do). Cancelled releases are left out.
    """
    if is_token(user) or not getattr(user, "is_authenticated", False):
        return []
    from projects.models import Membership

    roles_by_project: dict[int, set[str]] = defaultdict(set)
    for project_id, role in Membership.objects.filter(user=user).values_list("project_id", "role"):
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


def template_versions_in_use(template: ChecklistTemplate) -> dict[int, int]:
    """How many releases use each version of ``template`` (number → count)."""
    from django.db.models import Count

    from checklists.models import Checklist

    rows = (
        Checklist.objects.filter(template=template)
        .values("version_number")
        .annotate(n=Count("id"))
        .values_list("version_number", "n")
    )
    return dict(rows)


def templates_queryset_for_api(*, user) -> QuerySet[ChecklistTemplate]:
    shipped_templates_ensure()
    projects = project_list(user=user)
    return (
        ChecklistTemplate.objects.filter(Q(project__in=projects) | Q(project__isnull=True))
        .select_related("project")
        .prefetch_related(
            Prefetch(
                "versions",
                queryset=TemplateVersion.objects.select_related("published_by").order_by("-number"),
            )
        )
        .order_by("project__name", "name", "id")
    )
