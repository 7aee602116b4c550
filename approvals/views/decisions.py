"""The release page panel and its decisions: give, ask for and withdraw approvals and sign-offs.

Views parse a form, call one service and render. One view serves the page or,
for htmx, the fragment it swaps. Refusals a person can fix (a missing comment,
a decision already given) come back in the fragment with status 200; real
denials are 403 and invisible objects 404 (``core.middleware`` renders both).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from approvals import services
from approvals.forms import DecisionForm, RequestForm, WithdrawForm, form_errors
from approvals.panels import approvals_panel_context
from approvals.selectors import approval_get, release_for_decision
from approvals.views._common import RELEASE_CHANGED_EVENT, fixable, form_environment, is_fragment
from core.exceptions import DomainError, NotFound
from releases.selectors import release_get, release_with_pipeline


def _panel(request, pk, *, error: str = "", notice: str = "", changed: bool = False):
    release = release_with_pipeline(user=request.user, pk=pk)
    if not is_fragment(request):
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
    if is_fragment(request):
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


def panel_act(request, pk, form, action, notice: str):
    if not form.is_valid():
        return _panel(request, pk, error=" ".join(form_errors(form)))
    try:
        action(form.cleaned_data)
    except DomainError as exc:
        if not fixable(exc):
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
    if (
        form.is_valid()
        and form.cleaned_data["kind"] == "scope"
        and form.cleaned_data["decision"] == "approve"
        and not form.cleaned_data["confirm_empty_scope"]
        and not release.tickets.exists()
    ):
        return _panel(
            request,
            pk,
            error="This release has no tickets. Tick “I approve an empty scope” to approve it "
            "as it is, or ask the release manager to add its tickets first.",
        )

    def action(data):
        services.approval_decide(
            release=release,
            kind=data["kind"],
            decision=data["decision"],
            environment=form_environment(release, data["environment"]),
            actor=request.user,
            comment=data["comment"],
            role=data["role"] or None,
        )

    verb = "approved" if request.POST.get("decision") == "approve" else "rejected"
    return panel_act(request, pk, form, action, f"You {verb}. Your decision is recorded.")


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
            environment=form_environment(release, data["environment"]),
            note=data["note"],
        )

    return panel_act(request, pk, form, action, "Request sent to everyone who may decide.")


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

    return panel_act(request, pk, form, action, "Your decision is withdrawn.")
