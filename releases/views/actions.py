"""The release page's actions: promote, finish or roll back a deployment, cancel the release.

Each checks the right first (``release_authorize``: 403 whatever was sent), then
the form, then calls one service. A refusal the page can explain (a closed gate,
a transition not allowed) re-renders the live region with the reasons for htmx,
or redirects with a message; NotFound and PermissionDenied stay real 404/403 answers.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.html import format_html_join
from django.views.decorators.http import require_POST

from core.exceptions import DomainError, NotFound, PermissionDenied
from releases.exceptions import GateBlocked
from releases.forms import FinishForm, PromoteForm, ReasonForm, form_errors
from releases.models import Deployment
from releases.selectors import deployment_get, release_get, release_with_pipeline
from releases.services import (
    deployment_finish,
    deployment_rollback,
    release_authorize,
    release_cancel,
    release_promote,
)
from releases.views.common import is_fragment
from releases.views.detail import detail_context


def after_action(request, pk, *, notice: str = "", errors=None, error_title: str = ""):
    """Answer an action: the re-rendered page region for htmx, a redirect otherwise."""
    if is_fragment(request):
        release = release_with_pipeline(user=request.user, pk=pk)
        context = detail_context(
            request, release, errors=errors, error_title=error_title, notice=notice
        )
        return render(request, "releases/partials/release_live.html", context)
    if errors:
        text = format_html_join("", "<li>{}</li>", ((e,) for e in errors))
        messages.error(
            request,
            format_html_join("", "{}<ul>{}</ul>", [(error_title or "Nothing changed.", text)]),
        )
    elif notice:
        messages.success(request, notice)
    return redirect("releases:detail", pk=pk)


def _domain_errors(exc: DomainError) -> tuple[str, list[str]]:
    """A title and the list of reasons to show for a refused action."""
    if isinstance(exc, GateBlocked):
        report = exc.report
        return (
            f"{report.release.version} may not enter {report.environment} yet. Nothing changed.",
            [gate.reason for gate in report.closed],
        )
    return "Nothing changed.", [exc.message]


def is_refusal(exc: DomainError) -> bool:
    """Domain errors shown in the page; NotFound and PermissionDenied are real 404/403 answers."""
    return not isinstance(exc, NotFound | PermissionDenied)


@login_required
@require_POST
def release_promote_view(request, pk):
    release = release_with_pipeline(user=request.user, pk=pk)
    release_authorize(release=release, actor=request.user, action="deploy")
    form = PromoteForm(request.POST, environments=release.pipeline_environments)
    if not form.is_valid():
        return after_action(request, pk, errors=form_errors(form))
    environment = form.environments[form.cleaned_data["environment"]]
    try:
        deployment = release_promote(
            release=release,
            environment=environment,
            actor=request.user,
            strategy=form.cleaned_data["strategy"],
        )
    except DomainError as exc:
        if not is_refusal(exc):
            raise
        title, errors = _domain_errors(exc)
        return after_action(request, pk, errors=errors, error_title=title)
    return after_action(
        request, pk, notice=f"Deployment of {release.version} to {deployment.environment} started."
    )


def _deployment_of(request, pk, deployment_pk) -> Deployment:
    deployment = deployment_get(user=request.user, pk=deployment_pk)
    if deployment.release_id != int(pk):
        raise NotFound("No such deployment of this release.")
    return deployment


@login_required
@require_POST
def deployment_finish_view(request, pk, deployment_pk):
    deployment = _deployment_of(request, pk, deployment_pk)
    release_authorize(release=deployment.release, actor=request.user, action="finish")
    form = FinishForm(request.POST)
    if not form.is_valid():
        return after_action(request, pk, errors=form_errors(form))
    succeeded = form.cleaned_data["outcome"] == "succeeded"
    try:
        deployment = deployment_finish(
            deployment=deployment,
            succeeded=succeeded,
            actor=request.user,
            reason=form.cleaned_data["reason"],
        )
    except DomainError as exc:
        if not is_refusal(exc):
            raise
        title, errors = _domain_errors(exc)
        return after_action(request, pk, errors=errors, error_title=title)
    outcome = "succeeded" if succeeded else "failed"
    return after_action(
        request, pk, notice=f"Deployment to {deployment.environment} marked {outcome}."
    )


@login_required
@require_POST
def deployment_rollback_view(request, pk, deployment_pk):
    deployment = _deployment_of(request, pk, deployment_pk)
    release_authorize(release=deployment.release, actor=request.user, action="rollback")
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return after_action(request, pk, errors=form_errors(form))
    try:
        deployment = deployment_rollback(
            deployment=deployment, actor=request.user, reason=form.cleaned_data["reason"]
        )
    except DomainError as exc:
        if not is_refusal(exc):
            raise
        title, errors = _domain_errors(exc)
        return after_action(request, pk, errors=errors, error_title=title)
    return after_action(request, pk, notice=f"Deployment to {deployment.environment} rolled back.")


@login_required
@require_POST
def release_cancel_view(request, pk):
    release = release_get(user=request.user, pk=pk)
    release_authorize(release=release, actor=request.user, action="cancel")
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return after_action(request, pk, errors=form_errors(form))
    try:
        release_cancel(release=release, actor=request.user, reason=form.cleaned_data["reason"])
    except DomainError as exc:
        if not is_refusal(exc):
            raise
        title, errors = _domain_errors(exc)
        return after_action(request, pk, errors=errors, error_title=title)
    return after_action(request, pk, notice=f"Release {release.version} cancelled.")
