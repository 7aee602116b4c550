"""Monitoring pages: the live window view, the overview and the check configuration pages.

Thin views: parse, call one selector or service, render. One view serves the
page and, for htmx, the fragment. Missing and forbidden objects are 404.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.exceptions import DomainError, NotFound, PermissionDenied, ValidationFailed
from core.when import elapsed_percent
from monitoring import registry, selectors, services
from monitoring.charts import check_chart
from monitoring.choices import (
    WINDOW_OPEN_STATES,
    CheckKind,
    DecisionAction,
    RolloutState,
    WindowStatus,
)
from monitoring.forms import (
    POLICY_FIELD_MAP,
    DecisionForm,
    HealthCheckForm,
    MetricCheckForm,
    PolicyForm,
    check_initial,
)
from monitoring.permissions import can_configure_checks, can_decide_window, can_run_prechecks
from projects.permissions import can_deploy

# The live view refreshes itself this often while a window is open.
LIVE_REFRESH_SECONDS = 3


def _get(func, **kwargs):
    try:
        return func(**kwargs)
    except NotFound:
        raise Http404 from None


def _authorize(check, **kwargs) -> None:
    """Ask a service's ``*_authorize`` before reading a form: 404 or 403 whatever the body says."""
    try:
        check(**kwargs)
    except DomainError as exc:
        _domain(exc)
        raise


def _domain(error: DomainError):
    if isinstance(error, NotFound):
        raise Http404 from None
    if isinstance(error, PermissionDenied):
        raise DjangoPermissionDenied(error.message) from None


# --- Overview ------------------------------------------------------------------------------------


@login_required
@require_safe
def index(request):
    windows = selectors.window_list(user=request.user)
    open_windows = list(windows.filter(status__in=WINDOW_OPEN_STATES)[:50])
    recent = list(windows.exclude(status__in=WINDOW_OPEN_STATES)[:30])
    environments = selectors.project_environments(user=request.user)
    now = timezone.now()
    return render(
        request,
        "monitoring/index.html",
        {
            "open_windows": open_windows,
            "recent_windows": recent,
            "projects": environments,
            "now": now,
            "sections": registry.overview_sections(user=request.user, now=now),
        },
    )


# --- The live window view ------------------------------------------------------------------------


def _window_context(request, window, *, error: str = "", notice: str = "") -> dict:
    now = timezone.now()
    grouped = selectors.window_samples(window=window)
    gaps = list(window.gaps.all())
    rows = []
    for check in window.checks.all():
        samples = grouped.get(check.pk, [])
        rows.append(
            {
                "check": check,
                "chart": check_chart(check, samples, window, gaps, now),
                "latest": samples[-1] if samples else None,
            }
        )
    release = window.deployment.release
    is_open = window.status in WINDOW_OPEN_STATES
    can_decide = can_decide_window(request.user, release)
    actions = []
    if can_decide and is_open:
        actions = [DecisionAction.ROLLBACK, DecisionAction.EXTEND, DecisionAction.ACCEPT]
    awaiting = window.rollout_state == RolloutState.AWAITING_PROMOTION
    deployment = window.deployment
    remaining = (
        max(int((window.ends_at - now).total_seconds()), 0)
        if window.status == WindowStatus.RUNNING
        else 0
    )
    return {
        "window": window,
        "deployment": deployment,
        "release": release,
        "rows": rows,
        "gaps": gaps,
        "decisions": list(window.decisions.all()),
        "hook_calls": list(window.hook_calls.all()),
        "is_open": is_open,
        "remaining_seconds": remaining,
        "remaining_text": f"{remaining // 3600:d}:{remaining % 3600 // 60:02d}:{remaining % 60:02d}"
        if remaining >= 3600
        else f"{remaining // 60:d}:{remaining % 60:02d}",
        "elapsed_percent": elapsed_percent(
            window.started_at, window.ends_at, window.finished_at or now
        ),
        "can_decide": can_decide,
        "actions": actions,
        "can_promote": can_decide and awaiting and window.status == WindowStatus.PASSED,
        "can_record_rollback": (
            can_deploy(request.user, release)
            and can_decide
            and window.status == WindowStatus.FAILED
            and deployment.status == "failed"
        ),
        "live": is_open or awaiting,
        "refresh_seconds": LIVE_REFRESH_SECONDS,
        "seen": f"{window.status}:{window.rollout_state}",
        "error": error,
        "notice": notice,
        "decision_form": DecisionForm(),
        "now": now,
    }


