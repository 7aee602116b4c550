"""Create and edit a release: one form, checked as the person types (htmx), saved by a service."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from core.exceptions import DomainError, NotFound, PermissionDenied
from projects.choices import Role
from projects.permissions import can_create_release, role_refusal
from projects.selectors import project_list
from releases.exceptions import DuplicateVersion, InvalidVersion
from releases.forms import ReleaseForm
from releases.selectors import release_get
from releases.services import release_authorize, release_create, release_update
from releases.views.common import is_fragment


def _is_validation_only(request) -> bool:
    """htmx asks to check the form as the person types; nothing is saved."""
    return is_fragment(request) and request.POST.get("_validate") == "1"


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
    return _render_form(request, "releases/form.html", context, fragment=is_fragment(request))


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
    return _render_form(request, "releases/form.html", context, fragment=is_fragment(request))


def _redirect_to(request, url: str):
    """After a successful form: htmx follows HX-Location, a plain browser a 302."""
    if is_fragment(request):
        response = HttpResponse(status=204)
        response["HX-Location"] = url
        return response
    return redirect(url)
