"""*Waiting for me*: the page and the count in the navigation."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from approvals.selectors import waiting_count
from approvals.views._common import is_fragment
from releases.registry import waiting_for


@login_required
@require_safe
def inbox_view(request):
    """Everything waiting for the signed-in person, across their projects."""
    items = waiting_for(user=request.user)
    template = (
        "approvals/partials/inbox_list.html" if is_fragment(request) else "approvals/inbox.html"
    )
    return render(request, template, {"items": items, "now": timezone.now()})


@login_required
@require_safe
def inbox_count_view(request):
    """The count beside *Waiting for me* in the navigation (htmx loads it after each page)."""
    return render(request, "core/partials/nav_count.html", {"count": waiting_count(request.user)})
