"""Closing pages: QA's confirmations on production, closing a release, project settings.

Same conventions as ``incidents.views``: the right first, then the form, then one service.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from core.exceptions import DomainError, NotFound, PermissionDenied
from incidents import forms, selectors
from incidents.models import PostMortemKind, ReleaseClosure, TicketConfirmation
from incidents.permissions import (
    can_close_release,
    can_confirm_tickets,
    can_respond,
    require_close,
    require_confirm,
    require_respond,
)
from incidents.services import (
    release_close,
    release_close_blockers,
    retrospective_open,
    settings_for,
    settings_update,
    ticket_confirm,
)
from incidents.views import _refused
from projects.models import Project
from projects.permissions import can_admin_project
from releases.models import Release

# --- Closing a release -------------------------------------------------------------------


def _release(request: HttpRequest, pk: int) -> Release:
    release = (
        Release.objects.filter(pk=pk, project_id__in=selectors.visible_project_ids(request.user))
        .select_related("project", "release_manager")
        .first()
    )
    if release is None:
        raise NotFound("No such release.")
    return release


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def release_close_view(request: HttpRequest, pk: int) -> HttpResponse:
    """QA's confirmations of the tickets on production, the blockers and the closing form."""
    release = _release(request, pk)
    if request.method == "POST":
        require_close(request.user, release)
        form = forms.CloseForm(request.POST)
        if form.is_valid():
            try:
                release_close(
                    actor=request.user, release=release, summary=form.cleaned_data["summary"]
                )
            except DomainError as exc:
                _refused(request, exc)
            else:
                messages.success(
                    request, f"Release {release.version} closed; the results were sent."
                )
                return redirect("incidents:release-close", pk=pk)
        else:
            messages.error(request, "Nothing changed. " + " ".join(forms.form_errors(form)))
    tickets = list(release.tickets.all())
    checks = {
        c.ticket_id: c
        for c in TicketConfirmation.objects.filter(release=release).select_related("checked_by")
    }
    return render(
        request,
        "incidents/release_close.html",
        {
            "release": release,
            "rows": [(t, checks.get(t.pk)) for t in tickets],
            "blockers": release_close_blockers(release=release),
            "closure": ReleaseClosure.objects.filter(release=release)
            .select_related("closed_by")
            .first(),
            "can_confirm": can_confirm_tickets(request.user, release.project_id),
            "can_close": can_close_release(request.user, release),
            "can_respond": can_respond(request.user, release.project_id),
            "retrospective": release.postmortems.filter(kind=PostMortemKind.RETROSPECTIVE).first(),
            "form": forms.CloseForm(),
        },
    )


@login_required
@require_POST
def ticket_check_view(request: HttpRequest, pk: int, ticket_pk: int) -> HttpResponse:
    release = _release(request, pk)
    require_confirm(request.user, release.project_id, "confirm tickets on production")
    ticket = release.tickets.filter(pk=ticket_pk).first()
    if ticket is None:
        raise NotFound("No such ticket in this release.")
    confirmed = request.POST.get("result") == "confirmed"
    try:
        ticket_confirm(
            actor=request.user,
            ticket=ticket,
            confirmed=confirmed,
            note=request.POST.get("note", ""),
            severity=request.POST.get("severity") or 3,
        )
    except DomainError as exc:
        _refused(request, exc)
    else:
        messages.success(
            request,
            f"{ticket.key} confirmed on production."
            if confirmed
            else f"{ticket.key} reopened as an escaped defect of {release.version}.",
        )
    return redirect("incidents:release-close", pk=pk)


@login_required
@require_POST
def retrospective_view(request: HttpRequest, pk: int) -> HttpResponse:
    release = _release(request, pk)
    require_respond(request.user, release.project_id, "hold retrospectives in this project")
    try:
        postmortem = retrospective_open(actor=request.user, release=release)
    except DomainError as exc:
        _refused(request, exc)
        return redirect("incidents:release-close", pk=pk)
    return redirect("incidents:postmortem", pk=postmortem.pk)


# --- Project settings --------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def settings_view(request: HttpRequest, slug: str) -> HttpResponse:
    project = Project.objects.filter(
        slug=slug, pk__in=selectors.visible_project_ids(request.user)
    ).first()
    if project is None:
        raise NotFound("No such project.")
    current = settings_for(project)
    can_edit = can_admin_project(request.user, project)
    form = forms.SettingsForm(
        request.POST or None,
        initial={
            "status_template": current.status_template,
            "update_interval_minutes": current.update_interval_minutes,
        },
    )
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("Only a project admin may change the incident settings.")
        if form.is_valid():
            try:
                settings_update(actor=request.user, project=project, **form.cleaned_data)
            except DomainError as exc:
                _refused(request, exc)
            else:
                messages.success(request, "Incident settings saved.")
                return redirect("incidents:settings", slug=slug)
    from incidents.choices import TEMPLATE_FIELDS

    return render(
        request,
        "incidents/settings.html",
        {"project": project, "form": form, "can_edit": can_edit, "fields": TEMPLATE_FIELDS},
    )
