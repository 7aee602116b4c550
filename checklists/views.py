"""Checklist pages: the release checklist, ticking, my open items, the template editor.

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

from checklists import services, template_services
from checklists.forms import (
    AdhocItemForm,
    ItemTemplateForm,
    StepTemplateForm,
    TemplateCreateForm,
    TemplateForm,
)
from checklists.integration import panel_context
from checklists.models import ItemTemplate, StepTemplate, TemplateVersion
from checklists.permissions import can_edit_templates
from checklists.selectors import (
    current_draft,
    item_get,
    latest_published,
    my_open_items,
    published_versions_for,
    step_get,
    template_get,
    template_list,
    template_versions_in_use,
    version_get,
    version_steps,
)
from core.exceptions import DomainError, NotFound, PermissionDenied
from projects.selectors import project_list
from releases.selectors import release_get


def _http_errors(view):
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
@_http_errors
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
@_http_errors
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
@_http_errors
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
@_http_errors
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
@_http_errors
def item_add(request, step_id: int):
    step = step_get(user=request.user, pk=step_id)
    release = step.checklist.release
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
@_http_errors
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


@login_required
@require_POST
@_http_errors
def checklist_start(request, release_id: int):
    release = release_get(user=request.user, pk=release_id)
    try:
        services.checklist_start(
            release=release, actor=request.user, version=_chosen_version(request, release)
        )
    except (NotFound, PermissionDenied):
        raise
    except DomainError as exc:
        return _after_write(request, release, error=exc.message)
    return _after_write(request, release)


@login_required
@require_POST
@_http_errors
def checklist_append(request, release_id: int):
    release = release_get(user=request.user, pk=release_id)
    try:
        services.checklist_append_template(
            release=release, actor=request.user, version=_chosen_version(request, release)
        )
    except (NotFound, PermissionDenied):
        raise
    except DomainError as exc:
        return _after_write(request, release, error=exc.message)
    return _after_write(request, release)


@login_required
@require_GET
def my_items(request):
    """Every open item the signed-in person may tick, across releases."""
    groups = my_open_items(user=request.user)
    if request.htmx:
        return render(request, "checklists/partials/my_items.html", {"groups": groups})
    return render(request, "checklists/my_items.html", {"groups": groups})


# --- Templates -------------------------------------------------------------------------


@login_required
@require_GET
def templates(request):
    """Templates of the person's projects and those shipped with Shipcheck."""
    projects = list(project_list(user=request.user))
    admin_projects = [p for p in projects if can_edit_templates(request.user, p)]
    rows = template_list(user=request.user)
    for template in rows:
        template.latest = latest_published(template)
        template.draft = current_draft(template)
    return render(
        request,
        "checklists/templates.html",
        {
            "shipped": [t for t in rows if t.project_id is None],
            "own": [t for t in rows if t.project_id is not None],
            "admin_projects": admin_projects,
        },
    )


@login_required
@_http_errors
def template_create(request):
    admin_projects = [
        p for p in project_list(user=request.user) if can_edit_templates(request.user, p)
    ]
    if not admin_projects:
        raise PermissionDenied("Only project admins may create checklist templates.")
    versions = [
        v for t in template_list(user=request.user) if (v := latest_published(t)) is not None
    ]
    form = TemplateCreateForm(
        request.POST or None,
        projects=admin_projects,
        versions=versions,
        initial={
            "project": request.GET.get("project", ""),
            "copy_from": request.GET.get("copy_from", ""),
        },
    )
    error = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        project = next(p for p in admin_projects if p.slug == data["project"])
        copy_from = next((v for v in versions if str(v.pk) == data["copy_from"]), None)
        try:
            template = template_services.template_create(
                project=project,
                actor=request.user,
                name=data["name"],
                description=data["description"],
                release_types=data["release_types"],
                copy_from=copy_from,
            )
        except (NotFound, PermissionDenied):
            raise
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(
                request, f"Template '{template.name}' created as a draft. Edit it, then publish."
            )
            return redirect("checklists:template_detail", pk=template.pk)
    return render(request, "checklists/template_create.html", {"form": form, "error": error})


