"""Notification pages: who hears what, the delivery log, templates, preferences, unsubscribe.

Thin views: parse the form, call one selector or service, render. Missing and
forbidden projects are 404; a person who may read but not change gets the page
without its forms, and a write from them is 403.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.events import event_types
from core.exceptions import DomainError, NotFound, PermissionDenied, ValidationFailed
from notifications import selectors, services
from notifications.choices import AUDIENCE_CHOICES, ChannelKind, DeliveryStatus, PreferenceMode
from notifications.permissions import (
    can_configure,
    can_read_log,
    can_resend,
    can_set_preferences,
)
from projects.permissions import READ_ONLY_REFUSAL
from projects.selectors import project_members

PAGE_SIZE = 50


def _project(request, slug):
    try:
        return selectors.project_for(user=request.user, slug=slug)
    except NotFound:
        raise Http404 from None


def _denied(error: DomainError) -> None:
    if isinstance(error, NotFound):
        raise Http404 from None
    if isinstance(error, PermissionDenied):
        raise DjangoPermissionDenied(error.message) from None


def _settings_context(request, project, **extra) -> dict:
    subscribers = list(selectors.subscriber_list(project=project))
    groups = [
        {"key": key, "label": label, "members": [s for s in subscribers if s.audience == key]}
        for key, label in AUDIENCE_CHOICES
    ]
    return {
        "project": project,
        "groups": groups,
        "channels": list(selectors.channel_list(project=project)),
        "templates": list(selectors.template_list(project=project)),
        "members": list({m.user_id: m.user for m in project_members(project=project)}.values())
        if can_configure(request.user, project)
        else [],
        "audiences": AUDIENCE_CHOICES,
        "kinds": ChannelKind.choices,
        "event_types": event_types(),
        "can_configure": can_configure(request.user, project),
        "dead_count": selectors.delivery_list(project=project, status=DeliveryStatus.DEAD).count(),
        **extra,
    }


@login_required
@require_safe
def project_settings(request, slug):
    project = _project(request, slug)
    return render(
        request,
        "notifications/settings.html",
        _settings_context(request, project, notice=request.GET.get("notice", "")[:200]),
    )


def _settings_error(request, project, error: DomainError):
    _denied(error)
    return render(
        request,
        "notifications/settings.html",
        _settings_context(request, project, error=error.message),
    )


@login_required
@require_POST
def subscriber_add(request, slug):
    project = _project(request, slug)
    user = None
    user_id = request.POST.get("user", "").strip()
    try:
        services.config_authorize(project=project, actor=request.user)
        if user_id:
            user = (
                get_user_model().objects.filter(pk=int(user_id) if user_id.isdigit() else 0).first()
            )
            if user is None:
                raise ValidationFailed("Choose a member of the project.")
        services.subscriber_add(
            project=project,
            actor=request.user,
            audience=request.POST.get("audience", ""),
            user=user,
            email=request.POST.get("email", ""),
            name=request.POST.get("name", ""),
        )
    except DomainError as exc:
        return _settings_error(request, project, exc)
    return redirect(
        reverse("notifications:settings", args=[project.slug]) + "?notice=Subscriber+added."
    )


@login_required
@require_POST
def subscriber_remove(request, pk):
    try:
        subscriber = selectors.subscriber_get(user=request.user, pk=pk)
        services.subscriber_remove(subscriber=subscriber, actor=request.user)
    except DomainError as exc:
        _denied(exc)
        raise
    return redirect(
        reverse("notifications:settings", args=[subscriber.project.slug])
        + "?notice=Subscriber+removed."
    )


@login_required
@require_POST
def channel_add(request, slug):
    project = _project(request, slug)
    try:
        services.config_authorize(project=project, actor=request.user)
        saved = services.channel_create(
            project=project,
            actor=request.user,
            kind=request.POST.get("kind", ""),
            name=request.POST.get("name", ""),
            url=request.POST.get("url", ""),
            audiences=request.POST.getlist("audiences"),
            event_keys=[k for k in request.POST.getlist("event_keys") if k],
            is_release_channel=request.POST.get("is_release_channel") == "on",
            secret=request.POST.get("secret", ""),
        )
    except DomainError as exc:
        return _settings_error(request, project, exc)
    return render(
        request,
        "notifications/settings.html",
        _settings_context(
            request,
            project,
            notice=f"Channel '{saved.channel.name}' added.",
            shown_secret=saved.secret,
        ),
    )


@login_required
@require_POST
def channel_change(request, pk):
    try:
        channel = selectors.channel_get(user=request.user, pk=pk)
    except NotFound:
        raise Http404 from None
    project = channel.project
    action = request.POST.get("action", "")
    try:
        services.config_authorize(project=project, actor=request.user)
        if action == "delete":
            services.channel_delete(channel=channel, actor=request.user)
            notice, secret = f"Channel '{channel.name}' removed.", ""
        elif action in ("enable", "disable"):
            saved = services.channel_update(
                channel=channel, actor=request.user, enabled=action == "enable"
            )
            notice, secret = (
                f"Channel '{channel.name}' turned {'on' if action == 'enable' else 'off'}.",
                "",
            )
        elif action == "new_secret":
            saved = services.channel_update(channel=channel, actor=request.user, new_secret=True)
            notice, secret = (
                "A new signing secret was made; the old one no longer signs.",
                saved.secret,
            )
        else:
            raise ValidationFailed("Unknown action.")
    except DomainError as exc:
        return _settings_error(request, project, exc)
    return render(
        request,
        "notifications/settings.html",
        _settings_context(request, project, notice=notice, shown_secret=secret),
    )


# --- Delivery log ---------------------------------------------------------------------------


@login_required
@require_safe
def delivery_log(request, slug):
    project = _project(request, slug)
    status = request.GET.get("status", "")
    if status not in DeliveryStatus.values:
        status = ""
    version = request.GET.get("release", "")[:60]
    release = project.releases.filter(version=version).first() if version else None
    qs = selectors.delivery_list(project=project, status=status, release=release)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "project": project,
        "page": page,
        "status": status,
        "release": release,
        "statuses": DeliveryStatus.choices,
        "can_resend": can_resend(request.user, project),
        "notice": request.GET.get("notice", "")[:200],
    }
    if request.htmx:
        return render(request, "notifications/partials/delivery_rows.html", context)
    return render(request, "notifications/log.html", context)


@login_required
@require_POST
def delivery_resend(request, pk):
    try:
        delivery = selectors.delivery_get(user=request.user, pk=pk)
    except NotFound:
        raise Http404 from None
    try:
        delivery = services.delivery_resend(delivery=delivery, actor=request.user)
    except DomainError as exc:
        _denied(exc)
        if request.htmx:
            return render(
                request,
                "notifications/partials/delivery_row.html",
                {"d": delivery, "can_resend": True, "row_error": exc.message},
            )
        return redirect(
            reverse("notifications:log", args=[delivery.project.slug])
            + "?status=dead&notice="
            + exc.message[:150].replace(" ", "+")
        )
    if request.htmx:
        return render(
            request, "notifications/partials/delivery_row.html", {"d": delivery, "can_resend": True}
        )
    back = request.POST.get("next", "")
    if back.startswith("/") and not back.startswith("//"):
        return redirect(back)
    return redirect(
        reverse("notifications:log", args=[delivery.project.slug]) + "?notice=Queued+to+send+again."
    )


@login_required
@require_POST
def stakeholders_told(request, pk):
    from checklists.models import Item

    item = Item.objects.select_related("checklist__release__project").filter(pk=pk).first()
    if item is None or not can_read_log(request.user, item.checklist.release.project):
        raise Http404
    release = item.checklist.release
    try:
        services.stakeholders_told_tick(item=item, actor=request.user)
    except DomainError as exc:
        _denied(exc)
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Ticked “{item.text}” with the delivery log as evidence.")
    return redirect(release.get_absolute_url() + "#notifications-panel")


# --- Templates -------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def template_edit(request, slug):
    project = _project(request, slug)
    keys = [t.key for t in event_types()]
    event_key = (
        request.POST.get("event_key") or request.GET.get("event") or (keys[0] if keys else "")
    )
    channel_kind = request.POST.get("channel_kind") or request.GET.get("kind") or ChannelKind.EMAIL
    existing = (
        selectors.template_list(project=project)
        .filter(event_key=event_key, channel_kind=channel_kind)
        .first()
    )
    subject = request.POST.get("subject", existing.subject if existing else "{{ subject }}")
    body = request.POST.get("body", existing.body if existing else "{{ body }}")
    context = {
        "project": project,
        "event_types": event_types(),
        "kinds": ChannelKind.choices,
        "event_key": event_key,
        "channel_kind": channel_kind,
        "subject": subject,
        "body": body,
        "existing": existing,
        "can_configure": can_configure(request.user, project),
        "variables": services.sample_values(project=project, event_key=event_key)
        if event_key in keys
        else {},
    }
    if request.method == "POST":
        # Previews and saves are for those who may edit; the others read the page.
        try:
            services.config_authorize(project=project, actor=request.user)
        except DomainError as exc:
            _denied(exc)
        action = request.POST.get("action", "preview")
        try:
            if action == "save":
                services.template_save(
                    project=project,
                    actor=request.user,
                    event_key=event_key,
                    channel_kind=channel_kind,
                    subject=subject,
                    body=body,
                )
                context["notice"] = "Template saved: the next messages use it."
                context["existing"] = True
            elif action == "reset" and existing is not None:
                services.template_delete(template=existing, actor=request.user)
                context.update(
                    notice="Back to the default wording.",
                    existing=None,
                    subject="{{ subject }}",
                    body="{{ body }}",
                )
            context["preview"] = services.template_preview(
                project=project,
                event_key=event_key,
                subject=context["subject"],
                body=context["body"],
            )
        except DomainError as exc:
            _denied(exc)
            context["error"] = exc.message
    if request.htmx and request.method == "POST":
        return render(request, "notifications/partials/template_form.html", context)
    return render(request, "notifications/templates.html", context)


# --- Preferences -----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request, slug):
    project = _project(request, slug)
    notice = error = ""
    if request.method == "POST":
        if not can_set_preferences(request.user, project):
            raise DjangoPermissionDenied(READ_ONLY_REFUSAL)
        try:
            for item in [("", request.POST.get("mode__all", None))] + [
                (t.key, request.POST.get(f"mode__{t.key}", None)) for t in event_types()
            ]:
                key, mode = item
                if mode is None:
                    continue
                services.preference_set(
                    project=project, actor=request.user, event_key=key, mode=mode
                )
            notice = "Your preferences are saved."
        except DomainError as exc:
            _denied(exc)
            error = exc.message
    current = {
        p.event_key: p.mode for p in selectors.preference_list(project=project, user=request.user)
    }
    rows = [
        {"type": t, "mode": current.get(t.key, ""), "audience": ", ".join(t.audience)}
        for t in event_types()
    ]
    return render(
        request,
        "notifications/preferences.html",
        {
            "project": project,
            "rows": rows,
            "default_mode": current.get("", ""),
            "modes": PreferenceMode.choices,
            "notice": notice,
            "error": error,
        },
    )


# --- Unsubscribe (no sign-in) ---------------------------------------------------------------


@csrf_exempt  # RFC 8058: mail clients POST the one-click form without a session or token.
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    try:
        if request.method == "POST":
            subscriber = services.unsubscribe(token=token)
            done = True
        else:
            subscriber = services.unsubscribe_lookup(token=token)
            done = subscriber.unsubscribed_at is not None
    except ValidationFailed as exc:
        # As for a missing object: a changed link names nobody.
        return render(request, "notifications/unsubscribe.html", {"error": exc.message}, status=404)
    except NotFound as exc:
        return render(request, "notifications/unsubscribe.html", {"error": exc.message}, status=404)
    response = render(
        request,
        "notifications/unsubscribe.html",
        {"subscriber": subscriber, "done": done, "token": token},
    )
    return response
