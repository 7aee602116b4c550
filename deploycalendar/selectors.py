"""Reads of the release calendar: the rules that hold for an environment, the time verdict."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q, QuerySet, Subquery

from deploycalendar.models import (
    DeployWindow,
    Freeze,
    FreezeViolation,
    Override,
    QueuedPromotion,
    ScheduledDeployment,
)
from deploycalendar.rules import Verdict, evaluate, occurrences, rule_summary
from projects.models import Environment
from releases.models import Release


def freezes_for(environment: Environment) -> QuerySet[Freeze]:
    """Freezes of ``environment``, and the organisation-wide ones if it is production."""
    scope = Q(environment=environment)
    if environment.is_production:
        scope |= Q(environment__isnull=True)
    return Freeze.objects.filter(scope, removed_at__isnull=True)


def windows_for(environment: Environment) -> QuerySet[DeployWindow]:
    return DeployWindow.objects.filter(environment=environment, removed_at__isnull=True)


@dataclass(frozen=True)
class TimeAnswer:
    """What the calendar says about (release, environment) at ``instant``."""

    instant: datetime
    verdict: Verdict
    windows: tuple[DeployWindow, ...]
    freezes: tuple[Freeze, ...]
    maintenance_required: bool
    override: str  # the override's sentence, empty when there is none

    @property
    def applies(self) -> bool:
        return bool(self.windows or self.freezes)


def time_answer(*, release: Release, environment: Environment, instant: datetime) -> TimeAnswer:
    """The verdict for ``release`` entering ``environment`` at ``instant``: two queries.

    Each row carries whether an override exists for this release and environment, so the
    override costs no query of its own.
    """
    granted = Override.objects.filter(release=release, environment=environment)
    extra = {
        "override_reason": Subquery(granted.values("reason")[:1]),
        "override_by": Subquery(granted.values("granted_by__username")[:1]),
    }
    windows = tuple(windows_for(environment).annotate(**extra))
    freezes = tuple(freezes_for(environment).annotate(**extra))
    override = next(
        (
            f"overridden by {getattr(row, 'override_by', '')}: {getattr(row, 'override_reason', '')}"
            for row in (*windows, *freezes)
            if getattr(row, "override_reason", None)
        ),
        "",
    )
    maintenance = [
        w for w in windows if w.kind == "maintenance" and release.type in (w.release_types or [])
    ]
    # A release type that needs a maintenance window may use only those; others use every window.
    usable = maintenance or list(windows)
    verdict = evaluate(
        instant,
        windows=[(w, w.as_rule()) for w in usable],
        freezes=[(f, f.as_rule()) for f in freezes],
    )
    return TimeAnswer(
        instant=instant,
        verdict=verdict,
        windows=tuple(usable),
        freezes=freezes,
        maintenance_required=bool(maintenance),
        override=override,
    )


def moment_text(instant: datetime, tz_name: str, *, with_date: bool = True) -> str:
    from deploycalendar.rules import zone_get

    local = instant.astimezone(zone_get(tz_name))
    return local.strftime("%a %-d %b %H:%M %Z" if with_date else "%H:%M %Z")


def windows_phrase(windows: tuple[DeployWindow, ...] | list[DeployWindow]) -> str:
    return "; ".join(rule_summary(w.as_rule()) for w in windows)


def time_reason(*, answer: TimeAnswer, environment: Environment, release: Release) -> str:
    """The sentence a person reads when time closes the gate."""
    verdict = answer.verdict
    zone = (
        verdict.freeze.time_zone
        if isinstance(verdict.freeze, Freeze)
        else (answer.windows[0].time_zone if answer.windows else "UTC")
    )
    opens = (
        f"it next opens {moment_text(verdict.next_opening, zone)}"
        if verdict.next_opening is not None
        else "it does not open within the next year"
    )
    name = environment.name
    if isinstance(verdict.freeze, Freeze) and verdict.freeze_interval is not None:
        freeze = verdict.freeze
        scope = " (organisation-wide)" if freeze.organisation_wide else ""
        text = (
            f"{name} is frozen ('{freeze.name}'{scope}) until "
            f"{moment_text(verdict.freeze_interval.end, freeze.time_zone)}"
        )
        if verdict.next_opening != verdict.freeze_interval.end:
            text += f"; {opens}"
        return text + "."
    kind = "maintenance window" if answer.maintenance_required else "deploy window"
    lead = (
        f"a {release.get_type_display().lower()} release enters {name} only inside a {kind}"
        if answer.maintenance_required
        else f"outside the {name} {kind}"
    )
    return f"{lead[0].upper()}{lead[1:]} ({windows_phrase(answer.windows)}); {opens}."


def queue_for(*, release: Release) -> list[QueuedPromotion]:
    return list(
        QueuedPromotion.objects.filter(release=release)
        .select_related("environment", "requested_by", "cancelled_by")
        .order_by("-created_at", "-id")
    )


# --- The calendar ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Band:
    """One occurrence of a window or freeze, as drawn on the calendar."""

    kind: str  # "freeze", "allowed" or "maintenance"
    name: str
    scope: str  # "payments · production" or "every project · production"
    start: datetime
    end: datetime
    summary: str


@dataclass
class CalendarData:
    start: datetime
    end: datetime
    projects: list
    bands: list[Band]
    deployments: list
    rules: list  # (kind, scope, name, summary) of every rule, in plain words
    schedules: list = field(default_factory=list)  # (plan, warning or "")
    violations: list = field(default_factory=list)


def calendar_data(
    *, user: object, start: datetime, end: datetime, project: object = None
) -> CalendarData:
    """Windows, freezes and deployments of the projects ``user`` sees, in [start, end).

    Six queries whatever the number of releases, rules or days: projects, windows, freezes,
    deployments, plans, freeze violations. Expansion of each rule is bounded by ``rules.MAX_OCCURRENCES``.
    """
    from projects.selectors import project_list
    from releases.models import Deployment

    projects = list(project_list(user=user).order_by("name"))  # type: ignore[arg-type]
    if project is not None:
        projects = [p for p in projects if p.pk == getattr(project, "pk", project)]
    ids = [p.pk for p in projects]
    windows = list(
        DeployWindow.objects.filter(
            environment__project_id__in=ids, removed_at__isnull=True
        ).select_related("environment__project")
    )
    freezes = list(
        Freeze.objects.filter(
            Q(environment__project_id__in=ids) | Q(environment__isnull=True),
            removed_at__isnull=True,
        ).select_related("environment__project")
    )
    bands: list[Band] = []
    rules: list[tuple[str, str, str, str]] = []
    every: list[DeployWindow | Freeze] = [*freezes, *windows]
    for row in every:
        kind = row.kind if isinstance(row, DeployWindow) else "freeze"
        env = row.environment
        scope = f"{env.project.name} · {env.name}" if env else "every project · production"
        summary = rule_summary(row.as_rule())
        rules.append((kind, scope, row.name, summary))
        for interval in occurrences(row.as_rule(), start, end):
            bands.append(Band(kind, row.name, scope, interval.start, interval.end, summary))
    deployments = list(
        Deployment.objects.filter(
            release__project_id__in=ids, created_at__gte=start, created_at__lt=end
        )
        .select_related("release__project", "environment")
        .order_by("created_at")[:500]
    )
    plans = list(
        ScheduledDeployment.objects.filter(
            release__project_id__in=ids, planned_at__gte=start, planned_at__lt=end
        )
        .select_related("release__project", "environment")
        .order_by("planned_at")[:500]
    )
    schedules = [(plan, _plan_warning(plan, plans, bands)) for plan in plans]
    violations = list(
        FreezeViolation.objects.filter(
            release__project_id__in=ids, reported_at__gte=start, reported_at__lt=end
        )
        .select_related("release__project", "environment")
        .order_by("reported_at")[:200]
    )
    return CalendarData(start, end, projects, bands, deployments, rules, schedules, violations)


def _plan_warning(plan: ScheduledDeployment, plans: list, bands: list[Band]) -> str:
    """A conflict from what the page already loaded: no query of its own."""
    from deploycalendar.choices import CONFLICT_SPAN

    for other in plans:
        if (
            other.pk != plan.pk
            and other.environment_id == plan.environment_id
            and abs(other.planned_at - plan.planned_at) < CONFLICT_SPAN
        ):
            return f"Conflict: {other.release.version} is planned in {plan.environment.name} at the same time."
    scope = f"{plan.release.project.name} · {plan.environment.name}"
    for band in bands:
        in_scope = band.scope == scope or (
            band.scope.startswith("every project") and plan.environment.is_production
        )
        if band.kind == "freeze" and in_scope and band.start <= plan.planned_at < band.end:
            return f"Inside the freeze '{band.name}'."
    return ""
