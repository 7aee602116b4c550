"""The release page: header, pipeline with each stage's gates and actions, scope, history, panels.

Other apps add their sections through ``releases.registry.panel``; each is
rendered here with its own context, and one that breaks does not take the page down.
"""

from __future__ import annotations

import logging
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.forms import ChoiceField
from django.http import HttpRequest
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_safe

from projects.models import Environment
from projects.permissions import can_deploy, can_manage_release
from releases import registry
from releases.choices import (
    DEPLOYMENT_ACTIVE_STATES,
    RELEASE_CLOSED_STATES,
    DeploymentStatus,
    ReleaseStatus,
)
from releases.forms import PromoteForm
from releases.gates import gate_evaluate
from releases.models import Release
from releases.selectors import pipeline_stages, release_with_pipeline
from releases.views.common import RELEASE_CHANGED_EVENT, is_fragment

# The name the release page logged under before the views became a package.
logger = logging.getLogger("releases.views")


@login_required
@require_safe
def release_detail(request, pk):
    """The release page: header, pipeline, gates, actions, scope, history and the apps' panels."""
    release = release_with_pipeline(user=request.user, pk=pk)
    context = detail_context(request, release)
    if is_fragment(request):
        return render(request, "releases/partials/release_live.html", context)
    return render(request, "releases/detail.html", context)


def _next_environment(stages: list[dict[str, Any]]) -> Environment | None:
    """The first environment where this release is not (yet) running successfully."""
    for stage in stages:
        deployment = stage["deployment"]
        if deployment is None or deployment.status != DeploymentStatus.SUCCEEDED:
            return stage["environment"]
    return None


def detail_context(
    request: HttpRequest,
    release: Release,
    *,
    errors: list[str] | None = None,
    error_title: str = "",
    notice: str = "",
) -> dict[str, Any]:
    """What the release page and its live region render; ``release`` from ``release_with_pipeline``."""
    user = request.user
    may_deploy = can_deploy(user, release)
    may_manage = can_manage_release(user, release)
    release_open = release.status not in RELEASE_CLOSED_STATES
    stages = pipeline_stages(release)
    next_env = _next_environment(stages) if release_open else None
    urgent = registry.urgent_for(user=user, releases=[release])
    # A canary that waits for a person is decided on its window, not by "Mark succeeded".
    decisions = {u.deployment_id: u for u in urgent if u.waits_for_decision}
    for stage in stages:
        env, deployment = stage["environment"], stage["deployment"]
        report = gate_evaluate(release=release, environment=env)
        stage["report"] = report
        stage["is_next"] = next_env is not None and env.pk == next_env.pk
        stage["closed_count"] = len(report.closed)
        # Offer the promotion where it moves the release on: the next environment, or one it
        # is not running in successfully (a hotfix whose staging gate an emergency approval waived).
        moves_on = (
            stage["is_next"]
            or deployment is None
            or deployment.status != DeploymentStatus.SUCCEEDED
        )
        stage["can_promote"] = may_deploy and release_open and report.is_open and moves_on
        stage["can_finish"] = (
            may_deploy and deployment is not None and deployment.status in DEPLOYMENT_ACTIVE_STATES
        )
        stage["can_rollback"] = (
            may_deploy
            and deployment is not None
            and deployment.status in (DeploymentStatus.SUCCEEDED, DeploymentStatus.FAILED)
        )
        stage["decision"] = decisions.get(deployment.pk) if deployment is not None else None
        # Running here successfully and not offered again: its gates are history, not a warning.
        stage["passed"] = (
            deployment is not None
            and deployment.status == DeploymentStatus.SUCCEEDED
            and not stage["can_promote"]
        )
        # An open gate right after a failure says why promoting again is allowed.
        stage["failed_before"] = (
            deployment is not None and deployment.status == DeploymentStatus.FAILED
        )
    return {
        "urgent": urgent,
        "release": release,
        "stages": stages,
        "next_environment": next_env,
        "deployments": release.all_deployments,
        "tickets": list(release.tickets.all()[:200]),
        "commits": list(release.commits.all()[:50]),
        "test_runs": list(release.test_runs.select_related("environment")[:20]),
        "can_deploy": may_deploy,
        "can_manage": may_manage,
        "can_edit": may_manage and release.status != ReleaseStatus.CANCELLED,
        "can_cancel": may_manage
        and release.status
        in (ReleaseStatus.PLANNED, ReleaseStatus.IN_PROGRESS, ReleaseStatus.ROLLED_BACK),
        "strategies": cast(ChoiceField, PromoteForm.base_fields["strategy"]).choices,
        "panels": _render_panels(request, release),
        "action_errors": errors or [],
        "action_error_title": error_title,
        "notice": notice,
        "release_changed_event": RELEASE_CHANGED_EVENT,
    }


def _render_panels(request: HttpRequest, release: Release) -> list[dict[str, Any]]:
    """The sections other apps registered, rendered in order, each with its own context."""
    rendered = []
    for panel in registry.panels():
        try:
            context = {
                **(panel.context(release, request) or {}),
                "release": release,
                "request": request,
            }
            html = render_to_string(panel.template, context, request=request)
        except Exception:
            if settings.DEBUG or getattr(settings, "TESTING", False):
                raise
            # One broken section must not take the release page down with it.
            logger.exception("Release panel %s failed for release %s", panel.key, release.pk)
            html = mark_safe(
                '<p class="alert alert-error">This section could not be shown just now.</p>'
            )  # noqa: S308
        rendered.append({"key": panel.key, "title": panel.title, "html": html})
    return rendered