def _editor_context(
    request,
    template,
    *,
    version=None,
    error: str = "",
    error_target: str = "",
    error_pk: int | None = None,
) -> dict:
    editable = can_edit_templates(request.user, template.project) if template.project_id else False
    draft = current_draft(template)
    latest = latest_published(template)
    if version is None:
        version = draft if (draft and editable) else (latest or draft)
    steps = version_steps(version) if version is not None else []
    return {
        "template": template,
        "version": version,
        "steps": steps,
        "draft": draft,
        "latest": latest,
        "editable": editable,
        "editing": editable and version is not None and version.is_draft,
        "in_use": template_versions_in_use(template),
        "settings_form": TemplateForm(
            initial={
                "name": template.name,
                "description": template.description,
                "release_types": template.release_types,
            }
        ),
        "step_form": StepTemplateForm(),
        "item_form": ItemTemplateForm(),
        "error": error,
        "error_target": error_target,
        "error_pk": error_pk,
        "admin_projects": [
            p for p in project_list(user=request.user) if can_edit_templates(request.user, p)
        ],
    }


@login_required
@require_GET
@_http_errors
def template_detail(request, pk: int):
    """A template: its versions, the chosen version's content, and the draft editor for admins."""
    template = template_get(user=request.user, pk=pk)
    version = (
        version_get(template=template, number=request.GET["version"])
        if request.GET.get("version")
        else None
    )
    if (
        version is not None
        and version.is_draft
        and not (template.project_id and can_edit_templates(request.user, template.project))
    ):
        raise NotFound("No such version of this template.")
    context = _editor_context(request, template, version=version)
    if request.htmx:
        return render(request, "checklists/partials/template_editor.html", context)
    return render(request, "checklists/template_detail.html", context)


@login_required
@require_GET
@_http_errors
def template_preview(request, pk: int):
    """How a release's checklist will look with this version (the draft by default)."""
    template = template_get(user=request.user, pk=pk)
    if request.GET.get("version"):
        version = version_get(template=template, number=request.GET["version"])
    else:
        version = current_draft(template) or latest_published(template)
    if version is None:
        raise NotFound("This template has no version yet.")
    if version.is_draft and not (
        template.project_id and can_edit_templates(request.user, template.project)
    ):
        raise NotFound("No such version of this template.")
    return render(
        request,
        "checklists/template_preview.html",
        {"template": template, "version": version, "steps": version_steps(version)},
    )


def _editor_response(
    request, template, *, error: str = "", error_target: str = "", error_pk=None, message: str = ""
):
    template = template_get(user=request.user, pk=template.pk)
    if request.htmx:
        return render(
            request,
            "checklists/partials/template_editor.html",
            _editor_context(
                request, template, error=error, error_target=error_target, error_pk=error_pk
            ),
        )
    if error:
        messages.error(request, error)
    elif message:
        messages.success(request, message)
    return redirect("checklists:template_detail", pk=template.pk)


def _editor_call(
    request, template, call, *, error_target: str = "", error_pk=None, message: str = ""
):
    try:
        call()
    except (NotFound, PermissionDenied):
        raise
    except DomainError as exc:
        return _editor_response(
            request, template, error=exc.message, error_target=error_target, error_pk=error_pk
        )
    return _editor_response(request, template, message=message)


def _form_values(form_class, request) -> dict:
    """Only the fields the form posted, parsed; checkboxes absent mean False."""
    form = form_class(request.POST)
    form.is_valid()
    values = {k: v for k, v in form.cleaned_data.items()}
    for name, value in request.POST.items():
        if name in form.fields and name not in values:
            values[name] = value  # let the service explain what is wrong with it
    return values


