"""Release pages: dashboard, list, release page with its actions, create and edit.

Views parse input, call one selector or service and render. One view serves
the page or, for htmx, the fragment it swaps. Missing and forbidden releases
answer 404 (``NotFound`` from the selectors, mapped by ``core.middleware``);
a person who may look but not act gets 403 from the services.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST, require_safe

from audit.models import AuditEvent
from core.exceptions import DomainError, NotFound, PermissionDenied
from projects.choices import Role
from projects.models import Environment
from projects.permissions import (
    can_create_release,
    can_deploy,
    can_manage_release,
    has_role,
    role_refusal,
)
from projects.selectors import project_list
from releases import registry
from releases.choices import (
    DEPLOYMENT_ACTIVE_STATES,
    RELEASE_CLOSED_STATES,
    DeploymentStatus,
    ReleaseStatus,
)
from releases.exceptions import DuplicateVersion, GateBlocked, InvalidVersion
from releases.forms import (
    FinishForm,
    PromoteForm,
    ReasonForm,
    ReleaseFilterForm,
    ReleaseForm,
    form_errors,
)
from releases.gates import gate_evaluate
from releases.models import Deployment, Release
from releases.registry import waiting_for
from releases.selectors import (
    ENVIRONMENT_HISTORY_LIMIT,
    deployment_get,
    environment_history,
    live_grid,
    pipeline_stages,
    release_get,
    release_list,
    release_with_pipeline,
)
from releases.services import (
    deployment_finish,
    deployment_rollback,
    release_authorize,
    release_cancel,
    release_create,
    release_promote,
    release_update,
)

logger = logging.getLogger(__name__)

PAGE_SIZE = 25
# How far ahead a planned release's target date starts to need attention.
ATTENTION_HORIZON = timedelta(days=7)
# Send this event (``HX-Trigger: releaseChanged``) from a panel's htmx answer when the
# panel changed something the rest of the release page shows: the page region reloads.
# Actions of this module re-render that region themselves, so they do not send it.
RELEASE_CHANGED_EVENT = "releaseChanged"


def _is_fragment(request) -> bool:
    """An htmx request that swaps part of the page (not a history restore, which needs it all)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


# --- Dashboard ----------------------------------------------------------------------


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
        event.verb = event.action.replace(".", " ").replace("_", " ")
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


# The dashboard's banner looks at this many recently changed releases.
URGENT_SCAN_LIMIT = 100
# Rows of "Waiting for me" on the dashboard; the page of its own lists them all.
DASHBOARD_WAITING_ROWS = 6


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
    items = []
    for release in candidates:
        latest = deployments.get(release.pk, [])
        why, tone = _attention_reason(release, latest, today)
        if why:
            items.append({"release": release, "why": why, "tone": tone})
    tone_rank = {"danger": 0, "info": 1, "warning": 2}
    items.sort(key=lambda item: tone_rank.get(item["tone"], 9))
    return items[:10]


def _attention_reason(release: Release, deployments: list[Deployment], today) -> tuple[str, str]:
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


# --- Environments of a project ------------------------------------------------------------


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


# --- Release list --------------------------------------------------------------------


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
    if _is_fragment(request):
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


# --- Release page ----------------------------------------------------------------------


@login_required
@require_safe
def release_detail(request, pk):
    """The release page: header, pipeline, gates, actions, scope, history and the apps' panels."""
    release = release_with_pipeline(user=request.user, pk=pk)
    context = _detail_context(request, release)
    if _is_fragment(request):
        return render(request, "releases/partials/release_live.html", context)
    return render(request, "releases/detail.html", context)


def _next_environment(stages: list[dict]) -> Environment | None:
    """The first environment where this release is not (yet) running successfully."""
    for stage in stages:
        deployment = stage["deployment"]
        if deployment is None or deployment.status != DeploymentStatus.SUCCEEDED:
            return stage["environment"]
    return None


def _detail_context(request, release: Release, *, errors=None, error_title="", notice="") -> dict:
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
        "strategies": PromoteForm.base_fields["strategy"].choices,
        "panels": _render_panels(request, release),
        "action_errors": errors or [],
        "action_error_title": error_title,
        "notice": notice,
        "release_changed_event": RELEASE_CHANGED_EVENT,
    }


