"""Pages of the shell around the apps: the person's notifications, the 404 and 500 pages.

The account settings page (the time zone) is ``accounts.views.account``: saving it writes an
audit event, which ``core`` sits below.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from core.models import Notification
from core.notifications import notification_read_all

PAGE_SIZE = 25


@login_required
@require_safe
def notification_list(request):
    """My notifications, newest first; unread ones stand out."""
    notifications = Notification.objects.filter(recipient=request.user).select_related("project")
    page = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("page"))
    unread = Notification.objects.filter(recipient=request.user, read_at__isnull=True).count()
    return render(request, "core/notifications.html", {"page": page, "unread": unread})


@login_required
@require_POST
def notification_read_all_view(request):
    changed = notification_read_all(user=request.user)
    if changed:
        messages.success(
            request, f"Marked {changed} notification{'s' if changed != 1 else ''} read."
        )
    return redirect("notifications")


def page_not_found(request, exception=None):
    """The product's 404 page (handler404), also with DEBUG on (core.middleware).

    It says what was not found when the code said so in a sentence ("No such step."), and
    never whether the object exists in a project the person cannot see.
    """
    from django.shortcuts import render

    message = ""
    if exception is not None:
        text = getattr(exception, "message", None) or (exception.args[0] if exception.args else "")
        if isinstance(text, str) and text.endswith("."):
            message = text
    response = render(request, "404.html", {"message": message}, status=404)
    # A marker attribute for core.middleware, unknown to HttpResponse's stubs.
    cast(Any, response).shipcheck_page = True
    return response


def server_error(request):
    """handler500: Django's plain 500 page plus the request id to quote (core/observability.py)."""
    from django.http import HttpResponseServerError
    from django.template import loader

    from core.observability import current_request_id

    template = loader.get_template("500.html")
    return HttpResponseServerError(template.render({"request_id": current_request_id()}))
