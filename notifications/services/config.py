"""Configuration of who hears what: subscribers, one-click unsubscribe, channels, preferences, templates.

Each service takes the acting person, checks ``notifications.permissions``, locks
what it changes and writes an ``audit_record`` in the same transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import audit_record
from core.events import event_types
from core.exceptions import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.markdown import render_markdown
from monitoring.fetch import url_problem
from notifications import payloads, sandbox
from notifications.choices import (
    AUDIENCE_LABELS,
    ChannelKind,
    PreferenceMode,
)
from notifications.models import Channel, MessageTemplate, Preference, Subscriber
from notifications.permissions import can_configure, can_set_preferences
from notifications.routing import absolute, event_label, template_values
from projects.models import Membership, Project

logger = logging.getLogger(__name__)

UNSUBSCRIBE_SALT = "notifications.unsubscribe"


def config_authorize(*, project: Project, actor: Any) -> None:
    """Refuse (403) anyone but the project's admins and release managers."""
    if not can_configure(actor, project):
        raise PermissionDenied(
            "Only a project admin or a release manager may change who hears what in this project."
        )


def _known_audiences(values: Any, *, field: str = "audiences") -> list[str]:
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list | tuple) or not values:
        raise ValidationFailed(
            "Choose at least one subscriber group.", details={field: "Choose at least one group."}
        )
    unknown = [v for v in values if v not in AUDIENCE_LABELS]
    if unknown:
        raise ValidationFailed(
            f"Unknown subscriber group: {', '.join(map(str, unknown))}.",
            details={field: f"Choose among {', '.join(AUDIENCE_LABELS)}."},
        )
    return sorted(set(values))


def _known_event_keys(values: Any) -> list[str]:
    if not values:
        return []
    if isinstance(values, str):
        values = [values]
    known = {t.key for t in event_types()}
    unknown = [v for v in values if v not in known]
    if unknown:
        raise ValidationFailed(
            f"Unknown event: {', '.join(map(str, unknown))}.",
            details={"event_keys": "Choose among the events listed on the page."},
        )
    return sorted(set(values))


# --- Subscribers -----------------------------------------------------------------------------


def subscriber_add(
    *,
    project: Project,
    actor: Any,
    audience: str,
    user: Any = None,
    email: str = "",
    name: str = "",
) -> Subscriber:
    """Add a member or a plain address to a group; audit ``notifications.subscriber_added``."""
    config_authorize(project=project, actor=actor)
    (audience,) = _known_audiences([audience], field="audience")
    email = (email or "").strip()
    if user is None:
        if not email:
            raise ValidationFailed(
                "Name a member of the project or enter an e-mail address.",
                details={"email": "Enter an address or choose a person."},
            )
        try:
            validate_email(email)
        except Exception:  # noqa: BLE001 - Django's ValidationError, answered as ours
            raise ValidationFailed(
                f"'{email[:80]}' is not an e-mail address.",
                details={"email": "Enter a valid e-mail address."},
            ) from None
    elif not Membership.objects.filter(project=project, user=user).exists():
        raise ValidationFailed(
            "Only members of the project can be added by name; add others by address.",
            details={"user": "Not a member of this project."},
        )
    with transaction.atomic():
        Project.objects.select_for_update().get(pk=project.pk)
        try:
            with transaction.atomic():
                subscriber = Subscriber.objects.create(
                    project=project,
                    audience=audience,
                    user=user,
                    email="" if user is not None else email.lower(),
                    name=(name or "").strip()[:120],
                )
        except IntegrityError:
            raise Conflict(
                f"{user or email} is already in the {AUDIENCE_LABELS[audience]} group."
            ) from None
        audit_record(
            actor=actor,
            action="notifications.subscriber_added",
            obj=subscriber,
            project=project,
            data={"audience": audience, "who": subscriber.label},
        )
    return subscriber


def subscriber_remove(*, subscriber: Subscriber, actor: Any) -> None:
    """Take someone out of a group; audit ``notifications.subscriber_removed``."""
    project = subscriber.project
    config_authorize(project=project, actor=actor)
    with transaction.atomic():
        locked = Subscriber.objects.select_for_update().filter(pk=subscriber.pk).first()
        if locked is None:
            raise NotFound("No such subscriber.")
        audit_record(
            actor=actor,
            action="notifications.subscriber_removed",
            obj=locked,
            project=project,
            data={"audience": locked.audience, "who": locked.label},
        )
        locked.delete()


