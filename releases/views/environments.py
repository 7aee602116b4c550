"""A project's environments: the version live in each and its deployment history."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_safe

from core.exceptions import NotFound
from projects.selectors import project_list
from releases.selectors import ENVIRONMENT_HISTORY_LIMIT, environment_history


@login_required
@require_safe
def environments_view(request, slug):
    """Each environment of a project with the version live there and its deployment history."""
    project = project_list(user=request.user).filter(slug=str(slug)[:100]).first()
    if project is None:
        raise NotFound("No such project.")
    sections = environment_history(project=project)
    return render(
        request,
        "releases/environments.html",
        {"project": project, "sections": sections, "limit": ENVIRONMENT_HISTORY_LIMIT},
    )
