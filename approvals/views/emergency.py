"""The emergency path from the release panel: the emergency approval and the post-implementation review."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.views.decorators.http import require_POST

from approvals import services
from approvals.choices import ApprovalKind
from approvals.forms import EmergencyForm, ReviewForm
from approvals.selectors import emergency_review_get, release_for_decision
from approvals.views._common import form_environment
from approvals.views.decisions import panel_act
from core.exceptions import NotFound


@login_required
@require_POST
def emergency(request, pk):
    release = release_for_decision(pk=pk)
    services.decision_authorize(release=release, actor=request.user, kind=ApprovalKind.EMERGENCY)
    form = EmergencyForm(request.POST)

    def action(data):
        environment = form_environment(release, data["environment"])
        assert environment is not None  # EmergencyForm requires an environment
        services.emergency_approve(
            release=release,
            environment=environment,
            actor=request.user,
            justification=data["justification"],
        )

    return panel_act(
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

    return panel_act(request, pk, form, action, "Post-implementation review recorded.")
