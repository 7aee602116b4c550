"""Incident, post-mortem and release-closing pages (docs/incidents.md).

Reading works without JavaScript; every form is a plain POST that redirects back with a
message (htmx boosts them). Each POST view checks the right first (403 whatever was
sent), then the form, then calls one service; a refusal the page can explain is shown
as "Nothing changed." with the reason.

Size: about 600 lines of thin views for three related pages (incident, post-mortem,
closing); added while merging into metrics so tests/test_architecture.py passes there.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.exceptions import DomainError, NotFound, PermissionDenied
from incidents import forms, selectors
from incidents.choices import ROLLBACK_CRITERIA, IncidentState
from incidents.models import (
    ActionItem,
    Incident,
    PostMortemKind,
)
from incidents.permissions import (
    can_respond,
    require_respond,
)
from incidents.services import (
    action_item_add,
    action_item_set_done,
    hotfix_start,
    incident_open,
    incident_people_set,
    mitigation_decide,
    postmortem_for_incident,
    postmortem_transition,
    postmortem_update,
    settings_for,
    status_update_post,
    timeline_entry_add,
)
from incidents.services.postmortems import RETRO_HEADINGS, SECTIONS
from projects.models import Project
from releases.models import Deployment

PAGE_SIZE = 25


def _refused(request: HttpRequest, exc: DomainError) -> None:
    if isinstance(exc, NotFound | PermissionDenied):
        raise exc
    messages.error(request, f"Nothing changed. {exc.message}")


def _members(project_id: int) -> list[User]:
    return list(
        User.objects.filter(memberships__project_id=project_id)
        .exclude(memberships__role="auditor", memberships__project_id=project_id)
        .distinct()
        .order_by("username")
    )


@login_required
@require_safe
def incident_list(request: HttpRequest) -> HttpResponse:
    filters = {k: request.GET.get(k, "") for k in ("project", "state", "severity")}
    page = Paginator(selectors.incident_list(user=request.user, filters=filters), PAGE_SIZE)
    projects = Project.objects.filter(pk__in=selectors.visible_project_ids(request.user))
    return render(
        request,
        "incidents/list.html",
        {
            "page": page.get_page(request.GET.get("page")),
            "filters": filters,
            "projects": projects,
            "states": IncidentState.choices,
            "can_open": any(can_respond(request.user, p) for p in projects),
        },
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def incident_open_view(request: HttpRequest) -> HttpResponse:
    """The form to open an incident, pre-filled from a failed window when one is given."""
    projects = [
        p
        for p in Project.objects.filter(pk__in=selectors.visible_project_ids(request.user))
        if can_respond(request.user, p)
    ]
    if not projects:
        raise PermissionDenied("You may not open incidents in any project.")
    initial: dict[str, Any] = {"started_at": timezone.now().replace(microsecond=0)}
    window = None
    window_id = request.GET.get("window") or request.POST.get("window")
    if window_id and str(window_id).isdigit():
        from monitoring.models import MonitoringWindow

        window = (
            MonitoringWindow.objects.filter(
                pk=int(window_id),
                deployment__release__project__in=[p.pk for p in projects],
            )
            .select_related("deployment__release", "deployment__environment")
            .first()
        )
        if window is not None:
            deployment = window.deployment
            initial.update(
                project=deployment.release.project_id,
                window=window.pk,
                cause_deployment=deployment.pk,
                started_at=(deployment.started_at or window.started_at).replace(microsecond=0),
                detected_at=(window.finished_at or timezone.now()).replace(microsecond=0),
                severity=2,
                title=f"{deployment.release.version} failed its "
                f"{window.get_kind_display().lower()} in {deployment.environment}",
                impact=window.reason,
            )
    for key in ("project", "title"):
        if request.GET.get(key) and key not in initial:
            initial[key] = request.GET[key]
    form = forms.OpenForm(request.POST or None, initial=initial, projects=projects)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        project = next(p for p in projects if p.pk == data["project"])
        cause = None
        if data.get("cause_deployment"):
            cause = (
                Deployment.objects.filter(pk=data["cause_deployment"])
                .select_related("release", "environment")
                .first()
            )
            if cause is None:
                messages.error(request, "Nothing changed. There is no deployment with that id.")
                return render(request, "incidents/open.html", {"form": form, "window": window})
        try:
            incident = incident_open(
                actor=request.user,
                project=project,
                title=data["title"],
                severity=data["severity"],
                impact=data["impact"],
                started_at=data["started_at"],
                detected_at=data.get("detected_at"),
                cause_deployment=cause,
                monitoring_window=window,
            )
        except DomainError as exc:
            _refused(request, exc)
        else:
            messages.success(request, f"Incident #{incident.pk} opened.")
            return redirect("incidents:detail", pk=incident.pk)
    return render(request, "incidents/open.html", {"form": form, "window": window})


def _detail_context(request: HttpRequest, incident: Incident) -> dict[str, Any]:
    details = selectors.details_of(incident)
    timeline = selectors.incident_timeline(incident)
    members = _members(incident.project_id)
    postmortem = getattr(incident, "postmortem", None) if hasattr(incident, "postmortem") else None
    can = can_respond(request.user, incident.project_id)
    last = details.last_update_at
    interval = settings_for(incident.project_id).update_interval_minutes
    return {
        "incident": incident,
        "details": details,
        "timeline": timeline,
        "updates": list(incident.updates.all()),
        "postmortem": postmortem,
        "can_respond": can,
        "is_open": incident.state != IncidentState.RESOLVED,
        "update_form": forms.UpdateForm(
            initial={"state": incident.state, "impact": incident.impact}
        ),
        "entry_form": forms.EntryForm(),
        "mitigation_form": forms.MitigationForm(
            initial={
                "decision": details.mitigation,
                "reason": details.mitigation_reason,
                "criteria": details.rollback_criteria,
            }
        ),
        "hotfix_form": forms.HotfixForm(),
        "people_form": forms.PeopleForm(
            members=members,
            initial={
                "commander": details.commander_id,
                "responders": [u.pk for u in details.responders.all()] if details.pk else [],
            },
        ),
        "criteria_labels": dict(ROLLBACK_CRITERIA),
        "update_due_at": (last or incident.detected_at or incident.created_at)
        + timedelta(minutes=interval),
        "interval": interval,
        "now": timezone.now(),
    }


@login_required
@require_safe
def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    incident = selectors.incident_get(user=request.user, pk=pk)
    return render(request, "incidents/detail.html", _detail_context(request, incident))


def _incident_post(request: HttpRequest, pk: int, doing: str) -> Incident:
    incident = selectors.incident_get(user=request.user, pk=pk)
    require_respond(request.user, incident.project_id, doing)
    return incident


@login_required
@require_POST
def incident_update_view(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _incident_post(request, pk, "post updates on this incident")
    form = forms.UpdateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Nothing changed. " + " ".join(forms.form_errors(form)))
        return redirect("incidents:detail", pk=pk)
    try:
        status_update_post(actor=request.user, incident=incident, **form.cleaned_data)
    except DomainError as exc:
        _refused(request, exc)
    else:
        messages.success(request, "Status update posted and announced.")
    return redirect("incidents:detail", pk=pk)


@login_required
@require_POST
def incident_entry_view(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _incident_post(request, pk, "add to this incident's timeline")
    form = forms.EntryForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Nothing changed. " + " ".join(forms.form_errors(form)))
        return redirect("incidents:detail", pk=pk)
    try:
        timeline_entry_add(
            actor=request.user,
            incident=incident,
            text=form.cleaned_data["text"],
            at=form.cleaned_data.get("at"),
        )
    except DomainError as exc:
        _refused(request, exc)
    else:
        messages.success(request, "Entry added to the timeline.")
    return redirect("incidents:detail", pk=pk)


@login_required
@require_POST
def incident_mitigation_view(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _incident_post(request, pk, "decide how to mitigate this incident")
    form = forms.MitigationForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Nothing changed. " + " ".join(forms.form_errors(form)))
        return redirect("incidents:detail", pk=pk)
    try:
        mitigation_decide(actor=request.user, incident=incident, **form.cleaned_data)
    except DomainError as exc:
        _refused(request, exc)
    else:
        messages.success(request, "Mitigation decision recorded.")
    return redirect("incidents:detail", pk=pk)


@login_required
@require_POST
def incident_hotfix_view(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _incident_post(request, pk, "start a hotfix for this incident")
    form = forms.HotfixForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Nothing changed. " + " ".join(forms.form_errors(form)))
        return redirect("incidents:detail", pk=pk)
    try:
        release = hotfix_start(actor=request.user, incident=incident, **form.cleaned_data)
    except DomainError as exc:
        _refused(request, exc)
        return redirect("incidents:detail", pk=pk)
    messages.success(request, f"Hotfix release {release.version} started from the incident.")
    return redirect(release.get_absolute_url())


@login_required
@require_POST
def incident_people_view(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _incident_post(request, pk, "change who responds to this incident")
    members = _members(incident.project_id)
    form = forms.PeopleForm(request.POST, members=members)
    if not form.is_valid():
        messages.error(request, "Nothing changed. " + " ".join(forms.form_errors(form)))
        return redirect("incidents:detail", pk=pk)
    by_id = {u.pk: u for u in members}
    try:
        incident_people_set(
            actor=request.user,
            incident=incident,
            commander=by_id.get(form.cleaned_data["commander"] or 0),
            responders=[by_id[i] for i in form.cleaned_data["responders"]],
        )
    except DomainError as exc:
        _refused(request, exc)
    else:
        messages.success(request, "Commander and responders saved.")
    return redirect("incidents:detail", pk=pk)


@login_required
@require_POST
def incident_postmortem_view(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _incident_post(request, pk, "write post-mortems in this project")
    postmortem = postmortem_for_incident(actor=request.user, incident=incident)
    return redirect("incidents:postmortem", pk=postmortem.pk)


# --- Post-mortems ------------------------------------------------------------------------


@login_required
@require_safe
def postmortem_list_view(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.postmortem_list(user=request.user), PAGE_SIZE)
    return render(
        request,
        "incidents/postmortems.html",
        {
            "page": page.get_page(request.GET.get("page")),
            "overdue_items": list(selectors.overdue_items(user=request.user)[:50]),
        },
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def postmortem_detail(request: HttpRequest, pk: int) -> HttpResponse:
    postmortem = selectors.postmortem_get(user=request.user, pk=pk)
    headings = RETRO_HEADINGS if postmortem.kind == PostMortemKind.RETROSPECTIVE else {}
    can = can_respond(request.user, postmortem.project_id)
    if request.method == "POST":
        require_respond(request.user, postmortem.project_id, "write post-mortems in this project")
        form = forms.PostMortemForm(request.POST, headings=headings)
        if form.is_valid():
            try:
                postmortem_update(actor=request.user, postmortem=postmortem, **form.cleaned_data)
            except DomainError as exc:
                _refused(request, exc)
            else:
                messages.success(request, "Post-mortem saved.")
                return redirect("incidents:postmortem", pk=pk)
        else:
            messages.error(request, "Nothing changed. " + " ".join(forms.form_errors(form)))
    form = forms.PostMortemForm(
        initial={name: getattr(postmortem, name) for name in ["title", *dict(SECTIONS)]},
        headings=headings,
    )
    sections = [
        (name, headings.get(name, heading), getattr(postmortem, name)) for name, heading in SECTIONS
    ]
    timeline = (
        selectors.incident_timeline(
            selectors.incident_get(user=request.user, pk=postmortem.incident_id)
        )
        if postmortem.incident_id
        else []
    )
    return render(
        request,
        "incidents/postmortem.html",
        {
            "postmortem": postmortem,
            "sections": sections,
            "form": form,
            "items": list(postmortem.items.all()),
            "item_form": forms.ItemForm(members=_members(postmortem.project_id), prefix="item"),
            "timeline": timeline,
            "can_respond": can,
            "today": timezone.localdate(),
            "next_states": _next_states(postmortem.state),
        },
    )


def _next_states(state: str) -> list[tuple[str, str]]:
    from incidents.choices import POSTMORTEM_TRANSITIONS, PostMortemState

    labels = {
        PostMortemState.DRAFT: "Back to draft",
        PostMortemState.IN_REVIEW: "Send for review",
        PostMortemState.REVIEWED: "Mark reviewed",
        PostMortemState.CLOSED: "Close",
    }
    order = list(PostMortemState.values)
    return [(s, labels[PostMortemState(s)]) for s in order if s in POSTMORTEM_TRANSITIONS[state]]


@login_required
@require_POST
def postmortem_state_view(request: HttpRequest, pk: int) -> HttpResponse:
    postmortem = selectors.postmortem_get(user=request.user, pk=pk)
    require_respond(request.user, postmortem.project_id, "review post-mortems in this project")
    try:
        postmortem = postmortem_transition(
            actor=request.user, postmortem=postmortem, to_state=request.POST.get("state", "")
        )
    except DomainError as exc:
        _refused(request, exc)
    else:
        messages.success(request, f"Post-mortem is {postmortem.get_state_display().lower()}.")
    return redirect("incidents:postmortem", pk=pk)


@login_required
@require_POST
def postmortem_item_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    postmortem = selectors.postmortem_get(user=request.user, pk=pk)
    require_respond(request.user, postmortem.project_id, "add action items in this project")
    members = _members(postmortem.project_id)
    form = forms.ItemForm(request.POST, members=members, prefix="item")
    if not form.is_valid():
        messages.error(request, "Nothing changed. " + " ".join(forms.form_errors(form)))
        return redirect("incidents:postmortem", pk=pk)
    data = form.cleaned_data
    owner = next(u for u in members if u.pk == data["owner"])
    try:
        action_item_add(
            actor=request.user,
            postmortem=postmortem,
            title=data["title"],
            owner=owner,
            due_on=data["due_on"],
            ticket_key=data["ticket_key"],
        )
    except DomainError as exc:
        _refused(request, exc)
    else:
        messages.success(request, "Action item added.")
    return redirect("incidents:postmortem", pk=pk)


@login_required
@require_POST
def postmortem_item_done_view(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    postmortem = selectors.postmortem_get(user=request.user, pk=pk)
    require_respond(request.user, postmortem.project_id, "track action items in this project")
    item = ActionItem.objects.filter(pk=item_pk, postmortem=postmortem).first()
    if item is None:
        raise NotFound("No such action item.")
    try:
        action_item_set_done(
            actor=request.user, item=item, done=request.POST.get("done", "1") == "1"
        )
    except DomainError as exc:
        _refused(request, exc)
    return redirect("incidents:postmortem", pk=pk)
