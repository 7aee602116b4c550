"""Approvals pages: the release page panel's actions, the inbox, policies and go/no-go meetings.

Views parse a form, call one service and render. One view serves the page or,
for htmx, the fragment it swaps. Refusals a person can fix (a missing comment,
a decision already given) come back in the fragment with status 200; real
denials are 403 and invisible objects 404 (``core.middleware`` renders both).
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from approvals import services
from approvals.choices import ApprovalKind, Seat
from approvals.forms import (
    AttendeeForm,
    CancelForm,
    CriterionAddForm,
    CriterionForm,
    DecideForm,
    DecisionForm,
    EmergencyForm,
    NotesForm,
    PolicyForm,
    RequestForm,
    RescheduleForm,
    ReviewForm,
    ScheduleForm,
    VoteForm,
    WithdrawForm,
    form_errors,
)
from approvals.models import AgendaItem, MeetingCriterion
from approvals.panels import approvals_panel_context
from approvals.permissions import can_edit_policy
from approvals.selectors import (
    approval_get,
    emergency_review_get,
    meeting_for_vote,
    meeting_get,
    meeting_view,
    policy_rows,
    project_for_admin,
    release_for_decision,
    waiting_count,
)
from core.exceptions import DomainError, NotFound, PermissionDenied
from projects.models import Environment
from releases.registry import waiting_for
from releases.selectors import release_get, release_with_pipeline

# The release page refreshes itself when an action sends this event (releases/views.py).
RELEASE_CHANGED_EVENT = "releaseChanged"


def _is_fragment(request) -> bool:
    htmx = getattr(request, "htmx", None)
    return htmx is not None and bool(htmx) and not htmx.history_restore_request


def _fixable(exc: DomainError) -> bool:
    """Errors shown in the page; NotFound and PermissionDenied are real 404/403 answers."""
    return not isinstance(exc, NotFound | PermissionDenied)


def _environment(release, pk) -> Environment | None:
    if pk is None:
        return None
    environment = Environment.objects.filter(project_id=release.project_id, pk=pk).first()
    if environment is None:
        raise NotFound("No such environment in this project.")
    return environment


# --- The release page panel -------------------------------------------------------------


def _panel(request, pk, *, error: str = "", notice: str = "", changed: bool = False):
    release = release_with_pipeline(user=request.user, pk=pk)
    if not _is_fragment(request):
        if error:
            messages.error(request, error)
        elif notice:
            messages.success(request, notice)
        url = release.get_absolute_url() if request.method == "POST" else None
        if url:
            return redirect(url + "#panel-approvals")
    context = {
        **approvals_panel_context(release, request, error=error, notice=notice),
        "release": release,
        "request": request,
    }
    if _is_fragment(request):
        response = render(request, "approvals/partials/panel.html", context)
        if changed:
            response["HX-Trigger"] = RELEASE_CHANGED_EVENT
        return response
    return render(request, "approvals/release.html", context)


@login_required
@require_safe
def release_approvals(request, pk):
    """The approval matrix of one release: the panel fragment for htmx, a page of its own otherwise."""
    return _panel(request, pk)


def _act(request, pk, form, action, notice: str):
    if not form.is_valid():
        return _panel(request, pk, error=" ".join(form_errors(form)))
    try:
        action(form.cleaned_data)
    except DomainError as exc:
        if not _fixable(exc):
            raise
        return _panel(request, pk, error=exc.message)
    return _panel(request, pk, notice=notice, changed=True)


@login_required
@require_POST
def decide(request, pk):
    # The service answers strangers with 404 itself, after writing their attempt to the audit trail.
    release = release_for_decision(pk=pk)
    services.decision_authorize(release=release, actor=request.user)
    form = DecisionForm(request.POST)

    def action(data):
        services.approval_decide(
            release=release,
            kind=data["kind"],
            decision=data["decision"],
            environment=_environment(release, data["environment"]),
            actor=request.user,
            comment=data["comment"],
            role=data["role"] or None,
        )

    verb = "approved" if request.POST.get("decision") == "approve" else "rejected"
    return _act(request, pk, form, action, f"You {verb}. Your decision is recorded.")


@login_required
@require_POST
def request_approval(request, pk):
    release = release_get(user=request.user, pk=pk)
    services.request_authorize(release=release, actor=request.user)
    form = RequestForm(request.POST)

    def action(data):
        services.approval_request(
            release=release,
            kind=data["kind"],
            actor=request.user,
            environment=_environment(release, data["environment"]),
            note=data["note"],
        )

    return _act(request, pk, form, action, "Request sent to everyone who may decide.")


@login_required
@require_POST
def withdraw(request, pk, approval_pk):
    approval = approval_get(user=request.user, pk=approval_pk)
    if approval.release_id != int(pk):
        raise NotFound("No such approval of this release.")
    services.withdraw_authorize(approval=approval, actor=request.user)
    form = WithdrawForm(request.POST)

    def action(data):
        services.approval_withdraw(
            approval=approval, actor=request.user, reason=data.get("reason", "")
        )

    return _act(request, pk, form, action, "Your decision is withdrawn.")


@login_required
@require_POST
def emergency(request, pk):
    release = release_for_decision(pk=pk)
    services.decision_authorize(release=release, actor=request.user, kind=ApprovalKind.EMERGENCY)
    form = EmergencyForm(request.POST)

    def action(data):
        services.emergency_approve(
            release=release,
            environment=_environment(release, data["environment"]),
            actor=request.user,
            justification=data["justification"],
        )

    return _act(
        request, pk, form, action, "Emergency approval recorded; the whole project has been told."
    )


@login_required
@require_POST
def review_complete(request, pk, review_pk):
    review = emergency_review_get(user=request.user, pk=review_pk)
    if review.release_id != int(pk):
        raise NotFound("No such review of this release.")
    services.review_authorize(review=review, actor=request.user)
    form = ReviewForm(request.POST)

    def action(data):
        services.emergency_review_complete(
            review=review, actor=request.user, summary=data["summary"]
        )

    return _act(request, pk, form, action, "Post-implementation review recorded.")


# --- Waiting for me ------------------------------------------------------------------------


@login_required
@require_safe
def inbox_view(request):
    """Everything waiting for the signed-in person, across their projects."""
    items = waiting_for(user=request.user)
    template = (
        "approvals/partials/inbox_list.html" if _is_fragment(request) else "approvals/inbox.html"
    )
    return render(request, template, {"items": items, "now": timezone.now()})


@login_required
@require_safe
def inbox_count_view(request):
    """The count beside *Waiting for me* in the navigation (htmx loads it after each page)."""
    return render(request, "core/partials/nav_count.html", {"count": waiting_count(request.user)})


# --- Policies ----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def policies(request, slug):
    """Each environment's approval policy; project admins edit them, everyone else reads."""
    project = project_for_admin(user=request.user, slug=slug)
    editable = can_edit_policy(request.user, project)
    errors: dict[int, list[str]] = {}
    status = 200
    if request.method == "POST":
        services.policy_authorize(project=project, actor=request.user)
        form = PolicyForm(request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            environment = Environment.objects.filter(
                project=project, pk=data.pop("environment")
            ).first()
            if environment is None:
                raise NotFound("No such environment in this project.")
            try:
                services.approval_policy_update(environment=environment, actor=request.user, **data)
            except DomainError as exc:
                if not _fixable(exc):
                    raise
                errors[environment.pk] = [exc.message]
            else:
                messages.success(request, f"The policy of {environment} is saved.")
                if not _is_fragment(request):
                    return redirect(reverse("approvals:policies", args=[project.slug]))
        else:
            env_id = request.POST.get("environment", "")
            errors[int(env_id) if env_id.isdigit() else 0] = form_errors(form)
    rows = []
    for environment, policy in policy_rows(project=project):
        rows.append(
            {
                "environment": environment,
                "policy": policy,
                "errors": errors.get(environment.pk, []),
                "roles": set(policy.approver_roles or []),
            }
        )
    context = {
        "project": project,
        "rows": rows,
        "editable": editable,
        "role_choices": PolicyForm.base_fields["approver_roles"].choices,
        "orphan_errors": errors.get(0, []),
    }
    return render(request, "approvals/policies.html", context, status=status)


# --- Go/no-go meetings --------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def meeting_schedule(request, pk):
    release = release_with_pipeline(user=request.user, pk=pk)
    services.meeting_schedule_authorize(release=release, actor=request.user)
    production_first = sorted(
        release.pipeline_environments, key=lambda e: (not e.is_production, -e.order)
    )
    security = (
        request.POST.get("security_sensitive") == "on"
        if request.method == "POST"
        else (release.type == "security")
    )
    seats = {
        p.pk: (p, s)
        for p, s in services.meeting_default_attendees(release, security_sensitive=True)
    }
    form = ScheduleForm(
        request.POST if request.method == "POST" else None,
        environments=production_first,
        seats=seats,
        initial={
            "environment": _asked_environment(request, production_first),
            "scheduled_for": timezone.localtime().replace(second=0, microsecond=0)
            + timedelta(hours=1),
            "security_sensitive": security,
            "attendees": [
                str(pk) for pk, (_, seat) in seats.items() if seat != Seat.SECURITY or security
            ],
        },
    )
    error = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            meeting = services.meeting_schedule(
                release=release,
                environment=data["environment"],
                scheduled_for=data["scheduled_for"],
                actor=request.user,
                attendees=form.chosen(),
                security_sensitive=data["security_sensitive"],
            )
        except DomainError as exc:
            if not _fixable(exc):
                raise
            error = exc.message
        else:
            messages.success(
                request, "The go/no-go meeting is scheduled and the attendees are invited."
            )
            return redirect(meeting.get_absolute_url())
    return render(
        request, "approvals/meeting_form.html", {"release": release, "form": form, "error": error}
    )


def _asked_environment(request, environments) -> str:
    """The environment named by ``?environment=`` (the panel's Schedule link), else the first one."""
    asked = request.GET.get("environment", "")
    known = [str(e.pk) for e in environments]
    return asked if asked in known else (known[0] if known else "")


def _meeting_context(request, meeting, *, error: str = "", notice: str = "") -> dict:
    view = meeting_view(meeting=meeting, user=request.user)
    user_model = get_user_model()
    invitable = []
    if view.can_run and meeting.is_open:
        seated = {a.person_id for a in view.attendees}
        invitable = list(
            user_model.objects.filter(memberships__project_id=meeting.release.project_id)
            .exclude(pk__in=seated)
            .distinct()
            .order_by("username")
        )
    return {
        "meeting": meeting,
        "release": meeting.release,
        "view": view,
        "error": error,
        "notice": notice,
        "invitable": invitable,
        "seats": Seat.choices,
        "now": timezone.now(),
    }


@login_required
@require_safe
def meeting_detail(request, pk):
    """The go/no-go meeting, usable live: the board part refreshes itself while the meeting runs."""
    meeting = meeting_get(user=request.user, pk=pk)
    context = _meeting_context(request, meeting)
    if _is_fragment(request) and request.GET.get("part") == "board":
        return render(request, "approvals/partials/meeting_board.html", context)
    return render(request, "approvals/meeting.html", context)


@login_required
@require_safe
def meeting_minutes(request, pk):
    """The minutes, laid out to be printed."""
    meeting = meeting_get(user=request.user, pk=pk)
    return render(request, "approvals/minutes.html", _meeting_context(request, meeting))


def _meeting_act(
    request, pk, form, action, notice: str, *, part: str = "board", target=None, right=""
):
    """Check the person's right (``right``: a meeting_authorize action) before the form, then act."""
    meeting = target or meeting_get(user=request.user, pk=pk)
    if right:
        services.meeting_authorize(meeting=meeting, actor=request.user, action=right)
    error = ""
    if not form.is_valid():
        error = " ".join(form_errors(form))
    else:
        try:
            action(meeting, form.cleaned_data)
        except DomainError as exc:
            if not _fixable(exc):
                raise
            error = exc.message
    if not _is_fragment(request):
        if error:
            messages.error(request, error)
        else:
            messages.success(request, notice)
        return redirect(reverse("approvals:meeting", args=[pk]))
    meeting = meeting_get(user=request.user, pk=pk)
    context = _meeting_context(request, meeting, error=error, notice="" if error else notice)
    template = "meeting_live" if part == "page" else "meeting_board"
    return render(request, f"approvals/partials/{template}.html", context)


@login_required
@require_POST
def meeting_vote(request, pk):
    # Strangers' votes reach the service, which writes the attempt to the audit trail and answers 404.
    target = meeting_for_vote(pk=pk)
    services.vote_authorize(meeting=target, actor=request.user)

    def action(meeting, data):
        services.meeting_vote(
            meeting=target, vote=data["vote"], actor=request.user, comment=data["comment"]
        )

    return _meeting_act(
        request, pk, VoteForm(request.POST), action, "Your vote is recorded.", target=target
    )


@login_required
@require_POST
def meeting_notes(request, pk, item_pk):
    def action(meeting, data):
        item = AgendaItem.objects.filter(meeting=meeting, pk=item_pk).first()
        if item is None:
            raise NotFound("No such agenda item.")
        item.meeting = meeting
        services.meeting_notes_update(item=item, notes=data["notes"], actor=request.user)

    return _meeting_act(
        request, pk, NotesForm(request.POST), action, "Notes saved.", part="page", right="notes"
    )


@login_required
@require_POST
def meeting_criterion(request, pk, criterion_pk):
    form = CriterionForm(request.POST)

    def action(meeting, data):
        criterion = MeetingCriterion.objects.filter(meeting=meeting, pk=criterion_pk).first()
        if criterion is None:
            raise NotFound("No such criterion.")
        criterion.meeting = meeting
        services.meeting_criterion_set(
            criterion=criterion, checked=form.value(), note=data["note"], actor=request.user
        )

    return _meeting_act(request, pk, form, action, "Saved.", right="criterion")


@login_required
@require_POST
def meeting_criterion_add(request, pk):
    def action(meeting, data):
        services.meeting_criterion_add(
            meeting=meeting, kind=data["kind"], title=data["title"], actor=request.user
        )

    return _meeting_act(
        request, pk, CriterionAddForm(request.POST), action, "Added.", right="criterion_add"
    )


@login_required
@require_POST
def meeting_attendee_add(request, pk):
    def action(meeting, data):
        person = get_user_model().objects.filter(pk=data["person"]).first()
        services.meeting_attendee_add(
            meeting=meeting, person=person, seat=data["seat"], actor=request.user
        )

    return _meeting_act(
        request,
        pk,
        AttendeeForm(request.POST),
        action,
        "Invited.",
        part="page",
        right="attendee_add",
    )


@login_required
@require_POST
def meeting_decide(request, pk):
    def action(meeting, data):
        services.meeting_decide(
            meeting=meeting, decision=data["decision"], reason=data["reason"], actor=request.user
        )

    return _meeting_act(
        request,
        pk,
        DecideForm(request.POST),
        action,
        "The decision is recorded.",
        part="page",
        right="decide",
    )


@login_required
@require_POST
def meeting_cancel(request, pk):
    def action(meeting, data):
        services.meeting_cancel(meeting=meeting, actor=request.user, reason=data["reason"])

    return _meeting_act(
        request,
        pk,
        CancelForm(request.POST),
        action,
        "The meeting is cancelled.",
        part="page",
        right="cancel",
    )


@login_required
@require_POST
def meeting_reschedule(request, pk):
    def action(meeting, data):
        services.meeting_reschedule(
            meeting=meeting,
            scheduled_for=data["scheduled_for"],
            actor=request.user,
            reason=data["reason"],
        )

    return _meeting_act(
        request,
        pk,
        RescheduleForm(request.POST),
        action,
        "The meeting is moved and the attendees are told.",
        part="page",
        right="reschedule",
    )