@login_required
@require_POST
@_http_errors
def template_action(request, pk: int, op: str):
    """Template-level edits: settings, start/discard draft, publish, add a step."""
    template = template_get(user=request.user, pk=pk)
    actor = request.user
    if op == "settings":
        form = TemplateForm(request.POST)
        if not form.is_valid():
            return _editor_response(
                request,
                template,
                error="Check the template settings: " + next(iter(form.errors.values()))[0],
                error_target="settings",
            )
        data = form.cleaned_data
        return _editor_call(
            request,
            template,
            lambda: template_services.template_update(
                template=template,
                actor=actor,
                name=data["name"],
                description=data["description"],
                release_types=data["release_types"],
            ),
            error_target="settings",
            message="Settings saved.",
        )
    if op == "draft":
        return _editor_call(
            request,
            template,
            lambda: template_services.template_draft_start(template=template, actor=actor),
            message="Draft started from the latest version.",
        )
    if op == "discard":
        return _editor_call(
            request,
            template,
            lambda: template_services.template_draft_discard(template=template, actor=actor),
            message="Draft discarded.",
        )
    if op == "publish":
        return _editor_call(
            request,
            template,
            lambda: template_services.template_publish(
                template=template, actor=actor, change_note=request.POST.get("change_note", "")
            ),
            error_target="publish",
            message="Published. New releases use this version from now on.",
        )
    if op == "add-step":
        draft = current_draft(template)
        if draft is None:
            return _editor_response(request, template, error="Start a draft before adding steps.")
        values = _form_values(StepTemplateForm, request)
        return _editor_call(
            request,
            template,
            lambda: template_services.template_step_add(version=draft, actor=actor, **values),
            error_target="add-step",
        )
    raise NotFound("No such action.")


def _template_step(request, pk) -> StepTemplate:
    step = (
        StepTemplate.objects.select_related("version__template__project").filter(pk=int(pk)).first()
    )
    if step is None:
        raise NotFound("No such step.")
    template_get(user=request.user, pk=step.version.template_id)  # visibility
    return step


def _template_item(request, pk) -> ItemTemplate:
    item = (
        ItemTemplate.objects.select_related("step__version__template__project")
        .filter(pk=int(pk))
        .first()
    )
    if item is None:
        raise NotFound("No such item.")
    template_get(user=request.user, pk=item.step.version.template_id)
    return item


@login_required
@require_POST
@_http_errors
def template_step_action(request, pk: int, op: str):
    step = _template_step(request, pk)
    template, actor = step.version.template, request.user
    if op in ("up", "down"):
        return _editor_call(
            request,
            template,
            lambda: template_services.template_step_move(step=step, actor=actor, direction=op),
        )
    if op == "delete":
        return _editor_call(
            request,
            template,
            lambda: template_services.template_step_delete(step=step, actor=actor),
        )
    if op == "edit":
        values = _form_values(StepTemplateForm, request)
        return _editor_call(
            request,
            template,
            lambda: template_services.template_step_update(step=step, actor=actor, **values),
            error_target="step",
            error_pk=step.pk,
        )
    if op == "add-item":
        values = _form_values(ItemTemplateForm, request)
        values.setdefault("required", False)
        values.setdefault("evidence_required", False)
        return _editor_call(
            request,
            template,
            lambda: template_services.template_item_add(step=step, actor=actor, **values),
            error_target="add-item",
            error_pk=step.pk,
        )
    raise NotFound("No such action.")


@login_required
@require_POST
@_http_errors
def template_item_action(request, pk: int, op: str):
    item = _template_item(request, pk)
    template, actor = item.step.version.template, request.user
    if op in ("up", "down"):
        return _editor_call(
            request,
            template,
            lambda: template_services.template_item_move(item=item, actor=actor, direction=op),
        )
    if op == "delete":
        return _editor_call(
            request,
            template,
            lambda: template_services.template_item_delete(item=item, actor=actor),
        )
    if op == "edit":
        values = _form_values(ItemTemplateForm, request)
        values.setdefault("required", False)
        values.setdefault("evidence_required", False)
        return _editor_call(
            request,
            template,
            lambda: template_services.template_item_update(item=item, actor=actor, **values),
            error_target="item",
            error_pk=item.pk,
        )
    raise NotFound("No such action.")