@login_required
@require_safe
def window_detail(request, pk):
    window = _get(selectors.window_get, user=request.user, pk=pk)
    context = _window_context(request, window)
    if request.htmx and request.GET.get("part") == "live":
        response = render(request, "monitoring/partials/window_live.html", context)
        if request.GET.get("seen") and request.GET["seen"] != context["seen"]:
            response["HX-Trigger"] = "windowChanged"
        return response
    if request.htmx and request.GET.get("part") == "actions":
        return render(request, "monitoring/partials/window_actions.html", context)
    return render(request, "monitoring/window.html", context)


@login_required
@require_POST
def window_decide(request, pk):
    window = _get(selectors.window_get, user=request.user, pk=pk)
    _authorize(services.window_authorize, window=window, actor=request.user)
    form = DecisionForm(request.POST)
    error, notice = "", ""
    if not form.is_valid():
        error = " ".join(str(e) for errors in form.errors.values() for e in errors)
    else:
        data = form.cleaned_data
        try:
            services.window_decide(
                window=window,
                actor=request.user,
                action=data["action"],
                reason=data.get("reason") or "",
                extend_minutes=data.get("extend_minutes"),
            )
            notice = {
                DecisionAction.ACCEPT: "Accepted: the window passed.",
                DecisionAction.EXTEND: "Extended: polling continues.",
                DecisionAction.ROLLBACK: "Aborted: the deployment is marked failed and a rollback is under way.",
                DecisionAction.PROMOTE: "Full rollout approved.",
            }[data["action"]]
        except DomainError as exc:
            _domain(exc)
            error = exc.message
    if not request.htmx:
        return redirect("monitoring:window", pk=window.pk)
    window = _get(selectors.window_get, user=request.user, pk=pk)
    return render(
        request,
        "monitoring/partials/window_body.html",
        _window_context(request, window, error=error, notice=notice),
    )


@login_required
@require_POST
def window_record_rollback(request, pk):
    """A person says the failed deployment was rolled back by hand (no hook, or the hook failed)."""
    from releases.services import deployment_rollback

    window = _get(selectors.window_get, user=request.user, pk=pk)
    error, notice = "", ""
    _authorize(services.window_authorize, window=window, actor=request.user)
    try:
        deployment_rollback(
            deployment=window.deployment,
            actor=request.user,
            reason=(request.POST.get("reason") or "").strip(),
        )
        notice = "Recorded: the deployment is rolled back."
    except DomainError as exc:
        _domain(exc)
        error = exc.message
    if not request.htmx:
        return redirect("monitoring:window", pk=window.pk)
    window = _get(selectors.window_get, user=request.user, pk=pk)
    return render(
        request,
        "monitoring/partials/window_body.html",
        _window_context(request, window, error=error, notice=notice),
    )


# --- Configuration pages ---------------------------------------------------------------------------


def _config_context(
    request, environment, *, policy_form=None, notice: str = "", error: str = ""
) -> dict:
    policy = services.policy_for(environment)
    health, metrics = selectors.environment_checks(environment)
    project = environment.project
    return {
        "environment": environment,
        "project": project,
        "policy": policy,
        "policy_form": policy_form or PolicyForm(initial=PolicyForm.initial_from(policy)),
        "health_checks": health,
        "metric_checks": metrics,
        "can_configure": can_configure_checks(request.user, project),
        "can_run_prechecks": can_run_prechecks(request.user, project),
        "precheck": services.precheck_latest(environment),
        "notice": notice,
        "error": error,
        "environments": list(project.environments.order_by("order")),
    }


@login_required
@require_safe
def environment_config(request, project_slug, env_name):
    environment = _get(
        selectors.environment_get, user=request.user, project_slug=project_slug, name=env_name
    )
    return render(request, "monitoring/environment.html", _config_context(request, environment))


def _apply_errors(form, error: ValidationFailed, field_map: dict | None = None) -> None:
    field_map = field_map or {}
    placed = False
    for field, message in (error.details or {}).items():
        name = field_map.get(field, field)
        if name in form.fields:
            form.add_error(name, message)
            placed = True
    if not placed:
        form.add_error(None, error.message)


