"""What ``releases`` adds to the project's own pages, through ``projects.registry``.

``projects`` sits below ``releases`` and never imports it: the project page's release
sections and the "a deployment is running" refusal of ``environment_retire`` are
registered here (imported by ``ReleasesConfig.ready``).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count

from core.exceptions import Conflict
from projects.models import Environment, Project
from projects.registry import environment_retire_check, project_page_context
from releases.choices import DEPLOYMENT_ACTIVE_STATES
from releases.models import Deployment, Release
from releases.selectors import live_grid


@environment_retire_check
def refuse_while_deploying(environment: Environment) -> None:
    """An environment with a deployment still running cannot be retired (409 ``deployment_running``)."""
    running = (
        Deployment.objects.filter(environment=environment, status__in=DEPLOYMENT_ACTIVE_STATES)
        .select_related("release")
        .first()
    )
    if running is not None:
        raise Conflict(
            f"A deployment of release {running.release.version} is "
            f"{running.get_status_display().lower()} in {environment}; "
            f"finish it before retiring {environment}.",
            code="deployment_running",
        )


@project_page_context
def project_releases(*, project: Project, user: Any) -> dict[str, Any]:
    """The release counts, the five latest releases and what runs where (a fixed number of queries)."""
    counts = dict(
        Release.objects.filter(project=project)
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
    )
    recent = list(
        Release.objects.filter(project=project)
        .select_related("release_manager")
        .order_by("-created_at", "-id")[:5]
    )
    return {
        "live_cells": live_grid(projects=[project])[0]["cells"],
        "release_counts": counts,
        "release_total": sum(counts.values()),
        "recent_releases": recent,
    }
