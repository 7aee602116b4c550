"""Pages of the release calendar: the release-page panel's actions (queue, cancel, override).

One view serves the page or, for htmx, the fragment it swaps. Refusals a person can fix come
back in the fragment (status 200); 403/404 are real answers.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from core.exceptions import DomainError, NotFound, PermissionDenied
from deploycalendar import selectors, services
from deploycalendar.models import QueuedPromotion
from deploycalendar.panels import calendar_panel_context
from projects.models import Environment
from releases.selectors import release_with_pipeline

RELEASE_CHANGED_EVENT = "releaseChanged"


def _is_fragment(request) -> bool:
    htmx = getattr(request, "htmx", None)
    return htmx is not None and bool(htmx) and not htmx.history_restore_request


def _panel(request, pk, *, error: str = "", notice: str = "", changed: bool = False):
    release = release_with_pipeline(user=request.user, pk=pk)
    if not _is_fragment(request) and request.method == "POST":
        if error:
            messages.error(request, error)
        elif notice:
            messages.success(request, notice)
        return redirect(release.get_absolute_url() + "#panel-deploycalendar")
    context = {
        **calendar_panel_context(release, request, error=error, notice=notice),
        "release": release,
        "request": request,
    }
    if _is_fragment(request):
        response = render(request, "deploycalendar/partials/panel.html", context)
        if changed:
            response["HX-Trigger"] = RELEASE_CHANGED_EVENT
        return response
    return render(request, "deploycalendar/release.html", context)


def _environment(release, value) -> Environment:
    environment = Environment.objects.filter(
        project_id=release.project_id, pk=str(value or "0") if str(value or "").isdigit() else 0
    ).first()
    if environment is None:
        raise NotFound("No such environment in this project.")
    return environment


def _act(request, pk, action, notice: str):
    try:
        action()
    except DomainError as exc:
        if isinstance(exc, NotFound | PermissionDenied):
            raise
        return _panel(request, pk, error=exc.message)
    return _panel(request, pk, notice=notice, changed=True)


@login_required
@require_safe
def release_calendar(request, pk):
    """The calendar section of one release: the fragment for htmx, a page of its own otherwise."""
    return _panel(request, pk)


@login_required
@require_POST
def queue_add(request, pk):
    release = release_with_pipeline(user=request.user, pk=pk)
    environment = _environment(release, request.POST.get("environment"))
    return _act(
        request,
        pk,
        lambda: services.queue_add(release=release, environment=environment, actor=request.user),
        f"Queued: {release.version} starts in {environment.name} by itself when it opens.",
    )


@login_required
@require_POST
def queue_cancel(request, pk, item_pk):
    release = release_with_pipeline(user=request.user, pk=pk)
    item = QueuedPromotion.objects.filter(pk=item_pk, release=release).first()
    if item is None:
        raise NotFound("No such queued promotion.")
    return _act(
        request,
        pk,
        lambda: services.queue_cancel(item=item, actor=request.user),
        "The queued promotion is cancelled.",
    )


@login_required
@require_POST
def schedule_set(request, pk):
    release = release_with_pipeline(user=request.user, pk=pk)
    environment = _environment(release, request.POST.get("environment"))
    raw = (request.POST.get("planned_at") or "")[:25]
    try:
        planned = datetime.fromisoformat(raw)
    except ValueError:
        return _panel(request, pk, error="Give the planned date and time, like 2026-12-03T10:00.")
    if planned.tzinfo is None:
        planned = planned.replace(tzinfo=timezone.get_current_timezone())
    outcome: dict = {}

    def act():
        outcome["warnings"] = services.schedule_set(
            release=release, environment=environment, planned_at=planned, actor=request.user
        )[1]

    response = _act(request, pk, act, "")
    if outcome.get("warnings"):
        return _panel(
            request, pk, error="Planned, but: " + " ".join(outcome["warnings"]), changed=True
        )
    if "warnings" in outcome:
        return _panel(request, pk, notice=f"Planned for {environment.name}.", changed=True)
    return response


@login_required
@require_POST
def override_grant(request, pk):
    release = release_with_pipeline(user=request.user, pk=pk)
    environment = _environment(release, request.POST.get("environment"))
    return _act(
        request,
        pk,
        lambda: services.override_grant(
            release=release,
            environment=environment,
            actor=request.user,
            reason=request.POST.get("reason", "")[:2100],
        ),
        f"Overridden: {release.version} may enter {environment.name} now.",
    )


# --- The calendar page ----------------------------------------------------------------------


def _parse_day(value: str | None, default):
    try:
        return date.fromisoformat(value) if value else default
    except ValueError:
        return default


@login_required
@require_safe
def calendar_page(request):
    """Month or week view of windows, freezes and deployments; ?project=slug narrows it."""
    from projects.selectors import project_list

    zone = timezone.get_current_timezone()
    today = timezone.localdate()
    view = "week" if request.GET.get("view") == "week" else "month"
    anchor = _parse_day(request.GET.get("date"), today)
    project = None
    slug = (request.GET.get("project") or "")[:60]
    if slug:
        project = project_list(user=request.user).filter(slug=slug).first()
        if project is None:
            raise NotFound("No such project.")
    if view == "month":
        first = anchor.replace(day=1)
        grid_start = first - timedelta(days=first.weekday())
        next_month = (first + timedelta(days=32)).replace(day=1)
        days = (next_month - grid_start).days
        grid_days = days + (-days % 7)
        previous = (first - timedelta(days=1)).replace(day=1)
        title = first.strftime("%B %Y")
    else:
        first = anchor - timedelta(days=anchor.weekday())
        grid_start, grid_days = first, 7
        next_month, previous = first + timedelta(days=7), first - timedelta(days=7)
        title = f"Week of {first:%-d %B %Y}"
    start = datetime.combine(grid_start, time.min, tzinfo=zone)
    end = start + timedelta(days=grid_days)
    data = selectors.calendar_data(user=request.user, start=start, end=end, project=project)
    weeks = []
    for w in range(grid_days // 7):
        week = []
        for d in range(7):
            day = grid_start + timedelta(days=w * 7 + d)
            day_start = datetime.combine(day, time.min, tzinfo=zone)
            day_end = day_start + timedelta(days=1)
            week.append(
                {
                    "date": day,
                    "today": day == today,
                    "outside": view == "month" and day.month != first.month,
                    "bands": [b for b in data.bands if b.start < day_end and b.end > day_start],
                    "deployments": [
                        dep for dep in data.deployments if day_start <= dep.created_at < day_end
                    ],
                    "violations": [
                        v for v in data.violations if day_start <= v.reported_at < day_end
                    ],
                    "plans": [
                        (plan, warning)
                        for plan, warning in data.schedules
                        if day_start <= plan.planned_at < day_end
                    ],
                }
            )
        weeks.append(week)
    query = {"view": view}
    if project is not None:
        query["project"] = project.slug
    context = {
        "view": view,
        "title": title,
        "weeks": weeks,
        "data": data,
        "project": project,
        "projects": data.projects if project is None else project_list(user=request.user),
        "previous_query": urlencode({**query, "date": previous.isoformat()}),
        "next_query": urlencode({**query, "date": next_month.isoformat()}),
        "today_query": urlencode(query),
        "switch_query": urlencode(
            {**query, "view": "month" if view == "week" else "week", "date": anchor.isoformat()}
        ),
        "anchor": anchor,
        "zone": zone,
        "weekday_names": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
    }
    template = (
        "deploycalendar/partials/calendar.html"
        if _is_fragment(request)
        else "deploycalendar/calendar.html"
    )
    return render(request, template, context)


# --- The iCalendar feed ---------------------------------------------------------------------


@require_safe
def feed(request, token):
    """``/calendar/feed/<token>.ics`` (every project of its owner, ``?project=slug`` for one,
    ``?mine=1`` for the owner's releases only). The token is the only credential."""
    from django.http import HttpResponse

    from deploycalendar.feed import feed_calendar, feed_rows
    from projects.selectors import project_list

    user = services.feed_user(plain=token)
    project = None
    slug = (request.GET.get("project") or "")[:60]
    if slug:
        project = project_list(user=user).filter(slug=slug).first()
        if project is None:
            raise NotFound("No such project.")
    mine = request.GET.get("mine") == "1"
    windows, freezes, deployments = feed_rows(
        user=user, project=project, mine=mine, now=timezone.now()
    )
    name = f"Shipcheck · {project.name}" if project else "Shipcheck"
    if mine:
        name += " · my releases"
    body = feed_calendar(
        name=name,
        windows=windows,
        freezes=freezes,
        deployments=deployments,
        host=request.get_host().split(":")[0] or "shipcheck",
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response


@login_required
@require_POST
def feed_token(request):
    """Create (or, with ``revoke``, revoke) the signed-in person's secret feed URL."""
    if request.POST.get("revoke"):
        services.feed_token_revoke(actor=request.user)
        messages.success(
            request, "Your calendar feed URLs are revoked; subscribed programs stop updating."
        )
        return redirect("deploycalendar:calendar")
    plain = services.feed_token_create(actor=request.user)
    url = request.build_absolute_uri(f"/calendar/feed/{plain}.ics")
    messages.success(
        request,
        f"Your new calendar feed URL (shown once; earlier ones stop working): {url}",
    )
    return redirect("deploycalendar:calendar")
