"""Extension points for other apps, so that ``releases`` never imports them.

* Gates: ``@gate(code)`` registers a function ``(ctx) -> GateResult | list[GateResult] | None``.
* Waivers: ``@waiver(code)`` registers ``(ctx) -> str | None``; a closed gate
  with that code is *waived* (counts as open, shown loudly) when it returns a reason.
* Listeners: ``on(event)`` registers a callable run inside the service's
  transaction, e.g. ``scope_changed`` (approvals invalidate), ``deployment_changed``
  (monitoring opens windows). Listeners may raise a DomainError to refuse the change.
* Release holds: ``@release_hold`` registers ``(deployment) -> str | None``; a
  production deployment that succeeds does not mark the release *released*
  while any hold answers a reason (monitoring holds it for its post-deploy window).
* Panels: ``panel(...)`` adds a section to the release page.

Apps register in their ``AppConfig.ready``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_gates: list[tuple[int, str, Callable]] = []
_waivers: dict[str, list[Callable]] = defaultdict(list)
_listeners: dict[str, list[Callable]] = defaultdict(list)
_holds: list[Callable] = []
_panels: list[Panel] = []

# The events listeners may subscribe to, and the keyword arguments they get.
EVENTS = {
    "release_created": ("release", "actor"),
    "release_changed": ("release", "actor", "changes"),  # changes: {field: (old, new)}
    "scope_changed": ("release", "actor", "reason"),
    "artifact_changed": ("release", "actor", "reason"),
    "deployment_changed": ("deployment", "actor", "from_status", "to_status"),
    "release_status_changed": ("release", "actor", "from_status", "to_status"),
}


def gate(code: str, *, order: int = 100):
    def decorator(func):
        _gates.append((order, code, func))
        _gates.sort(key=lambda item: item[0])
        return func

    return decorator


def waiver(code: str):
    def decorator(func):
        _waivers[code].append(func)
        return func

    return decorator


def on(event: str):
    if event not in EVENTS:
        raise ValueError(f"Unknown release event {event!r}; known: {', '.join(EVENTS)}")

    def decorator(func):
        _listeners[event].append(func)
        return func

    return decorator


def emit(event: str, **kwargs: Any) -> None:
    for listener in _listeners[event]:
        listener(**kwargs)


def release_hold(func):
    _holds.append(func)
    return func


def registered_gates():
    return list(_gates)


def waivers_for(code: str):
    return list(_waivers.get(code, ()))


def holds():
    return list(_holds)


@dataclass(frozen=True)
class Panel:
    """A section of the release page.

    ``context(release, request) -> dict`` must use a constant number of queries.
    ``template`` is rendered with that dict plus ``release`` and ``request``.
    """

    key: str
    title: str
    template: str
    context: Callable
    order: int = 100


def panel(*, key: str, title: str, template: str, context: Callable, order: int = 100) -> None:
    if any(p.key == key for p in _panels):
        return
    _panels.append(Panel(key=key, title=title, template=template, context=context, order=order))
    _panels.sort(key=lambda p: p.order)


def panels() -> list[Panel]:
    return list(_panels)
