"""The dashboard: releases by status, the live grid (what runs where), what needs me, activity."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from audit.models import AuditEvent
from projects.choices import Role
from projects.permissions import can_create_release, has_role
from projects.selectors import project_list
from releases import registry
from releases.choices import DEPLOYMENT_ACTIVE_STATES, DeploymentStatus, ReleaseStatus
from releases.models import Deployment, Release
from releases.registry import waiting_for
from releases.selectors import live_grid

# How far ahead a planned release's target date starts to need attention.
ATTENTION_HORIZON = timedelta(days=7)
# The dashboard's banner looks at this many recently changed releases.
URGENT_SCAN_LIMIT = 100
# Rows of "Waiting for me" on the dashboard; the page of its own lists them all.
DASHBOARD_WAITING_ROWS = 6


@login_required
@require_safe
def dashboard(request):
    """Releases by status and environment, what needs my attention, and recent activity."""
    user = request.user
    projects = list(project_list(user=user))
    project_ids = [p.pk for p in projects]
    releases = Release.objects.filter(project_id__in=project_ids)

    counts = dict(releases.order_by().values_list("status").annotate(n=Count("id")))
    total = sum(counts.values())
    by_status = [
        {"value": status.value, "label": status.label, "count": counts.get(status.value, 0)}
        for status in ReleaseStatus
    ]
    grid = live_grid(projects=projects)
    columns = _grid_columns(grid)
    for row in grid:
        # The same roles as can_deploy, for a project rather than one release.
        row["may_deploy"] = has_role(
            user, row["project"], Role.RELEASE_MANAGER, Role.ENGINEER, Role.ADMIN
        )
        by_name = {cell["environment"].name: cell for cell in row["cells"]}
        row["columns"] = [by_name.get(name) for name, _label in columns]
    recent = list(
        releases.exclude(status=ReleaseStatus.CANCELLED)
        .select_related("project")
        .order_by("-updated_at", "-id")[:URGENT_SCAN_LIMIT]
    )
    waiting = waiting_for(user=user)
    attention = _attention(user, project_ids)
    running = list(
        Deployment.objects.filter(
            release__project_id__in=project_ids, status__in=DEPLOYMENT_ACTIVE_STATES
        )
        .select_related("release", "release__project", "environment")
        .order_by("started_at", "id")[:10]
    )
    activity = list(AuditEvent.objects.filter(project_id__in=project_ids).order_by("-seq")[:8])
    for event in activity:
        # An attribute for the template only, not a field of AuditEvent.
        cast(Any, event).verb = event.action.replace(".", " ").replace("_", " ")
    context = {
        "projects": projects,
        "by_status": by_status,
        "total": total,
        "grid": grid,
        "grid_columns": columns,
        "urgent": registry.urgent_for(user=user, releases=recent),
        "waiting": waiting[:DASHBOARD_WAITING_ROWS],
        "waiting_total": len(waiting),
        "attention": attention,
        "running": running,
        "activity": activity,
        "can_create": any(can_create_release(user, p) for p in projects),
    }
    return render(request, "releases/dashboard.html", context)


def _grid_columns(grid: list[dict]) -> list[tuple[str, str]]:
    """The grid's columns: every environment name of the projects shown, in pipeline order."""
    seen: dict[str, tuple[int, str]] = {}
    for row in grid:
        for cell in row["cells"]:
            env = cell["environment"]
            seen.setdefault(env.name, (env.order, str(env)))
    return [(name, label) for name, (_order, label) in sorted(seen.items(), key=lambda i: i[1])]


def _attention(user, project_ids) -> list[dict]:
    """Releases I manage that are moving, stuck or due soon, each with a sentence why."""
    today = timezone.localdate()
    candidates = list(
        Release.objects.filter(project_id__in=project_ids, release_manager=user)
        .exclude(status__in=[ReleaseStatus.CANCELLED, ReleaseStatus.RELEASED])
        .select_related("project")
        .order_by("-updated_at", "-id")[:30]
    )
    deployments: dict[int, list[Deployment]] = {}
    for deployment in (
        Deployment.objects.filter(release__in=[r.pk for r in candidates])
        .select_related("environment")
        .order_by("-created_at", "-id")
    ):
        deployments.setdefault(deployment.release_id, []).append(deployment)
    items: list[dict[str, Any]] = []
    for release in candidates:
        latest = deployments.get(release.pk, [])
        why, tone = _attention_reason(release, latest, today)
        if why:
            items.append({"release": release, "why": why, "tone": tone})
    tone_rank = {"danger": 0, "info": 1, "warning": 2}
    items.sort(key=lambda item: tone_rank.get(item["tone"], 9))
    return items[:10]


def _attention_reason(
    release: Release, deployments: list[Deployment], today: date
) -> tuple[str, str]:
    newest = deployments[0] if deployments else None
    if newest is not None and newest.status in DEPLOYMENT_ACTIVE_STATES:
        return f"Deploying to {newest.environment} now.", "info"
    if newest is not None and newest.status == DeploymentStatus.FAILED:
        return f"Deployment to {newest.environment} failed: roll back or redeploy.", "danger"
    if release.status == ReleaseStatus.ROLLED_BACK:
        return "Rolled back from production: decide what happens next.", "danger"
    if release.status == ReleaseStatus.IN_PROGRESS and newest is not None:
        return f"Live in {newest.environment}; promote it further when its gates open.", "info"
    if release.target_date and release.target_date < today:
        return f"Target date {release.target_date:%d %b} has passed.", "danger"
    if release.target_date and release.target_date - today <= ATTENTION_HORIZON:
        days = (release.target_date - today).days
        when = "today" if days == 0 else ("tomorrow" if days == 1 else f"in {days} days")
        return f"Due {when} and not deployed anywhere yet.", "warning"
    return "", ""
