"""Reads of the monitoring app, narrowed to what the user may see."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from core.exceptions import NotFound
from monitoring.choices import WINDOW_OPEN_STATES
from monitoring.models import (
    HealthCheck,
    HookCall,
    MetricCheck,
    MonitoringWindow,
    PollGap,
    Sample,
    WindowCheck,
    WindowDecision,
)
from projects.models import Environment, Project
from projects.selectors import project_list
from releases.models import Release

# A chart shows at most this many recent samples per check (a 60-minute window
# polled every 10 s has 360).
CHART_SAMPLES = 720


def _int(pk: int | str) -> int:
    try:
        return int(pk)
    except (TypeError, ValueError):
        raise NotFound("No such monitoring window.") from None


def window_list(*, user: Any, filters: dict[str, Any] | None = None) -> QuerySet[MonitoringWindow]:
    """Windows of projects ``user`` may see, newest first, with deployment, release and environment joined."""
    qs = (
        MonitoringWindow.objects.filter(deployment__release__project__in=project_list(user=user))
        .select_related("deployment__release__project", "deployment__environment")
        .order_by("-started_at", "-id")
    )
    filters = filters or {}
    if filters.get("open"):
        qs = qs.filter(status__in=WINDOW_OPEN_STATES)
    if filters.get("project"):
        qs = qs.filter(deployment__release__project__slug=filters["project"])
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    return qs


def window_get(*, user: Any, pk: int | str) -> MonitoringWindow:
    """One window with its checks, decisions, gaps and hook calls, or NotFound."""
    window = (
        window_list(user=user)
        .filter(pk=_int(pk))
        .prefetch_related(
            Prefetch(
                "checks",
                queryset=WindowCheck.objects.select_related("baseline").order_by("position", "id"),
            ),
            Prefetch("decisions", queryset=WindowDecision.objects.select_related("actor")),
            Prefetch("gaps", queryset=PollGap.objects.order_by("first_slot")),
            Prefetch("hook_calls", queryset=HookCall.objects.order_by("created_at")),
        )
        .first()
    )
    if window is None:
        raise NotFound("No such monitoring window.")
    return window


def window_samples(
    *, window: MonitoringWindow, limit: int = CHART_SAMPLES
) -> dict[int, list[Sample]]:
    """The latest ``limit`` samples per check of ``window``, oldest first, in one query."""
    rows = list(
        Sample.objects.filter(window_check__window=window).order_by("-slot", "window_check_id")[
            : limit * max(len(window.checks.all()), 1)
        ]
    )
    grouped: dict[int, list[Sample]] = {}
    for sample in reversed(rows):
        grouped.setdefault(sample.window_check_id, []).append(sample)
    return grouped


def sample_list(*, window: MonitoringWindow) -> QuerySet[Sample]:
    return (
        Sample.objects.filter(window_check__window=window)
        .select_related("window_check")
        .order_by("slot", "window_check__position", "id")
    )


def deployment_windows(*, user: Any, deployment_id: int | str) -> list[MonitoringWindow]:
    return list(
        window_list(user=user)
        .filter(deployment_id=_int(deployment_id))
        .prefetch_related(
            Prefetch("checks", queryset=WindowCheck.objects.order_by("position", "id"))
        )
    )


def release_windows(release: Release) -> list[MonitoringWindow]:
    """Every window of a release (the caller has checked it may see the release), newest first."""
    return list(
        MonitoringWindow.objects.filter(deployment__release=release)
        .select_related("deployment__environment")
        .prefetch_related(
            Prefetch("checks", queryset=WindowCheck.objects.order_by("position", "id"))
        )
        .order_by("-started_at", "-id")
    )


def environment_get(*, user: Any, project_slug: str, name: str) -> Environment:
    environment = (
        Environment.objects.filter(
            project__in=project_list(user=user), project__slug=project_slug, name=name
        )
        .select_related("project")
        .first()
    )
    if environment is None:
        raise NotFound("No such environment.")
    return environment


def environment_checks(environment: Environment) -> tuple[list[HealthCheck], list[MetricCheck]]:
    return (
        list(HealthCheck.objects.filter(environment=environment).order_by("name", "id")),
        list(MetricCheck.objects.filter(environment=environment).order_by("name", "id")),
    )


def check_get(*, user: Any, kind: str, pk: int | str) -> HealthCheck | MetricCheck:
    model = HealthCheck if kind == "health" else MetricCheck
    check = (
        model.objects.filter(pk=_int(pk), environment__project__in=project_list(user=user))
        .select_related("environment__project")
        .first()
    )
    if check is None:
        raise NotFound("No such check.")
    return check


def project_environments(*, user: Any) -> list[tuple[Project, list[Environment]]]:
    projects = list(
        project_list(user=user)
        .order_by("name")
        .prefetch_related(Prefetch("environments", queryset=Environment.objects.order_by("order")))
    )
    return [(p, list(p.environments.all())) for p in projects]
