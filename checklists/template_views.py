"""Template pages: the list, creating a template, the draft editor, preview and publishing.

Only project admins edit; everyone who may see a template reads it. Every
editor form answers the re-rendered editor for htmx, or redirects back to the
template page without JavaScript. Bad input is shown in place (status 200).
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from checklists import services
from checklists.forms import ItemTemplateForm, StepTemplateForm, TemplateCreateForm, TemplateForm
from checklists.models import ItemTemplate, StepTemplate, TemplateVersion
from checklists.permissions import can_edit_templates
from checklists.selectors import (
    current_draft,
    latest_published,
    template_get,
    template_item_get,
    template_list,
    template_step_get,
    template_versions_in_use,
    version_get,
    version_steps,
)
from checklists.views import http_errors
from core.exceptions import DomainError, NotFound, PermissionDenied
from projects.choices import Role
from projects.permissions import role_refusal
from projects.selectors import project_list


@login_required
@require_GET
def templates(request):
    """Templates of the person's projects and those shipped with Shipcheck."""
    projects = list(project_list(user=request.user))
    admin_projects = [p for p in projects if can_edit_templates(request.user, p)]
    rows = template_list(user=request.user)
    for template in rows:
        # Not model fields: attributes for the template.
        cast(Any, template).latest = latest_published(template)
        cast(Any, template).draft = current_draft(template)
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
@http_errors
def template_create(request):
    admin_projects = [
        p for p in project_list(user=request.user) if can_edit_templates(request.user, p)
    ]
    if not admin_projects:
        raise role_refusal(Role.ADMIN, to="create checklist templates")
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
    project = next((p for p in admin_projects if p.slug == request.POST.get("project")), None)
    if request.method == "POST" and project is None:
        error = "Choose one of your projects."
    elif request.method == "POST":
        # Name, description and release types are the service's to check (as in the API).
        copy_from = next((v for v in versions if str(v.pk) == request.POST.get("copy_from")), None)
        assert project is not None  # the branch above answered a POST without one
        try:
            template = services.template_create(
                project=project,
                actor=request.user,
                name=request.POST.get("name", ""),
                description=request.POST.get("description", ""),
                release_types=request.POST.getlist("release_types"),
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
@http_errors
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
@http_errors
def template_preview(request, pk: int):
    """How a release's checklist will look with this version (the draft by default)."""
    template = template_get(user=request.user, pk=pk)
    version: TemplateVersion | None
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
@http_errors
def template_action(request, pk: int, op: str):
    """Template-level edits: settings, start/discard draft, publish, add a step."""
    template = template_get(user=request.user, pk=pk)
    actor = request.user
    services.template_edit_authorize(project=template.project, actor=actor)
    if op == "settings":
        # The service checks every value, so the page and the API refuse with one sentence.
        return _editor_call(
            request,
            template,
            lambda: services.template_update(
                template=template,
                actor=actor,
                name=request.POST.get("name", ""),
                description=request.POST.get("description", ""),
                release_types=request.POST.getlist("release_types"),
            ),
            error_target="settings",
            message="Settings saved.",
        )
    if op == "draft":
        return _editor_call(
            request,
            template,
            lambda: services.template_draft_start(template=template, actor=actor),
            message="Draft started from the latest version.",
        )
    if op == "discard":
        return _editor_call(
            request,
            template,
            lambda: services.template_draft_discard(template=template, actor=actor),
            message="Draft discarded.",
        )
    if op == "publish":
        return _editor_call(
            request,
            template,
            lambda: services.template_publish(
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
            lambda: services.template_step_add(version=draft, actor=actor, **values),
            error_target="add-step",
        )
    raise NotFound("No such action.")


def _item_values(request) -> dict:
    """The item form's values; an unticked checkbox is not sent, so it means False."""
    values = _form_values(ItemTemplateForm, request)
    values.setdefault("required", False)
    values.setdefault("evidence_required", False)
    return values


def _template_step(request, pk) -> StepTemplate:
    # One message whether the step is missing or belongs to a project this person cannot see.
    step = template_step_get(pk=pk)
    try:
        template_get(user=request.user, pk=step.version.template_id)  # visibility
    except NotFound:
        raise NotFound("No such step.") from None
    return step


def _template_item(request, pk) -> ItemTemplate:
    item = template_item_get(pk=pk)
    try:
        template_get(user=request.user, pk=item.step.version.template_id)
    except NotFound:
        raise NotFound("No such item.") from None
    return item


@login_required
@require_POST
@http_errors
def template_step_action(request, pk: int, op: str):
    step = _template_step(request, pk)
    template, actor = step.version.template, request.user
    services.template_edit_authorize(project=template.project, actor=actor)
    if op in ("up", "down"):
        return _editor_call(
            request,
            template,
            lambda: services.template_step_move(step=step, actor=actor, direction=op),
        )
    if op == "delete":
        return _editor_call(
            request,
            template,
            lambda: services.template_step_delete(step=step, actor=actor),
        )
    if op == "edit":
        values = _form_values(StepTemplateForm, request)
        return _editor_call(
            request,
            template,
            lambda: services.template_step_update(step=step, actor=actor, **values),
            error_target="step",
            error_pk=step.pk,
        )
    if op == "add-item":
        values = _item_values(request)
        return _editor_call(
            request,
            template,
            lambda: services.template_item_add(step=step, actor=actor, **values),
            error_target="add-item",
            error_pk=step.pk,
        )
    raise NotFound("No such action.")


@login_required
@require_POST
@http_errors
def template_item_action(request, pk: int, op: str):
    item = _template_item(request, pk)
    template, actor = item.step.version.template, request.user
    services.template_edit_authorize(project=template.project, actor=actor)
    if op in ("up", "down"):
        return _editor_call(
            request,
            template,
            lambda: services.template_item_move(item=item, actor=actor, direction=op),
        )
    if op == "delete":
        return _editor_call(
            request,
            template,
            lambda: services.template_item_delete(item=item, actor=actor),
        )
    if op == "edit":
        values = _item_values(request)
        return _editor_call(
            request,
            template,
            lambda: services.template_item_update(item=item, actor=actor, **values),
            error_target="item",
            error_pk=item.pk,
        )
    raise NotFound("No such action.")
