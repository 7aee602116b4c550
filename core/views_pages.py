"""Pages of the shell around the apps: the person's notifications and account settings."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.exceptions import ValidationFailed
from core.models import Notification
from core.notifications import notification_read_all
from core.profiles import (
    COOKIE_NAME,
    SESSION_KEY,
    profile_time_zone,
    profile_time_zone_set,
    time_zone_names,
    valid_time_zone,
)

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
    response.shipcheck_page = True
    return response


def server_error(request):
    """handler500: Django's plain 500 page plus the request id to quote (core/observability.py)."""
    from django.http import HttpResponseServerError
    from django.template import loader

    from core.observability import current_request_id

    template = loader.get_template("500.html")
    return HttpResponseServerError(template.render({"request_id": current_request_id()}))


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def account(request):
    """The person's own settings: the time zone every page shows and reads times in."""
    error = ""
    status = 200
    if request.method == "POST":
        try:
            profile_time_zone_set(
                user=request.user, time_zone=request.POST.get("time_zone", ""), actor=request.user
            )
        except ValidationFailed as exc:
            error, status = exc.message, 200
        else:
            request.session.pop(SESSION_KEY, None)
            messages.success(request, "Your time zone is saved: every time is shown in it.")
            return redirect("account")
    chosen = profile_time_zone(user=request.user)
    context = {
        "chosen": chosen,
        "browser_zone": valid_time_zone(request.COOKIES.get(COOKIE_NAME)),
        "zones": time_zone_names(),
        "error": error,
    }
    return render(request, "core/account.html", context, status=status)
