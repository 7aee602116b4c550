"""Things that happen in the product that people may want to hear about.

Any app announces one with ``publish`` inside the transaction of the change
(``core`` is the bottom layer, so every app may call it). Today ``publish``
writes the in-app notification and queues the e-mail for ``recipients``
(``core.notifications.notification_send``); apps higher up (``notifications``)
``subscribe`` a handler that runs in the same transaction, for example to
write outbox rows for the project's channels, so a rolled-back change tells
nobody and a committed one is never forgotten.

Each app declares the events it publishes with ``event_type`` in its
``AppConfig.ready``: the key (``<app>.<what>``, e.g. ``calendar.reminder``),
a label people read on the subscription page, and who hears it by default.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

# The subscriber groups a project has (issue 16); an event names the ones that hear it
# unless a person or a project chose otherwise.
AUDIENCES = ("team", "qa", "operations", "stakeholders", "customers")


@dataclass(frozen=True)
class EventType:
    key: str
    label: str
    description: str = ""
    audience: tuple[str, ...] = ("team",)


@dataclass(frozen=True)
class Event:
    key: str
    project: Any  # projects.Project (core cannot import it)
    subject: str
    body: str = ""
    url: str = ""
    release: Any = None  # releases.Release, when the event is about one
    recipients: tuple[Any, ...] = ()  # people told in the app and by e-mail now
    urgent: bool = False
    data: dict[str, Any] = field(default_factory=dict)


_types: dict[str, EventType] = {}
_handlers: list[Callable[[Event], None]] = []


def event_type(
    key: str, label: str, *, description: str = "", audience: Iterable[str] = ("team",)
) -> None:
    audience = tuple(audience)
    unknown = set(audience) - set(AUDIENCES)
    if unknown:
        raise ValueError(f"Unknown audience {sorted(unknown)} for event {key!r}")
    _types.setdefault(key, EventType(key, label, description, audience))


def event_types() -> list[EventType]:
    return sorted(_types.values(), key=lambda t: t.key)


def subscribe(handler: Callable[[Event], None]) -> None:
    """Run ``handler(event)`` inside the transaction of every published event."""
    if handler not in _handlers:
        _handlers.append(handler)


def publish(
    key: str,
    *,
    project: Any,
    subject: str,
    body: str = "",
    url: str = "",
    release: Any = None,
    recipients: Iterable[Any] = (),
    urgent: bool = False,
    data: dict[str, Any] | None = None,
) -> Event:
    """Announce ``key``; must run inside the transaction of the change it announces."""
    if key not in _types:
        raise ValueError(f"Unknown event {key!r}: declare it with core.events.event_type")
    if not connection.in_atomic_block:
        raise RuntimeError("publish must run inside the transaction of the change it announces")
    from core.notifications import notification_send

    event = Event(
        key=key,
        project=project,
        subject=subject,
        body=body,
        url=url,
        release=release,
        recipients=tuple(recipients),
        urgent=urgent,
        data=dict(data or {}),
    )
    if event.recipients:
        notification_send(
            recipients=event.recipients,
            subject=subject,
            body=body,
            url=url,
            project=project,
            urgent=urgent,
        )
    for handler in _handlers:
        handler(event)
    return event
