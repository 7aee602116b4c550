from __future__ import annotations

from django.db.models import QuerySet

from core.exceptions import NotFound
from projects.models import Environment
from projects.selectors import project_list
from releases.models import Deployment, Release


def release_list(*, user, filters: dict | None = None) -> QuerySet[Release]:
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
        from django.db.models import Q

        qs = qs.filter(Q(version__icontains=filters["q"]) | Q(title__icontains=filters["q"]))
    return qs


def release_get(*, user, pk) -> Release:
    """One release visible to ``user`` or NotFound (missing and forbidden look the same)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound("No such release.") from None
    release = release_list(user=user).filter(pk=pk).first()
    if release is None:
        raise NotFound("No such release.")
    return release


def release_with_pipeline(*, user, pk) -> Release:
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


def pipeline_stages(release: Release) -> list[dict]:
    """For each environment: its latest deployment of this release (or None)."""
    latest: dict[int, Deployment] = {}
    for deployment in release.all_deployments:  # newest first
        latest.setdefault(deployment.environment_id, deployment)
    return [
        {"environment": env, "deployment": latest.get(env.pk)}
        for env in release.pipeline_environments
    ]


def environment_get(*, release: Release, name_or_id) -> Environment:
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


def deployment_get(*, user, pk) -> Deployment:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound("No such deployment.") from None
    deployment = (
        Deployment.objects.filter(pk=pk, release__project__in=project_list(user=user))
        .select_related("release", "release__project", "environment")
        .first()
    )
    if deployment is None:
        raise NotFound("No such deployment.")
    return deployment