def _render_panels(request, release: Release) -> list[dict]:
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


def _after_action(request, pk, *, notice: str = "", errors=None, error_title: str = ""):
    """Answer an action: the re-rendered page region for htmx, a redirect otherwise."""
    if _is_fragment(request):
        release = release_with_pipeline(user=request.user, pk=pk)
        context = _detail_context(
            request, release, errors=errors, error_title=error_title, notice=notice
        )
        return render(request, "releases/partials/release_live.html", context)
    if errors:
        text = format_html_join("", "<li>{}</li>", ((e,) for e in errors))
        messages.error(
            request,
            format_html_join("", "{}<ul>{}</ul>", [(error_title or "Nothing changed.", text)]),
        )
    elif notice:
        messages.success(request, notice)
    return redirect("releases:detail", pk=pk)


def _domain_errors(exc: DomainError) -> tuple[str, list[str]]:
    """A title and the list of reasons to show for a refused action."""
    if isinstance(exc, GateBlocked):
        report = exc.report
        return (
            f"{report.release.version} may not enter {report.environment} yet. Nothing changed.",
            [gate.reason for gate in report.closed],
        )
    return "Nothing changed.", [exc.message]


def _refusal(exc: DomainError) -> bool:
    """Domain errors shown in the page; NotFound and PermissionDenied are real 404/403 answers."""
    return not isinstance(exc, NotFound | PermissionDenied)


@login_required
@require_POST
def release_promote_view(request, pk):
    release = release_with_pipeline(user=request.user, pk=pk)
    release_authorize(release=release, actor=request.user, action="deploy")
    form = PromoteForm(request.POST, environments=release.pipeline_environments)
    if not form.is_valid():
        return _after_action(request, pk, errors=form_errors(form))
    environment = form.environments[form.cleaned_data["environment"]]
    try:
        deployment = release_promote(
            release=release,
            environment=environment,
            actor=request.user,
            strategy=form.cleaned_data["strategy"],
        )
    except DomainError as exc:
        if not _refusal(exc):
            raise
        title, errors = _domain_errors(exc)
        return _after_action(request, pk, errors=errors, error_title=title)
    return _after_action(
        request, pk, notice=f"Deployment of {release.version} to {deployment.environment} started."
    )


def _deployment_of(request, pk, deployment_pk) -> Deployment:
    deployment = deployment_get(user=request.user, pk=deployment_pk)
    if deployment.release_id != int(pk):
        raise NotFound("No such deployment of this release.")
    return deployment


@login_required
@require_POST
def deployment_finish_view(request, pk, deployment_pk):
    deployment = _deployment_of(request, pk, deployment_pk)
    release_authorize(release=deployment.release, actor=request.user, action="finish")
    form = FinishForm(request.POST)
    if not form.is_valid():
        return _after_action(request, pk, errors=form_errors(form))
    succeeded = form.cleaned_data["outcome"] == "succeeded"
    try:
        deployment = deployment_finish(
            deployment=deployment,
            succeeded=succeeded,
            actor=request.user,
            reason=form.cleaned_data["reason"],
        )
    except DomainError as exc:
        if not _refusal(exc):
            raise
        title, errors = _domain_errors(exc)
        return _after_action(request, pk, errors=errors, error_title=title)
    outcome = "succeeded" if succeeded else "failed"
    return _after_action(
        request, pk, notice=f"Deployment to {deployment.environment} marked {outcome}."
    )


@login_required
@require_POST
def deployment_rollback_view(request, pk, deployment_pk):
    deployment = _deployment_of(request, pk, deployment_pk)
    release_authorize(release=deployment.release, actor=request.user, action="rollback")
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return _after_action(request, pk, errors=form_errors(form))
    try:
        deployment = deployment_rollback(
            deployment=deployment, actor=request.user, reason=form.cleaned_data["reason"]
        )
    except DomainError as exc:
        if not _refusal(exc):
            raise
        title, errors = _domain_errors(exc)
        return _after_action(request, pk, errors=errors, error_title=title)
    return _after_action(request, pk, notice=f"Deployment to {deployment.environment} rolled back.")


