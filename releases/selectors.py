"""Every non-trivial read of releases and deployments, narrowed to what the caller may see."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Count, F, Max, Q, QuerySet, Window
from django.db.models.functions import RowNumber

from core.exceptions import NotFound
from projects.models import Environment, Project
from projects.principals import Caller
from projects.selectors import project_list
from releases.choices import RELEASE_CLOSED_STATES, DeploymentStatus
from releases.models import Deployment, Release


def release_list(*, user: Caller, filters: Mapping[str, Any] | None = None) -> QuerySet[Release]:
    """Releases ``user`` may see, newest first, with what list pages show already joined."""
    qs = (
        Release.objects.filter(project__in=project_list(user=user))
        .select_related("project", "release_manager", "created_by")
        .order_by("-created_at", "-id")
    )
    filters = filters or {}
    if filters.get("project"):
        qs = qs.filter(project__slug=filters["project"])
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("type"):
        qs = qs.filter(type=filters["type"])
    if filters.get("q"):
        qs = qs.filter(Q(version__icontains=filters["q"]) | Q(title__icontains=filters["q"]))
    return qs


def release_get(*, user: Caller, pk: int | str) -> Release:
    """One release visible to ``user`` or NotFound (missing and forbidden look the same)."""
    try:
        number = int(pk)
    except (TypeError, ValueError):
        raise NotFound("No such release.") from None
    release = release_list(user=user).filter(pk=number).first()
    if release is None:
        raise NotFound("No such release.")
    return release


def release_with_pipeline(*, user: Caller, pk: int | str) -> Release:
    """A release with its environments and deployments loaded for the release page."""
    release = release_get(user=user, pk=pk)
    release.pipeline_environments = list(
        Environment.objects.filter(project_id=release.project_id, retired_at__isnull=True).order_by(
            "order"
        )
    )
    release.all_deployments = list(
        Deployment.objects.filter(release=release)
        .select_related("environment", "deployed_by")
        .order_by("-created_at", "-id")
    )
    return release


def pipeline_stages(release: Release) -> list[dict[str, Any]]:
    """For each environment: its latest deployment of this release (or None).

    ``release`` comes from ``release_with_pipeline``. Each stage is a dict with
    ``environment`` and ``deployment``; the release page adds its own keys to it.
    """
    latest: dict[int, Deployment] = {}
    for deployment in release.all_deployments:  # newest first
        latest.setdefault(deployment.environment_id, deployment)
    return [
        {"environment": env, "deployment": latest.get(env.pk)}
        for env in release.pipeline_environments
    ]


def environment_get(*, release: Release, name_or_id: str | int) -> Environment:
    """An environment of the release's project by name, or by id; NotFound otherwise."""
    qs = Environment.objects.filter(project_id=release.project_id)
    text = str(name_or_id)
    # Names are short slugs; a NUL byte or an over-long id would make PostgreSQL raise, not miss.
    plausible = "\x00" not in text and len(text) <= 40
    env = qs.filter(name=text).first() if plausible else None
    if env is None and plausible and text.isascii() and text.isdigit() and len(text) <= 18:
        env = qs.filter(pk=int(text)).first()
    if env is None:
        raise NotFound(f"No environment '{str(name_or_id)[:40]}' in this project.")
    return env


def deployment_get(*, user: Caller, pk: int | str) -> Deployment:
    """One deployment of a release ``user`` may see, or NotFound."""
    try:
        number = int(pk)
    except (TypeError, ValueError):
        raise NotFound("No such deployment.") from None
    deployment = (
        Deployment.objects.filter(pk=number, release__project__in=project_list(user=user))
        .select_related("release", "release__project", "environment")
        .first()
    )
    if deployment is None:
        raise NotFound("No such deployment.")
    return deployment


# --- What is live where ------------------------------------------------------------------

# Releases that may still move; a closed one is never offered for promotion.
_MOVING_DEPLOYMENT_STATES = (
    DeploymentStatus.PENDING,
    DeploymentStatus.IN_PROGRESS,
    DeploymentStatus.SUCCEEDED,
)


