"""Checklist pages: a release's checklist, ticking, my open items (templates: ``template_views``).

Views parse input, call one selector or service and render. An htmx request
gets the re-rendered fragment, read fresh from the database, so whoever ticks
also sees what others ticked meanwhile. Without JavaScript every form posts
and redirects back. Missing and forbidden objects answer 404; a refused
action answers 403; bad input re-renders with the message and status 200.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from checklists import services
from checklists.forms import AdhocItemForm
from checklists.integration import panel_context
from checklists.models import TemplateVersion
from checklists.selectors import item_get, my_open_items, published_versions_for, step_get
from core.exceptions import DomainError, NotFound, PermissionDenied
from releases.selectors import release_get


def http_errors(view):
    """NotFound → 404 and PermissionDenied → 403 for pages (the API has its own handler)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from None
        except PermissionDenied as exc:
            raise HttpForbidden(exc.message) from None

    return wrapper


def _release_url(release) -> str:
    try:
        return release.get_absolute_url() + "#checklist"
    except NoReverseMatch:
        return reverse("checklists:release", args=[release.pk])


def _back(request, fallback: str):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, request.is_secure()
    ):
        return redirect(target)
    return redirect(fallback)


# --- A release's checklist -----------------------------------------------------------


def _gate_may_have_moved(board, step_id: int | None) -> bool:
    """Did the change complete a gating step, or reopen a complete one? Then the page's gates must refresh."""
    if board is None or step_id is None:
        return False
    view = next((s for s in board.steps if s.step.pk == step_id), None)
    if view is None or view.step.gated_tier is None:
        return False
    return view.is_complete or len(view.missing) == 1


def _board_response(
    request,
    release,
    *,
    error: str = "",
    error_item: int | None = None,
    error_step: int | None = None,
    notice: str = "",
    changed_step: int | None = None,
):
    if request.POST.get("view") == "my_items":
        return render(
            request,
            "checklists/partials/my_items.html",
            {
                "groups": my_open_items(user=request.user),
                "error": error,
                "error_item": error_item,
                "notice": notice,
            },
        )
    context = panel_context(release, request)
    context.update(
        mine=request.POST.get("mine") == "1",
        error=error,
        error_item=error_item,
        error_step=error_step,
        notice=notice,
    )
    response = render(request, "checklists/partials/checklist.html", context)
    if not error and not notice:
        events = ["checklistChanged"]
        if _gate_may_have_moved(context["board"], changed_step):
            # The release page redraws its gates on this event (releases/partials/release_live.html).
            events.append("releaseChanged")
        response["HX-Trigger"] = ", ".join(events)
    return response


def _after_write(
    request,
    release,
    *,
    error: str = "",
    error_item=None,
    error_step=None,
    notice: str = "",
    changed_step=None,
):
    if request.htmx:
        return _board_response(
            request,
            release,
            error=error,
            error_item=error_item,
            error_step=error_step,
            notice=notice,
            changed_step=changed_step,
        )
    if error:
        messages.error(request, error)
    elif notice:
        messages.warning(request, notice)
    fallback = (
        reverse("checklists:my_items")
        if request.POST.get("view") == "my_items"
        else _release_url(release)
    )
    return _back(request, fallback)


@login_required
@require_GET
@http_errors
def release_checklist(request, release_id: int):
    """The checklist of one release: the whole page, or the fragment for htmx (``?mine=1`` filters)."""
    release = release_get(user=request.user, pk=release_id)
    context = panel_context(release, request)
    if request.htmx:
        return render(request, "checklists/partials/checklist.html", context)
    return render(request, "checklists/release.html", context)


def _item_write(request, item_id: int, call):
    item = item_get(user=request.user, pk=item_id)
    release = item.checklist.release
    try:
        result = call(item)
    except (NotFound, PermissionDenied):
        raise
    except DomainError as exc:
        return _after_write(request, release, error=exc.message, error_item=item.pk)
    notice = ""
    if (
        result is not None
        and result.completed_by_id not in (None, request.user.pk)
        and result.status != "open"
    ):
        who = result.completed_by.get_username() if result.completed_by else "someone"
        notice = f"'{result.text}' was already {result.get_status_display().lower()} by {who}."
    return _after_write(request, release, notice=notice, changed_step=item.step_id)


@login_required
@require_POST
@http_errors
def item_tick(request, item_id: int):
    return _item_write(
        request,
        item_id,
        lambda item: services.item_tick(
            item=item,
            actor=request.user,
            note=request.POST.get("note", ""),
            evidence=request.POST.get("evidence", ""),
        ),
    )


@login_required
@require_POST
@http_errors
def item_untick(request, item_id: int):
    return _item_write(
        request,
        item_id,
        lambda item: services.item_untick(
            item=item, actor=request.user, reason=request.POST.get("reason", "")
        ),
    )


@login_required
@require_POST
@http_errors
def item_not_applicable(request, item_id: int):
    return _item_write(
        request,
        item_id,
        lambda item: services.item_mark_not_applicable(
            item=item, actor=request.user, reason=request.POST.get("reason", "")
        ),
    )


@login_required
@require_POST
@http_errors
def item_add(request, step_id: int):
    step = step_get(user=request.user, pk=step_id)
    release = step.checklist.release
    services.item_add_authorize(step=step, actor=request.user)
    form = AdhocItemForm(request.POST)
    if not form.is_valid():
        first = next(iter(form.errors.values()))[0]
        return _after_write(request, release, error=f"Item not added: {first}", error_step=step.pk)
    try:
        services.item_add(step=step, actor=request.user, **form.cleaned_data)
    except (NotFound, PermissionDenied):
        raise
    except DomainError as exc:
        return _after_write(request, release, error=exc.message, error_step=step.pk)
    return _after_write(request, release, changed_step=step.pk)


@login_required
@require_POST
@http_errors
def step_output(request, step_id: int):
    step = step_get(user=request.user, pk=step_id)
    release = step.checklist.release
    try:
        services.step_record_output(
            step=step, actor=request.user, text=request.POST.get("actual_output", "")
        )
    except (NotFound, PermissionDenied):
        raise
    except DomainError as exc:
        return _after_write(request, release, error=exc.message, error_step=step.pk)
    return _after_write(request, release)


def _chosen_version(request, release) -> TemplateVersion:
    wanted = request.POST.get("version", "")
    version = next(
        (
            v
            for v in published_versions_for(user=request.user, project=release.project)
            if str(v.pk) == wanted
        ),
        None,
    )
    if version is None:
        raise NotFound("No such template.")
    return version


def _from_template(request, release_id: int, service):
    """Start or extend a release's checklist from the chosen template; refusals show in place."""
    release = release_get(user=request.user, pk=release_id)
    try:
        service(release=release, actor=request.user, version=_chosen_version(request, release))
    except (NotFound, PermissionDenied):
        raise
    except DomainError as exc:
        return _after_write(request, release, error=exc.message)
    return _after_write(request, release)


@login_required
@require_POST
@http_errors
def checklist_start(request, release_id: int):
    return _from_template(request, release_id, services.checklist_start)


@login_required
@require_POST
@http_errors
def checklist_append(request, release_id: int):
    return _from_template(request, release_id, services.checklist_append_template)


@login_required
@require_GET
def my_items(request):
    """Every open item the signed-in person may tick, across releases."""
    groups = my_open_items(user=request.user)
    if request.htmx:
        return render(request, "checklists/partials/my_items.html", {"groups": groups})
    return render(request, "checklists/my_items.html", {"groups": groups})