def unsubscribe_token(subscriber: Subscriber) -> str:
    return signing.dumps({"s": subscriber.pk}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_url(subscriber: Subscriber) -> str:
    from django.urls import reverse

    return absolute(reverse("notifications:unsubscribe", args=[unsubscribe_token(subscriber)]))


def unsubscribe_lookup(*, token: str) -> Subscriber:
    """The subscriber a signed link names, or ValidationFailed for a link that was changed."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        pk = int(data["s"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise ValidationFailed(
            "This unsubscribe link is not valid: it was changed or cut short. Use the link from "
            "the e-mail exactly as it is, or ask the project's admins to remove you."
        ) from None
    subscriber = Subscriber.objects.select_related("project", "user").filter(pk=pk).first()
    if subscriber is None:
        raise NotFound("This address is no longer in the group: there is nothing to unsubscribe.")
    return subscriber


def unsubscribe(*, token: str) -> Subscriber:
    """One-click unsubscribe (no sign-in): stop e-mail to this group; audit ``notifications.unsubscribed``."""
    subscriber = unsubscribe_lookup(token=token)
    with transaction.atomic():
        locked = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        if locked.unsubscribed_at is None:
            locked.unsubscribed_at = timezone.now()
            locked.save(update_fields=["unsubscribed_at"])
            audit_record(
                actor=None,
                action="notifications.unsubscribed",
                obj=locked,
                project=locked.project_id,
                data={"audience": locked.audience, "who": subscriber.label},
            )
    subscriber.unsubscribed_at = locked.unsubscribed_at
    return subscriber


# --- Channels --------------------------------------------------------------------------------


def _channel_url_problem(kind: str, url: str) -> str | None:
    if kind == ChannelKind.EMAIL:
        return None
    problem = url_problem(url)
    if problem:
        return problem
    if not url.startswith("https://") and not settings.DEBUG and not _loopback_allowed(url):
        return "Webhook URLs must use https:// (the message and its signature travel in it)."
    return None


def _loopback_allowed(url: str) -> bool:
    from urllib.parse import urlsplit

    from monitoring.fetch import host_allowlisted

    return host_allowlisted(urlsplit(url).hostname or "")


@dataclass(frozen=True)
class ChannelSaved:
    channel: Channel
    # The signing secret, shown this once (generic webhooks; "" otherwise or when kept).
    secret: str = ""


def channel_create(
    *,
    project: Project,
    actor: Any,
    kind: str,
    name: str,
    url: str = "",
    audiences: Any = (),
    event_keys: Any = (),
    is_release_channel: bool = False,
    secret: str = "",
) -> ChannelSaved:
    """Add a channel; a webhook gets a new signing secret unless one is given. Audit ``notifications.channel_created``."""
    config_authorize(project=project, actor=actor)
    if kind not in ChannelKind.values:
        raise ValidationFailed(
            f"Unknown kind of channel '{kind}'.",
            details={"kind": f"Choose among {', '.join(ChannelKind.values)}."},
        )
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("Give the channel a name.", details={"name": "Enter a name."})
    url = (url or "").strip()
    problem = _channel_url_problem(kind, url)
    if problem:
        raise ValidationFailed(problem, details={"url": problem})
    groups = _known_audiences(list(audiences))
    keys = _known_event_keys(list(event_keys or []))
    shown = ""
    if kind == ChannelKind.WEBHOOK:
        secret = (secret or "").strip()
        if not secret:
            secret = shown = payloads.new_secret()
    else:
        secret = ""
    with transaction.atomic():
        Project.objects.select_for_update().get(pk=project.pk)
        if Channel.objects.filter(project=project, name__iexact=name).exists():
            raise Conflict(f"The project already has a channel named '{name}'.")
        channel = Channel.objects.create(
            project=project,
            kind=kind,
            name=name[:80],
            url=url if kind != ChannelKind.EMAIL else "",
            secret=secret,
            audiences=groups,
            event_keys=keys,
            is_release_channel=bool(is_release_channel),
        )
        audit_record(
            actor=actor,
            action="notifications.channel_created",
            obj=channel,
            project=project,
            data={"kind": kind, "name": channel.name, "audiences": groups, "event_keys": keys},
        )
    return ChannelSaved(channel, shown)


def channel_update(
    *,
    channel: Channel,
    actor: Any,
    name: str | None = None,
    url: str | None = None,
    audiences: Any = None,
    event_keys: Any = None,
    is_release_channel: bool | None = None,
    enabled: bool | None = None,
    new_secret: bool = False,
) -> ChannelSaved:
    """Change a channel; ``enabled=True`` turns a disabled one back on. Audit ``notifications.channel_changed``."""
    project = channel.project
    config_authorize(project=project, actor=actor)
    with transaction.atomic():
        locked = Channel.objects.select_for_update().filter(pk=channel.pk).first()
        if locked is None:
            raise NotFound("No such channel.")
        changes: dict[str, Any] = {}
        if name is not None and name.strip() and name.strip() != locked.name:
            if (
                Channel.objects.filter(project=project, name__iexact=name.strip())
                .exclude(pk=locked.pk)
                .exists()
            ):
                raise Conflict(f"The project already has a channel named '{name.strip()}'.")
            changes["name"] = name.strip()[:80]
        if url is not None and url.strip() != locked.url and locked.kind != ChannelKind.EMAIL:
            problem = _channel_url_problem(locked.kind, url.strip())
            if problem:
                raise ValidationFailed(problem, details={"url": problem})
            changes["url"] = url.strip()
        if audiences is not None:
            changes["audiences"] = _known_audiences(list(audiences))
        if event_keys is not None:
            changes["event_keys"] = _known_event_keys(list(event_keys))
        if is_release_channel is not None:
            changes["is_release_channel"] = bool(is_release_channel)
        if enabled is not None and bool(enabled) != locked.enabled:
            changes["enabled"] = bool(enabled)
            if enabled:
                changes["disabled_reason"] = ""
                changes["disabled_at"] = None
            else:
                changes["disabled_reason"] = "Turned off by a person."
                changes["disabled_at"] = timezone.now()
        shown = ""
        if new_secret and locked.kind == ChannelKind.WEBHOOK:
            shown = payloads.new_secret()
            locked.secret = shown
            changes["secret_changed"] = True
        for field, value in changes.items():
            if field != "secret_changed":
                setattr(locked, field, value)
        if changes:
            locked.save()
            audit_record(
                actor=actor,
                action="notifications.channel_changed",
                obj=locked,
                project=project,
                data={k: (v if k not in ("disabled_at",) else str(v)) for k, v in changes.items()},
            )
    return ChannelSaved(locked, shown)


def channel_delete(*, channel: Channel, actor: Any) -> None:
    """Remove a channel (its delivery log stays); audit ``notifications.channel_deleted``."""
    config_authorize(project=channel.project, actor=actor)
    with transaction.atomic():
        locked = Channel.objects.select_for_update().filter(pk=channel.pk).first()
        if locked is None:
            raise NotFound("No such channel.")
        audit_record(
            actor=actor,
            action="notifications.channel_deleted",
            obj=locked,
            project=locked.project_id,
            data={"kind": locked.kind, "name": locked.name},
        )
        locked.delete()


# --- Preferences -----------------------------------------------------------------------------


def preference_set(*, project: Project, actor: Any, event_key: str, mode: str) -> Preference | None:
    """Set how ``actor`` hears ``event_key`` ("" = every event); mode "" removes the choice."""
    if not can_set_preferences(actor, project):
        from projects.permissions import READ_ONLY_REFUSAL, can_view_project

        if can_view_project(actor, project):
            raise PermissionDenied(READ_ONLY_REFUSAL)
        raise NotFound("No such project.")
    event_key = (event_key or "").strip()
    if event_key:
        _known_event_keys([event_key])
    if mode and mode not in PreferenceMode.values:
        raise ValidationFailed(
            f"Unknown choice '{mode}'.",
            details={"mode": f"Choose among {', '.join(PreferenceMode.values)}."},
        )
    with transaction.atomic():
        current = (
            Preference.objects.select_for_update()
            .filter(project=project, user=actor, event_key=event_key)
            .first()
        )
        before = current.mode if current else ""
        if not mode:
            if current is not None:
                current.delete()
            result = None
        elif current is None:
            result = Preference.objects.create(
                project=project, user=actor, event_key=event_key, mode=mode
            )
        else:
            current.mode = mode
            current.save(update_fields=["mode", "updated_at"])
            result = current
        if before != (mode or ""):
            audit_record(
                actor=actor,
                action="notifications.preference_set",
                object_type="notifications.preference",
                object_id=f"{actor.pk}:{event_key or '*'}",
                object_repr=f"{event_key or 'every event'}",
                project=project,
                from_state=before,
                to_state=mode or "",
            )
    return result


# --- Templates -------------------------------------------------------------------------------


def sample_values(*, project: Project, event_key: str) -> dict[str, Any]:
    """Values a preview renders with: made-up but shaped like the real ones."""
    from core.events import Event

    event = Event(
        key=event_key,
        project=project,
        subject=f"{event_label(event_key)}: 2.4.0 in production",
        body="Faster checkout · by Alice",
        url=f"/releases/{project.slug}/2.4.0/",
        data={"environment": "production", "version": "2.4.0", "status": "succeeded"},
    )
    values = template_values(event)
    values["release"] = "2.4.0"
    values["release_title"] = "Faster checkout"
    return values


@dataclass(frozen=True)
class Preview:
    subject: str
    body: str
    html: str


def template_preview(*, project: Project, event_key: str, subject: str, body: str) -> Preview:
    """Render a template with sample values, or ValidationFailed naming the line of a syntax error."""
    _known_event_keys([event_key])
    for label, source in (("subject", subject), ("body", body)):
        problem = sandbox.template_problem(source or "")
        if problem:
            raise ValidationFailed(
                f"The {label} cannot be used. {problem}", details={label: problem}
            )
    values = sample_values(project=project, event_key=event_key)
    text = sandbox.render(body or "", values)
    return Preview(
        subject=" ".join(sandbox.render(subject or "", values).split()),
        body=text,
        html=str(render_markdown(text)),
    )


def template_save(
    *, project: Project, actor: Any, event_key: str, channel_kind: str, subject: str, body: str
) -> MessageTemplate:
    """Save a project's wording of one event on one kind of channel; audit ``notifications.template_saved``."""
    config_authorize(project=project, actor=actor)
    if channel_kind not in ChannelKind.values:
        raise ValidationFailed(
            f"Unknown kind of channel '{channel_kind}'.",
            details={"channel_kind": f"Choose among {', '.join(ChannelKind.values)}."},
        )
    if not (subject or "").strip() or not (body or "").strip():
        raise ValidationFailed(
            "A template needs a subject and a body.",
            details={"subject": "Enter a subject.", "body": "Enter a body."},
        )
    template_preview(project=project, event_key=event_key, subject=subject, body=body)
    with transaction.atomic():
        Project.objects.select_for_update().get(pk=project.pk)
        template, created = MessageTemplate.objects.update_or_create(
            project=project,
            event_key=event_key,
            channel_kind=channel_kind,
            defaults={"subject": subject.strip()[:300], "body": body, "updated_by": actor},
        )
        audit_record(
            actor=actor,
            action="notifications.template_saved",
            obj=template,
            project=project,
            data={"event_key": event_key, "channel_kind": channel_kind, "created": created},
        )
    return template


def template_delete(*, template: MessageTemplate, actor: Any) -> None:
    """Go back to the default wording; audit ``notifications.template_deleted``."""
    config_authorize(project=template.project, actor=actor)
    with transaction.atomic():
        locked = MessageTemplate.objects.select_for_update().filter(pk=template.pk).first()
        if locked is None:
            raise NotFound("No such template.")
        audit_record(
            actor=actor,
            action="notifications.template_deleted",
            obj=locked,
            project=locked.project_id,
            data={"event_key": locked.event_key, "channel_kind": locked.channel_kind},
        )
        locked.delete()
