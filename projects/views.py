"""Project pages: my projects, and one project's environments, people and settings."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_safe

from core.nav import project_links
from projects.choices import Role
from projects.permissions import can_admin_project, can_create_release, is_staff_admin, roles_for
from projects.registry import project_page_contexts
from projects.selectors import (
    active_environment_list,
    project_get,
    project_manageable_list,
    project_members,
)


@login_required
@require_safe
def project_list_view(request):
    """My projects (staff administrators: every project); archived ones with ``?archived=1``."""
    show_archived = request.GET.get("archived") in ("1", "true", "yes", "on")
    qs = project_manageable_list(user=request.user)
    archived_count = qs.filter(archived_at__isnull=False).count()
    if not show_archived:
        qs = qs.filter(archived_at__isnull=True)
    projects = list(
        qs.annotate(
            release_count=Count("releases", distinct=True),
            environment_count=Count(
                "environments", filter=Q(environments__retired_at__isnull=True), distinct=True
            ),
        ).order_by("name", "pk")
    )
    role_labels = dict(Role.choices)
    rows = [
        {"project": p, "roles": [role_labels[r] for r in sorted(roles_for(request.user, p))]}
        for p in projects
    ]
    context = {
        "rows": rows,
        "show_archived": show_archived,
        "archived_count": archived_count,
        "is_staff_admin": is_staff_admin(request.user),
    }
    return render(request, "projects/list.html", context)


def _project_get(user, slug):
    """A project the person sees (staff administrators: any project), or 404."""
    return project_get(user=user, slug=slug)


def _links_for(project, *, is_admin: bool) -> list[dict]:
    """The per-project pages other apps registered (``core.nav.project_link``)."""
    links = []
    for link in project_links():
        if link.admin_only and not is_admin:
            continue
        for args in ([project.slug], [project.pk]):
            try:
                url = reverse(link.url_name, args=args)
            except NoReverseMatch:
                continue
            links.append({"label": link.label, "url": url, "description": link.description})
            break
    return links


@login_required
@require_safe
def project_detail(request, slug):
    project = _project_get(request.user, slug)
    is_admin = can_admin_project(request.user, project)
    role_labels = dict(Role.choices)
    people: dict[int, dict] = {}
    for membership in project_members(project=project):
        entry = people.setdefault(membership.user_id, {"user": membership.user, "roles": []})
        entry["roles"].append(
            {"value": membership.role, "label": role_labels.get(membership.role, membership.role)}
        )
    # The releases of the project and what runs where come from the apps above
    # (releases.project_page, through projects.registry).
    sections: dict[str, Any] = {
        "live_cells": [],
        "release_counts": {},
        "release_total": 0,
        "recent_releases": [],
    }
    for contribute in project_page_contexts():
        sections.update(contribute(project=project, user=request.user))
    context = {
        "project": project,
        "environments": list(active_environment_list(project=project)),
        "people": list(people.values()),
        "my_roles": [role_labels[r] for r in sorted(roles_for(request.user, project))],
        **sections,
        "is_admin": is_admin,
        "can_create": not project.is_archived and can_create_release(request.user, project),
        "settings_links": _links_for(project, is_admin=is_admin),
    }
    return render(request, "projects/detail.html", context)
