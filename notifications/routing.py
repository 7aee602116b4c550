"""From a published event to outbox rows, inside the event's transaction.

``on_event`` is subscribed to ``core.events`` (``NotificationsConfig.ready``): for every
event of a project it finds the enabled channels whose subscriber groups hear the event
(and, for an urgent event, the project's release channel), renders the project's template
for each kind of channel, and writes one ``Delivery`` per (event, destination): one per
chat or webhook channel, one per subscriber address of an e-mail channel, as that
person's preferences say. The rows commit or roll back with the change; the workers are
told about them only after commit.

The releases app tells us about deployments through its ``deployment_changed``
listener; we announce those as ``deployment.*`` events, which land here like any other.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone

from core.events import Event, event_type, event_types, publish
from core.oncommit import after_commit
from notifications import payloads, sandbox
from notifications.choices import HTTP_KINDS, ChannelKind, DeliveryStatus, PreferenceMode
from notifications.models import Channel, Delivery, MessageTemplate, Preference, Subscriber

# Events this app announces on behalf of releases (from its deployment_changed listener).
DEPLOYMENT_EVENTS = {
    "deployment.started": ("A deployment started", ("team", "operations")),
    "deployment.succeeded": ("A deployment succeeded", ("team", "operations", "qa")),
    "deployment.failed": ("A deployment failed", ("team", "operations")),
    "deployment.rolled_back": ("A deployment was rolled back", ("team", "operations")),
    "deployment.emergency": (
        "An emergency deployment to production started",
        ("team", "operations", "stakeholders"),
    ),
}


def declare() -> None:
    for key, (label, audience) in DEPLOYMENT_EVENTS.items():
        event_type(key, label, audience=audience)


def absolute(url: str) -> str:
    if not url or url.startswith(("http://", "https://")):
        return url
    return settings.SHIPCHECK_BASE_URL.rstrip("/") + url


def event_label(key: str) -> str:
    for item in event_types():
        if item.key == key:
            return item.label
    return key


def audience_of(key: str) -> tuple[str, ...]:
    for item in event_types():
        if item.key == key:
            return item.audience
    return ("team",)


def template_values(event: Event) -> dict[str, Any]:
    """What a project's template may use for ``event`` (docs/notifications.md lists them)."""
    release = event.release
    return {
        "event": {"key": event.key, "label": event_label(event.key), "urgent": event.urgent},
        "project": getattr(event.project, "name", ""),
        "release": getattr(release, "version", "") if release is not None else "",
        "release_title": getattr(release, "title", "") if release is not None else "",
        "subject": event.subject,
        "body": default_body(event),
        "url": absolute(event.url),
        "data": sandbox.plain(event.data),
    }


def default_body(event: Event) -> str:
    """The event's text, with what its data brings.

    Release notes bring theirs as Markdown in ``data["markdown"]``; monitoring's verdicts
    bring each check's figures in ``data["figures"]``.
    """
    data = event.data if isinstance(event.data, dict) else {}
    parts = [event.body] if event.body else []
    markdown = data.get("markdown")
    # Release notes may bring their Markdown as the body too: never twice.
    if isinstance(markdown, str) and markdown.strip() and markdown.strip() not in event.body:
        parts.append(markdown.strip())
    figures = data.get("figures")
    if isinstance(figures, list) and figures:
        lines = []
        for item in figures:
            if not isinstance(item, dict):
                continue
            line = f"- {item.get('check', '?')}: {item.get('verdict', '')}"
            if item.get("detail"):
                line += f" ({item['detail']})"
            if item.get("baseline") is not None:
                line += (
                    f"; baseline {item['baseline']:g}"
                    if isinstance(item["baseline"], int | float)
                    else f"; baseline {item['baseline']}"
                )
            lines.append(line)
        if lines:
            parts.append("\n".join(lines))
    return "\n\n".join(parts)


def _render(
    templates: dict[str, MessageTemplate], kind: str, values: dict[str, Any]
) -> tuple[str, str]:
    found = templates.get(kind)
    if found is None:
        return payloads.cut(" ".join(values["subject"].split()), SUBJECT_MAX), values["body"]
    subject = sandbox.render(found.subject, values).strip() or values["subject"]
    return payloads.cut(" ".join(subject.split()), SUBJECT_MAX), sandbox.render(
        found.body, values
    ).strip()


# Delivery.subject's length; a longer subject is cut and ends in "…".
SUBJECT_MAX = 300


def channel_host(channel: Channel) -> str:
    return urlsplit(channel.url).hostname or "" if channel.url else ""


def _mode(prefs: dict[tuple[int, str], str], user_id: int | None, key: str) -> str:
    if user_id is None:
        return PreferenceMode.EMAIL
    return prefs.get((user_id, key)) or prefs.get((user_id, "")) or PreferenceMode.EMAIL


