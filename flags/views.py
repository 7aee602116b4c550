"""Pages of the flags app: the flags of a project's environment, and the release page's plans.

Each view parses, calls one selector or service and renders. Forms work
without JavaScript (POST, then a redirect); with htmx the release panel's
buttons swap the panel in place.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from core.exceptions import DomainError, NotFound, PermissionDenied
from flags import selectors, services
from flags.choices import FlagSource, Stickiness
from flags.models import Flag, FlagSystem, RolloutPlan, SdkKey
from flags.panels import flags_panel_context
from flags.permissions import can_edit_flags, can_manage_keys
from flags.services.flags import keys_authorize
from projects.models import Environment
from projects.permissions import can_view_project
from projects.selectors import environment_by_name, project_get
from releases.selectors import environment_get, release_get
from releases.views.common import RELEASE_CHANGED_EVENT, is_fragment


def _domain(error: DomainError):
    if isinstance(error, NotFound):
        raise Http404 from None
    if isinstance(error, PermissionDenied):
        raise DjangoPermissionDenied(error.message) from None


def _environment(request, slug: str, name: str) -> Environment:
    try:
        project = project_get(user=request.user, slug=slug)
        return environment_by_name(project=project, name=name)
    except NotFound:
        raise Http404 from None


@login_required
@require_safe
def flags_index(request, slug):
    try:
        project = project_get(user=request.user, slug=slug)
    except NotFound:
        raise Http404 from None
    first = (
        Environment.objects.filter(project=project, retired_at__isnull=True)
        .order_by("-order")
        .first()
    )
    if first is None:
        raise Http404
    return redirect("flags:environment", project.slug, first.name)


def _page(request, environment: Environment, **extra):
    project = environment.project
    system = FlagSystem.objects.filter(environment=environment).first()
    return render(
        request,
        "flags/environment.html",
        {
            "project": project,
            "environment": environment,
            "environments": list(
                Environment.objects.filter(project=project, retired_at__isnull=True).order_by(
                    "order"
                )
            ),
            "flags": list(selectors.environment_flags(environment)),
            "keys": list(selectors.environment_keys(environment))
            if can_manage_keys(request.user, project)
            else [],
            "system": system,
            "can_edit": can_edit_flags(request.user, project),
            "can_manage_keys": can_manage_keys(request.user, project),
            "stickiness_choices": Stickiness.choices,
            **extra,
        },
    )


def _back(environment: Environment, **params) -> HttpResponse:
    url = reverse("flags:environment", args=[environment.project.slug, environment.name])
    return redirect(url + ("?" + urlencode(params) if params else ""))


@login_required
def flags_page(request, slug, environment):
    env = _environment(request, slug, environment)
    if request.method == "GET":
        return _page(request, env, notice=request.GET.get("notice", "")[:200])
    if request.method != "POST":
        return HttpResponse(status=405)
    form = request.POST.get("form")
    try:
        # The right first, whatever was sent (an auditor is refused before any form is read).
        authorize = keys_authorize if form in ("key", "system") else services.flag_authorize
        authorize(request.user, env)
    except DomainError as error:
        _domain(error)
        raise
    try:
        if form == "flag":
            flag = services.flag_create(
                environment=env,
                actor=request.user,
                key=request.POST.get("key", "").strip(),
                description=request.POST.get("description", ""),
                rollout=request.POST.get("rollout", "0") or "0",
                enabled=request.POST.get("enabled") == "on",
                stickiness=request.POST.get("stickiness", Stickiness.USER_ID),
                group_id=request.POST.get("group_id", ""),
                beta_testers=request.POST.get("beta_testers", ""),
            )
            return _back(env, notice=f"Flag {flag.key} created.")
        if form == "key":
            row, raw = services.sdk_key_create(
                environment=env, actor=request.user, name=request.POST.get("name", "")
            )
            return _page(request, env, new_key=raw, new_key_row=row)
        if form == "system":
            services.flag_system_set(
                environment=env,
                actor=request.user,
                base_url=request.POST.get("base_url", "").strip(),
                token=request.POST.get("token", "") or None,
                unleash_project=request.POST.get("unleash_project", "default").strip() or "default",
                unleash_environment=request.POST.get("unleash_environment", "").strip() or None,
            )
            return _back(env, notice="Flag system saved.")
    except DomainError as error:
        _domain(error)
        return _page(request, env, error=error.message, posted=request.POST)
    return _page(request, env, error="Unknown form.")


@login_required
@require_POST
def flag_edit(request, pk):
    flag = Flag.objects.select_related("environment__project").filter(pk=pk).first()
    if flag is None or not can_view_project(request.user, flag.project_id):
        raise Http404
    data: dict = {}
    if "toggle" in request.POST:
        data["enabled"] = request.POST.get("toggle") == "on"
    else:
        data = {
            "rollout": request.POST.get("rollout", str(flag.rollout)),
            "enabled": request.POST.get("enabled") == "on",
            "stickiness": request.POST.get("stickiness", flag.stickiness),
            "group_id": request.POST.get("group_id", flag.group_id),
            "beta_testers": request.POST.get("beta_testers", ""),
            "description": request.POST.get("description", flag.description),
        }
    try:
        services.flag_update(flag=flag, actor=request.user, **data)
    except DomainError as error:
        _domain(error)
        return _page(request, flag.environment, error=error.message)
    return _back(flag.environment, notice=f"Flag {flag.key} saved.")


@login_required
@require_POST
def key_revoke(request, pk):
    key = SdkKey.objects.select_related("environment__project").filter(pk=pk).first()
    if key is None or not can_view_project(request.user, key.environment.project_id):
        raise Http404
    try:
        services.sdk_key_revoke(key=key, actor=request.user)
    except DomainError as error:
        _domain(error)
        raise
    return _back(key.environment, notice=f"Key {key.name} revoked.")


# --- The release page's plans -------------------------------------------------------------


def _panel(request, release, **extra) -> HttpResponse:
    context = {**flags_panel_context(release, request), "release": release, **extra}
    response = render(request, "flags/partials/release_panel.html", context)
    return response


def _release(request, pk):
    try:
        return release_get(user=request.user, pk=pk)
    except NotFound:
        raise Http404 from None


@login_required
@require_safe
def plan_panel(request, pk):
    """The panel alone (htmx polls it while a plan runs), or the release page."""
    release = _release(request, pk)
    if not is_fragment(request):
        return redirect(reverse("releases:detail", args=[release.pk]) + "#flags-panel")
    return _panel(request, release)


def _after(request, release, *, error: str = "") -> HttpResponse:
    if is_fragment(request):
        response = _panel(request, release, panel_error=error)
        if not error:
            response["HX-Trigger"] = RELEASE_CHANGED_EVENT
        return response
    if error:
        return _panel_page_error(request, release, error)
    return redirect(reverse("releases:detail", args=[release.pk]) + "#flags-panel")


def _panel_page_error(request, release, error: str) -> HttpResponse:
    return render(
        request,
        "flags/plan_error.html",
        {"release": release, "error": error},
        status=400,
    )


def _steps_from_form(post) -> list[dict] | None:
    raw = (post.get("percents") or "").strip()
    if not raw:
        return None
    unit = {"minutes": 60, "hours": 3600, "days": 86400, "seconds": 1}.get(
        post.get("hold_unit", "days"), 86400
    )
    try:
        hold = float(post.get("hold", "7") or "7") * unit
    except ValueError:
        hold = -1
    steps = []
    for part in raw.replace("→", ",").replace(" ", ",").split(","):
        if not part.strip():
            continue
        try:
            percent: object = int(part.strip().rstrip("%"))
        except ValueError:
            percent = part
        steps.append({"percent": percent, "hold_seconds": hold})
    return steps


@login_required
@require_POST
def plan_new(request, pk):
    release = _release(request, pk)
    post = request.POST
    try:
        environment = environment_get(release=release, name_or_id=post.get("environment", ""))
        services.plan_create(
            release=release,
            environment=environment,
            actor=request.user,
            flag_key=post.get("flag", "").strip(),
            source=post.get("source", FlagSource.SHIPCHECK),
            steps=_steps_from_form(post),
            auto_advance=post.get("auto_advance") == "on",
            disable_on_fail=post.get("disable_on_fail") == "on",
            check_names=[n.strip() for n in post.get("checks", "").split(",") if n.strip()],
            rollback_hook_url=post.get("rollback_hook_url", "").strip(),
            rollback_hook_secret=post.get("rollback_hook_secret", ""),
        )
    except DomainError as error:
        _domain(error)
        return _after(request, release, error=error.message)
    return _after(request, release)


ACTIONS = {
    "start": services.plan_start,
    "advance": services.plan_advance,
    "pause": services.plan_pause,
    "resume": services.plan_resume,
    "skip": services.plan_skip,
    "abort": services.plan_abort,
    "complete": services.plan_complete,
    "tick-checklist": services.plan_checklist_tick,
}


@login_required
@require_POST
def plan_action(request, pk, action):
    plan = RolloutPlan.objects.select_related("release").filter(pk=pk).first()
    if plan is None or action not in ACTIONS:
        raise Http404
    release = _release(request, plan.release_id)
    service = ACTIONS[action]
    kwargs = {"plan": plan, "actor": request.user}
    if action not in ("start", "tick-checklist"):
        kwargs["reason"] = request.POST.get("reason", "").strip()[:2000]
    try:
        service(**kwargs)
    except DomainError as error:
        _domain(error)
        return _after(request, release, error=error.message)
    return _after(request, release)
