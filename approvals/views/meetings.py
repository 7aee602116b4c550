"""Go/no-go meeting pages: scheduling, the live meeting, its minutes, votes and decision.

Each change checks the person's right first (``meeting_authorize``), then reads the
form, calls one service and re-renders the board (htmx) or redirects.
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
from approvals.choices import Seat
from approvals.forms import (
    AttendeeForm,
    CancelForm,
    CriterionAddForm,
    CriterionForm,
    DecideForm,
    NotesForm,
    RescheduleForm,
    ScheduleForm,
    VoteForm,
    form_errors,
)
from approvals.models import AgendaItem, MeetingCriterion
from approvals.selectors import meeting_for_vote, meeting_get, meeting_view
from approvals.views._common import fixable, is_fragment
from core.exceptions import DomainError, NotFound
from releases.selectors import release_with_pipeline


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
            if not fixable(exc):
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
    if is_fragment(request) and request.GET.get("part") == "board":
        return render(request, "approvals/partials/meeting_board.html", context)
    return render(request, "approvals/meeting.html", context)


@login_required
@require_safe
def meeting_minutes(request, pk):
    """The minutes, laid out to be printed."""
    meeting = meeting_get(user=request.user, pk=pk)
    return render(request, "approvals/minutes.html", _meeting_context(request, meeting))


def _meeting_act(
    request,
    pk,
    form,
    action,
    notice: str,
    *,
    part: str = "board",
    target=None,
    right="",
    feedback_at: str = "",
):
    """Check the person's right (``right``: a meeting_authorize action) before the form, then act.

    ``feedback_at`` names the card where the answer shows (``"decide"``: in the decision card,
    where the person pressed the button, not at the top of the page).
    """
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
            if not fixable(exc):
                raise
            error = exc.message
    if not is_fragment(request):
        if error:
            messages.error(request, error)
        else:
            messages.success(request, notice)
        anchor = "#decision" if feedback_at == "decide" else ""
        return redirect(reverse("approvals:meeting", args=[pk]) + anchor)
    meeting = meeting_get(user=request.user, pk=pk)
    context = _meeting_context(request, meeting, error=error, notice="" if error else notice)
    context["feedback_at"] = feedback_at
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
        feedback_at="decide",
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