@login_required
@require_POST
def release_cancel_view(request, pk):
    release = release_get(user=request.user, pk=pk)
    release_authorize(release=release, actor=request.user, action="cancel")
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return _after_action(request, pk, errors=form_errors(form))
    try:
        release_cancel(release=release, actor=request.user, reason=form.cleaned_data["reason"])
    except DomainError as exc:
        if not _refusal(exc):
            raise
        title, errors = _domain_errors(exc)
        return _after_action(request, pk, errors=errors, error_title=title)
    return _after_action(request, pk, notice=f"Release {release.version} cancelled.")


# --- Create and edit -----------------------------------------------------------------------


def _is_validation_only(request) -> bool:
    """htmx asks to check the form as the person types; nothing is saved."""
    return _is_fragment(request) and request.POST.get("_validate") == "1"


def _only_touched_errors(request, form) -> None:
    """While typing, show errors only for fields filled in or just left, not every empty one."""
    trigger = request.headers.get("HX-Trigger-Name", "")
    for name in list(form.errors):
        if name == "__all__" or name == trigger:
            continue
        if not str(form.data.get(name, "")).strip():
            del form.errors[name]


def _apply_service_error(form, exc: DomainError) -> None:
    if isinstance(exc, InvalidVersion | DuplicateVersion) and "version" in form.fields:
        form.add_error("version", exc.message)
    else:
        form.add_error(None, exc.message)


def _render_form(request, template: str, context: dict, *, fragment: bool):
    if fragment:
        return render(request, "releases/partials/release_form.html", context)
    return render(request, template, context)


@login_required
def release_create_view(request):
    """A new planned release in a project where I may create releases."""
    creatable = [p for p in project_list(user=request.user) if can_create_release(request.user, p)]
    if not creatable:
        raise role_refusal(
            Role.RELEASE_MANAGER, Role.ENGINEER, Role.ADMIN, to="create releases in a project"
        )
    initial = {}
    if request.method == "GET" and request.GET.get("project"):
        initial["project"] = next(
            (p.pk for p in creatable if p.slug == request.GET["project"]), None
        )
    form = ReleaseForm(request.POST or None, user=request.user, projects=creatable, initial=initial)
    context = {"form": form, "release": None, "action_url": reverse("releases:create")}
    if request.method == "POST":
        if _is_validation_only(request):
            form.is_valid()
            _only_touched_errors(request, form)
            return _render_form(request, "releases/form.html", context, fragment=True)
        if form.is_valid():
            try:
                release = release_create(
                    project=form.cleaned_data["project"],
                    actor=request.user,
                    **form.service_arguments(),
                )
            except DomainError as exc:
                if isinstance(exc, NotFound):
                    raise
                _apply_service_error(form, exc)
            else:
                messages.success(request, f"Release {release.version} created.")
                return _redirect_to(request, release.get_absolute_url())
    return _render_form(request, "releases/form.html", context, fragment=_is_fragment(request))


@login_required
def release_edit_view(request, pk):
    release = release_get(user=request.user, pk=pk)
    release_authorize(release=release, actor=request.user, action="edit")
    initial = {
        name: getattr(release, name) for name in ReleaseForm.base_fields if hasattr(release, name)
    }
    initial["release_manager"] = release.release_manager_id
    form = ReleaseForm(request.POST or None, user=request.user, release=release, initial=initial)
    context = {
        "form": form,
        "release": release,
        "action_url": reverse("releases:edit", args=[release.pk]),
    }
    if request.method == "POST":
        if _is_validation_only(request):
            form.is_valid()
            _only_touched_errors(request, form)
            return _render_form(request, "releases/form.html", context, fragment=True)
        if form.is_valid():
            try:
                release_update(release=release, actor=request.user, **form.service_arguments())
            except DomainError as exc:
                if isinstance(exc, NotFound | PermissionDenied):
                    raise
                _apply_service_error(form, exc)
            else:
                messages.success(request, f"Release {form.cleaned_data['version']} saved.")
                return _redirect_to(request, release.get_absolute_url())
    return _render_form(request, "releases/form.html", context, fragment=_is_fragment(request))


def _redirect_to(request, url: str):
    """After a successful form: htmx follows HX-Location, a plain browser a 302."""
    if _is_fragment(request):
        response = HttpResponse(status=204)
        response["HX-Location"] = url
        return response
    return redirect(url)