def on_event(event: Event) -> None:
    """Write the outbox rows of ``event`` in its transaction (a constant number of queries)."""
    project = event.project
    if project is None or not getattr(project, "pk", None):
        return
    audiences = set(audience_of(event.key))
    channels = [
        c
        for c in Channel.objects.filter(project=project, enabled=True)
        if (audiences & set(c.audiences) and (not c.event_keys or event.key in c.event_keys))
        or (event.urgent and c.is_release_channel)
    ]
    if not channels:
        return
    templates = {
        t.channel_kind: t
        for t in MessageTemplate.objects.filter(project=project, event_key=event.key)
    }
    values = template_values(event)
    now = timezone.now()
    event_id = uuid.uuid4()
    release = event.release if getattr(event.release, "pk", None) else None
    data = sandbox.plain(event.data)
    common = {
        "event_id": event_id,
        "event_key": event.key,
        "project": project,
        "release": release,
        "url": values["url"],
        "data": data,
        "urgent": event.urgent,
        "next_attempt_at": now,
    }
    rows: list[Delivery] = []
    mail_channels = [c for c in channels if c.kind == ChannelKind.EMAIL]
    for channel in channels:
        if channel.kind in HTTP_KINDS:
            subject, body = _render(templates, channel.kind, values)
            rows.append(
                Delivery(
                    channel=channel,
                    kind=channel.kind,
                    destination=payloads.cut(f"{channel.name} ({channel_host(channel)})", 300),
                    audience=",".join(sorted(audiences & set(channel.audiences))),
                    subject=subject,
                    body=body,
                    **common,
                )
            )
    in_app: list[tuple[int, str, str]] = []
    if mail_channels:
        wanted: dict[str, Channel] = {}
        for channel in mail_channels:
            groups = set(channel.audiences)
            if not (event.urgent and channel.is_release_channel):
                groups &= audiences
            for group in groups:
                wanted.setdefault(group, channel)
        subscribers = list(
            Subscriber.objects.filter(
                project=project, audience__in=list(wanted), unsubscribed_at__isnull=True
            ).select_related("user")
        )
        user_ids = [s.user_id for s in subscribers if s.user_id]
        prefs = {
            (p.user_id, p.event_key): p.mode
            for p in Preference.objects.filter(
                project=project, user_id__in=user_ids, event_key__in=["", event.key]
            )
        }
        # People named as recipients already got the in-app notice and the e-mail.
        told = {getattr(r, "pk", None) for r in event.recipients}
        seen: set[str] = set()
        subject, body = _render(templates, ChannelKind.EMAIL, values)
        for subscriber in subscribers:
            person = subscriber.user
            if person is not None and (person.pk in told or not person.is_active):
                continue
            address = (subscriber.address or "").strip()
            if not address or address.lower() in seen:
                continue
            mode = _mode(prefs, subscriber.user_id, event.key)
            if mode == PreferenceMode.OFF:
                continue
            seen.add(address.lower())
            if mode == PreferenceMode.APP:
                if subscriber.user_id:
                    in_app.append((subscriber.user_id, subject, body))
                continue
            status = (
                DeliveryStatus.DIGEST
                if mode == PreferenceMode.DIGEST and not event.urgent
                else DeliveryStatus.PENDING
            )
            rows.append(
                Delivery(
                    channel=wanted[subscriber.audience],
                    subscriber=subscriber,
                    kind=ChannelKind.EMAIL,
                    destination=address,
                    audience=subscriber.audience,
                    subject=subject,
                    body=body,
                    status=status,
                    **common,
                )
            )
    if in_app:
        from core.models import Notification

        Notification.objects.bulk_create(
            [
                Notification(
                    recipient_id=user_id,
                    project=project,
                    subject=subject[:200],
                    body=body,
                    url=event.url,
                    urgent=event.urgent,
                )
                for user_id, subject, body in in_app
            ]
        )
    if not rows:
        return
    created = Delivery.objects.bulk_create(rows)
    ids = [row.pk for row in created if row.status == DeliveryStatus.PENDING]
    if ids:
        after_commit(enqueue, ids)


def enqueue(ids: list[int]) -> None:
    """Tell the workers about committed rows (the sweeper finds any this misses)."""
    from notifications.tasks import deliver

    for pk in ids:
        deliver.delay(pk)


# --- Deployments, from the releases app's listener ------------------------------------------


def on_deployment_changed(*, deployment: Any, actor: Any, from_status: str, to_status: str) -> None:
    from releases.choices import DeploymentStatus

    release = deployment.release
    environment = deployment.environment
    production = getattr(environment, "tier", "") == "production"
    where = f"{release.version} in {environment}"
    if to_status == DeploymentStatus.IN_PROGRESS and from_status != to_status:
        if release.is_emergency and production:
            key, subject, urgent = "deployment.emergency", f"EMERGENCY deployment: {where}", True
        else:
            key, subject, urgent = "deployment.started", f"Deploying {where}", False
    elif to_status == DeploymentStatus.SUCCEEDED:
        key, subject, urgent = "deployment.succeeded", f"Deployed: {where}", False
    elif to_status == DeploymentStatus.FAILED:
        key, subject, urgent = "deployment.failed", f"Deployment failed: {where}", True
    elif to_status == DeploymentStatus.ROLLED_BACK:
        key, subject, urgent = "deployment.rolled_back", f"Rolled back: {where}", True
    else:
        return
    who = deployment.deployed_by_label or (
        (deployment.deployed_by.get_full_name() or deployment.deployed_by.username)
        if deployment.deployed_by_id
        else ""
    )
    body = f"{release.title}" + (f" · by {who}" if who else "")
    if deployment.notes and to_status in (DeploymentStatus.FAILED, DeploymentStatus.ROLLED_BACK):
        body += f"\n\n{deployment.notes}"
    publish(
        key,
        project=release.project,
        subject=subject,
        body=body,
        url=release.get_absolute_url(),
        release=release,
        urgent=urgent,
        data={
            "environment": environment.name,
            "tier": getattr(environment, "tier", ""),
            "status": to_status,
            "version": release.version,
            "deployment_id": deployment.pk,
            "emergency": bool(release.is_emergency),
        },
    )
