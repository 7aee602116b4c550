"""The release page's scope actions: add and remove tickets, attach and detach commits.

The same services as the API (``release_tickets_add`` …), so the same rules,
audit events and approval invalidations apply. Each view checks the right first
(403 whatever was sent), then the form, then calls one service; htmx gets the
re-rendered page region, a plain form post is redirected back to the Scope section.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.utils.html import format_html_join
from django.views.decorators.http import require_POST

from core.exceptions import DomainError
from releases.forms import (
    CommitAddForm,
    CommitRemoveForm,
    TicketAddForm,
    TicketRemoveForm,
    form_errors,
)
from releases.selectors import release_get
from releases.services import (
    release_authorize,
    release_commits_add,
    release_commits_remove,
    release_tickets_add,
    release_tickets_remove,
)
from releases.views.actions import _after_action, _refusal
from releases.views.common import is_fragment


def _answer(request, pk, *, anchor: str, notice: str = "", errors=None):
    if is_fragment(request):
        return _after_action(
            request, pk, notice=notice, errors=errors, error_title="Nothing changed."
        )
    if errors:
        items = format_html_join("", "<li>{}</li>", ((e,) for e in errors))
        messages.error(
            request, format_html_join("", "{}<ul>{}</ul>", [("Nothing changed.", items)])
        )
    elif notice:
        messages.success(request, notice)
    return redirect(f"{release_get(user=request.user, pk=pk).get_absolute_url()}#{anchor}")


def _run(request, pk, *, anchor: str, call, notice: str):
    try:
        call()
    except DomainError as exc:
        if not _refusal(exc):
            raise
        return _answer(request, pk, anchor=anchor, errors=[exc.message])
    return _answer(request, pk, anchor=anchor, notice=notice)


@login_required
@require_POST
def ticket_add_view(request, pk):
    release = release_get(user=request.user, pk=pk)
    release_authorize(release=release, actor=request.user, action="scope")
    form = TicketAddForm(request.POST)
    if not form.is_valid():
        return _answer(request, pk, anchor="scope", errors=form_errors(form))
    data = form.cleaned_data
    key = data["key"].strip()
    return _run(
        request,
        pk,
        anchor="scope",
        call=lambda: release_tickets_add(
            release=release,
            tickets=[
                {"key": key, "title": data["title"], "url": data["url"], "type": data["type"]}
            ],
            actor=request.user,
        ),
        notice=f"{key} is in the scope of {release.version}.",
    )


@login_required
@require_POST
def ticket_remove_view(request, pk):
    release = release_get(user=request.user, pk=pk)
    release_authorize(release=release, actor=request.user, action="scope")
    form = TicketRemoveForm(request.POST)
    if not form.is_valid():
        return _answer(request, pk, anchor="scope", errors=["Say which ticket to remove."])
    key = form.cleaned_data["key"]

    def call():
        if not release_tickets_remove(release=release, keys=[key], actor=request.user):
            raise _NothingThere(f"{key} is not in the scope of {release.version}.")

    return _run(
        request,
        pk,
        anchor="scope",
        call=call,
        notice=f"{key} is no longer in the scope of {release.version}.",
    )


@login_required
@require_POST
def commit_add_view(request, pk):
    release = release_get(user=request.user, pk=pk)
    release_authorize(release=release, actor=request.user, action="commits")
    form = CommitAddForm(request.POST)
    if not form.is_valid():
        return _answer(request, pk, anchor="commits", errors=form_errors(form))
    data = form.cleaned_data
    sha = data["sha"].strip().lower()

    def call():
        added = release_commits_add(
            release=release,
            commits=[{"sha": sha, "message": data["message"], "author": data["author"]}],
            actor=request.user,
        )
        if not added:
            raise _NothingThere(f"Commit {sha[:8]} is already attached to {release.version}.")

    return _run(request, pk, anchor="commits", call=call, notice=f"Commit {sha[:8]} attached.")


@login_required
@require_POST
def commit_remove_view(request, pk):
    release = release_get(user=request.user, pk=pk)
    release_authorize(release=release, actor=request.user, action="commits")
    form = CommitRemoveForm(request.POST)
    if not form.is_valid():
        return _answer(request, pk, anchor="commits", errors=["Say which commit to detach."])
    sha = form.cleaned_data["sha"]

    def call():
        if not release_commits_remove(release=release, shas=[sha], actor=request.user):
            raise _NothingThere(f"Commit {sha[:8]} is not attached to {release.version}.")

    return _run(request, pk, anchor="commits", call=call, notice=f"Commit {sha[:8]} detached.")


class _NothingThere(DomainError):
    """The page asked for a change that had nothing to change (a stale page)."""

    code = "unchanged"
    status = 409
