"""The release list: every release I may see, filtered and paginated, with its pipeline."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_safe

from projects.models import Environment
from projects.permissions import can_create_release
from projects.selectors import project_list
from releases.choices import DeploymentStatus
from releases.forms import ReleaseFilterForm
from releases.models import Deployment, Release
from releases.selectors import release_list
from releases.views.common import is_fragment

PAGE_SIZE = 25


@login_required
@require_safe
def release_list_view(request):
    """Every release I may see, filtered and paginated; htmx swaps only the table."""
    projects = list(project_list(user=request.user))
    form = ReleaseFilterForm(request.GET or None, projects=projects)
    filters = form.filters() if form.is_bound else {}
    page = Paginator(release_list(user=request.user, filters=filters), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "form": form,
        "page": page,
        "rows": _list_rows(list(page.object_list)),
        "filtered": bool(filters),
        "can_create": any(can_create_release(request.user, p) for p in projects),
        "has_projects": bool(projects),
    }
    if is_fragment(request):
        return render(request, "releases/partials/release_table.html", context)
    return render(request, "releases/list.html", context)


def _list_rows(releases: list[Release]) -> list[dict]:
    """Each release with the state of its latest deployment in every environment (two queries)."""
    if not releases:
        return []
    envs_by_project: dict[int, list[Environment]] = {}
    for env in Environment.objects.filter(project_id__in={r.project_id for r in releases}).order_by(
        "order"
    ):
        envs_by_project.setdefault(env.project_id, []).append(env)
    latest: dict[tuple[int, int], str] = {}
    for release_id, env_id, status in (
        Deployment.objects.filter(release__in=[r.pk for r in releases])
        .order_by("-created_at", "-id")
        .values_list("release_id", "environment_id", "status")
    ):
        latest.setdefault((release_id, env_id), status)
    return [
        {
            "release": release,
            "stages": [
                {
                    "environment": env,
                    "status": latest.get((release.pk, env.pk)),
                    "label": _deployment_label(latest.get((release.pk, env.pk))),
                }
                for env in envs_by_project.get(release.project_id, [])
            ],
        }
        for release in releases
    ]


def _deployment_label(status: str | None) -> str:
    return (
        DeploymentStatus(status).label.lower()
        if status in DeploymentStatus.values
        else "not deployed"
    )