@login_required
@require_POST
def policy_save(request, project_slug, env_name):
    environment = _get(
        selectors.environment_get, user=request.user, project_slug=project_slug, name=env_name
    )
    _authorize(services.config_authorize, environment=environment, actor=request.user)
    form: PolicyForm | None  # None once saved: the card then shows the saved policy
    form = PolicyForm(request.POST)
    notice = ""
    if form.is_valid():
        try:
            services.policy_update(
                environment=environment, actor=request.user, **form.service_data()
            )
            notice = "Saved the monitoring policy."
            form = None
        except ValidationFailed as exc:
            _apply_errors(form, exc, POLICY_FIELD_MAP)
        except DomainError as exc:
            _domain(exc)
    context = _config_context(request, environment, policy_form=form, notice=notice)
    if request.htmx:
        return render(request, "monitoring/partials/policy_card.html", context)
    if notice:
        return redirect("monitoring:environment", project_slug=project_slug, env_name=env_name)
    return render(request, "monitoring/environment.html", context)


def _form_class(kind: str):
    if kind == CheckKind.HEALTH:
        return HealthCheckForm
    if kind == CheckKind.METRIC:
        return MetricCheckForm
    raise Http404


def _check_form(request, form, *, environment, kind: str, check, save) -> HttpResponse:
    """The check form page: ``save(form)`` on a valid POST, then back to the environment."""
    if request.method == "POST" and form.is_valid():
        try:
            save(form)
            return redirect(
                "monitoring:environment",
                project_slug=environment.project.slug,
                env_name=environment.name,
            )
        except ValidationFailed as exc:
            _apply_errors(form, exc)
        except DomainError as exc:
            _domain(exc)
    return render(
        request,
        "monitoring/check_form.html",
        {
            "form": form,
            "environment": environment,
            "project": environment.project,
            "kind": kind,
            "check": check,
        },
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def check_new(request, project_slug, env_name, kind):
    environment = _get(
        selectors.environment_get, user=request.user, project_slug=project_slug, name=env_name
    )
    form_class = _form_class(kind)
    _authorize(services.config_authorize, environment=environment, actor=request.user)
    return _check_form(
        request,
        form_class(request.POST or None),
        environment=environment,
        kind=kind,
        check=None,
        save=lambda form: services.check_create(
            environment=environment, kind=kind, actor=request.user, **form.service_data()
        ),
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def check_edit(request, kind, pk):
    check = _get(selectors.check_get, user=request.user, kind=kind, pk=pk)
    environment = check.environment
    form_class = _form_class(kind)
    _authorize(services.config_authorize, environment=environment, actor=request.user)
    return _check_form(
        request,
        form_class(request.POST or None, initial=check_initial(check)),
        environment=environment,
        kind=kind,
        check=check,
        save=lambda form: services.check_update(
            check=check,
            actor=request.user,
            keep_headers=not form.clears_headers,
            **form.service_data(),
        ),
    )


@login_required
@require_POST
def check_delete(request, kind, pk):
    check = _get(selectors.check_get, user=request.user, kind=kind, pk=pk)
    environment = check.environment
    try:
        services.check_delete(check=check, actor=request.user)
    except DomainError as exc:
        _domain(exc)
    target = reverse("monitoring:environment", args=[environment.project.slug, environment.name])
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Location"] = target
        return response
    return redirect(target)


@login_required
@require_POST
def check_test(request, kind, pk):
    """The "test this check now" button: one real probe, nothing stored."""
    check = _get(selectors.check_get, user=request.user, kind=kind, pk=pk)
    try:
        result = services.check_test_now(check=check, actor=request.user)
    except DomainError as exc:
        _domain(exc)
        raise
    context = {"check": check, "kind": kind, "result": result}
    if request.htmx:
        return render(request, "monitoring/partials/test_result.html", context)
    environment = check.environment
    return render(
        request,
        "monitoring/environment.html",
        {
            **_config_context(request, environment),
            "test_result": context,
        },
    )


@login_required
@require_POST
def precheck_run(request, project_slug, env_name):
    environment = _get(
        selectors.environment_get, user=request.user, project_slug=project_slug, name=env_name
    )
    error = ""
    try:
        run = services.precheck_run(environment=environment, actor=request.user)
        if run is None:
            error = "Nothing to check: add a health check first."
    except DomainError as exc:
        _domain(exc)
        error = exc.message
    if request.htmx:
        return render(
            request,
            "monitoring/partials/precheck_card.html",
            _config_context(request, environment, error=error),
        )
    return redirect("monitoring:environment", project_slug=project_slug, env_name=env_name)
