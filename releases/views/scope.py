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
from django.urls import reverse
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
from releases.views.actions import after_action, is_refusal
from releases.views.common import is_fragment


class _NothingThere(DomainError):
    """The page asked for a change that had nothing to change (a stale page)."""

    code = "unchanged"
    status = 409


def _answer(request, pk, *, anchor: str, notice: str = "", errors=None):
    if is_fragment(request):
        return after_action(
            request, pk, notice=notice, errors=errors, error_title="Nothing changed."
        )
    if errors:
        items = format_html_join("", "<li>{}</li>", ((e,) for e in errors))
        messages.error(
            request, format_html_join("", "{}<ul>{}</ul>", [("Nothing changed.", items)])
        )
    elif notice:
        messages.success(request, notice)
    return redirect(reverse("releases:detail", args=[pk]) + f"#{anchor}")


def _scope_change(request, pk, *, right: str, form_class, anchor: str, change, invalid=None):
    """The one shape of the four actions: the right, the form, then ``change(release, data)``.

    ``change`` calls one service and answers the notice; a refusal a person can fix (any
    domain error but 404 and 403) comes back as the page's message. ``invalid`` replaces the
    form's own errors (the hidden field of a remove button).
    """
    release = release_get(user=request.user, pk=pk)
    release_authorize(release=release, actor=request.user, action=right)
    form = form_class(request.POST)
    if not form.is_valid():
        return _answer(request, pk, anchor=anchor, errors=invalid or form_errors(form))
    try:
        notice = change(release, form.cleaned_data)
    except DomainError as exc:
        if not is_refusal(exc):
            raise
        return _answer(request, pk, anchor=anchor, errors=[exc.message])
    return _answer(request, pk, anchor=anchor, notice=notice)


@login_required
@require_POST
def ticket_add_view(request, pk):
    def change(release, data):
        key = data["key"].strip()
        ticket = {"key": key, "title": data["title"], "url": data["url"], "type": data["type"]}
        release_tickets_add(release=release, tickets=[ticket], actor=request.user)
        return f"{key} is in the scope of {release.version}."

    return _scope_change(
        request, pk, right="scope", form_class=TicketAddForm, anchor="scope", change=change
    )


@login_required
@require_POST
def ticket_remove_view(request, pk):
    def change(release, data):
        key = data["key"]
        if not release_tickets_remove(release=release, keys=[key], actor=request.user):
            raise _NothingThere(f"{key} is not in the scope of {release.version}.")
        return f"{key} is no longer in the scope of {release.version}."

    return _scope_change(
        request,
        pk,
        right="scope",
        form_class=TicketRemoveForm,
        anchor="scope",
        change=change,
        invalid=["Say which ticket to remove."],
    )


@login_required
@require_POST
def commit_add_view(request, pk):
    def change(release, data):
        sha = data["sha"].strip().lower()
        commit = {"sha": sha, "message": data["message"], "author": data["author"]}
        if not release_commits_add(release=release, commits=[commit], actor=request.user):
            raise _NothingThere(f"Commit {sha[:8]} is already attached to {release.version}.")
        return f"Commit {sha[:8]} attached."

    return _scope_change(
        request, pk, right="commits", form_class=CommitAddForm, anchor="commits", change=change
    )


@login_required
@require_POST
def commit_remove_view(request, pk):
    def change(release, data):
        sha = data["sha"]
        if not release_commits_remove(release=release, shas=[sha], actor=request.user):
            raise _NothingThere(f"Commit {sha[:8]} is not attached to {release.version}.")
        return f"Commit {sha[:8]} detached."

    return _scope_change(
        request,
        pk,
        right="commits",
        form_class=CommitRemoveForm,
        anchor="commits",
        change=change,
        invalid=["Say which commit to detach."],
    )