def live_grid(*, projects: Iterable[Project]) -> list[dict[str, Any]]:
    """One row per project, one cell per environment: what runs there now and what may go next.

    A cell holds ``live`` (the newest successful deployment: the version running there),
    ``latest`` (the newest deployment when it is not the live one: running, failed or
    rolled back), and ``ready`` (open releases that succeeded in the environment before
    and have not started here; the newest first). Five queries however many projects,
    environments, releases and deployments there are.
    """
    shown_projects = list(projects)
    if not shown_projects:
        return []
    project_ids = [p.pk for p in shown_projects]
    environments: dict[int, list[Environment]] = {pk: [] for pk in project_ids}
    active = Environment.objects.filter(project_id__in=project_ids, retired_at__isnull=True)
    for env in active.order_by("order", "id"):
        environments[env.project_id].append(env)

    per_env = Deployment.objects.filter(environment__project_id__in=project_ids).order_by()
    newest_ids = per_env.values("environment_id").annotate(last=Max("id")).values("last")
    live_ids = (
        per_env.filter(status=DeploymentStatus.SUCCEEDED)
        .values("environment_id")
        .annotate(last=Max("id"))
        .values("last")
    )
    shown = {
        d.pk: d
        for d in Deployment.objects.filter(Q(pk__in=newest_ids) | Q(pk__in=live_ids))
        .select_related("release", "deployed_by", "environment")
        .order_by("id")
    }
    newest: dict[int, Deployment] = {}
    live: dict[int, Deployment] = {}
    for d in shown.values():  # ascending ids: the last one written per environment wins
        newest[d.environment_id] = d
        if d.status == DeploymentStatus.SUCCEEDED:
            live[d.environment_id] = d

    # Where each open release stands, to find those ready for the next environment.
    open_releases = {
        r.pk: r
        for r in Release.objects.filter(project_id__in=project_ids)
        .exclude(status__in=RELEASE_CLOSED_STATES)
        .only("id", "version", "title", "project_id", "status", "created_at")
    }
    reached: dict[int, set[int]] = {}  # release -> environments it succeeded in
    moving: dict[int, set[int]] = {}  # release -> environments it is in or went through
    for release_id, env_id, status in Deployment.objects.filter(
        release_id__in=list(open_releases)
    ).values_list("release_id", "environment_id", "status"):
        if status == DeploymentStatus.SUCCEEDED:
            reached.setdefault(release_id, set()).add(env_id)
        if status in _MOVING_DEPLOYMENT_STATES:
            moving.setdefault(release_id, set()).add(env_id)

    rows: list[dict[str, Any]] = []
    for project in shown_projects:
        cells: list[dict[str, Any]] = []
        previous: Environment | None = None
        for env in environments[project.pk]:
            ready = [
                r
                for r in open_releases.values()
                if r.project_id == project.pk
                and env.pk not in moving.get(r.pk, set())
                and (
                    previous.pk in reached.get(r.pk, set())
                    if previous is not None
                    else not moving.get(r.pk)
                )
            ]
            ready.sort(key=lambda r: (r.created_at, r.pk), reverse=True)
            current = live.get(env.pk)
            latest = newest.get(env.pk)
            cells.append(
                {
                    "environment": env,
                    "previous": previous,
                    "live": current,
                    "latest": latest if latest is not None and latest != current else None,
                    "ready": ready,
                }
            )
            previous = env
        rows.append({"project": project, "cells": cells})
    return rows


# How many deployments of each environment its history shows.
ENVIRONMENT_HISTORY_LIMIT = 20


def environment_history(
    *, project: Project, limit: int = ENVIRONMENT_HISTORY_LIMIT
) -> list[dict[str, Any]]:
    """Each environment of ``project`` in order with its newest deployments (up to ``limit``).

    Two queries: the environments, then every environment's newest deployments at once
    (a window function numbers them per environment).
    """
    envs = list(Environment.objects.filter(project=project).order_by("order", "id"))
    numbered = (
        Deployment.objects.filter(environment__project=project)
        .annotate(
            n=Window(RowNumber(), partition_by=[F("environment_id")], order_by=F("id").desc()),
            total=Window(Count("id"), partition_by=[F("environment_id")]),
        )
        .filter(n__lte=limit)
        .select_related("release", "deployed_by")
        .order_by("environment_id", "-id")
    )
    history: dict[int, list[Deployment]] = {env.pk: [] for env in envs}
    totals: dict[int, int] = {}
    for deployment in numbered:
        history[deployment.environment_id].append(deployment)
        totals[deployment.environment_id] = deployment.total
    sections: list[dict[str, Any]] = []
    for env in envs:
        deployments = history[env.pk]
        live = next((d for d in deployments if d.status == DeploymentStatus.SUCCEEDED), None)
        sections.append(
            {
                "environment": env,
                "deployments": deployments,
                "live": live,
                "total": totals.get(env.pk, 0),
            }
        )
    return sections
