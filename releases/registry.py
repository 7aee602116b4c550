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
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from datetime import datetime

    from projects.principals import Caller
    from releases.models import Release

# A registered function keeps its own signature: the decorators return it unchanged.
F = TypeVar("F", bound=Callable[..., Any])

_gates: list[tuple[int, str, Callable[..., Any]]] = []
_waivers: dict[str, list[Callable[..., Any]]] = defaultdict(list)
_listeners: dict[str, list[Callable[..., Any]]] = defaultdict(list)
_holds: list[Callable[..., Any]] = []
_panels: list[Panel] = []

# The events listeners may subscribe to, and the keyword arguments they get.
EVENTS = {
    "release_created": ("release", "actor"),
    "release_changed": ("release", "actor", "changes"),  # changes: {field: (old, new)}
    "scope_changed": ("release", "actor", "reason"),
    "artifact_changed": ("release", "actor", "reason"),
    "deployment_changed": ("deployment", "actor", "from_status", "to_status"),
    "release_status_changed": ("release", "actor", "from_status", "to_status"),
    # Commits were attached to or detached from a release (removed: the detached shas).
    "commits_changed": ("release", "actor", "removed"),
    # A pipeline reported a deployment that the gates refused (integrations, in a transaction of
    # its own after the refusal): deploycalendar records a freeze violation so it is not lost.
    "deployment_refused": ("release", "environment", "actor", "report"),
}


def gate(code: str, *, order: int = 100) -> Callable[[F], F]:
    def decorator(func: F) -> F:
        _gates.append((order, code, func))
        _gates.sort(key=lambda item: item[0])
        return func

    return decorator


def waiver(code: str) -> Callable[[F], F]:
    def decorator(func: F) -> F:
        _waivers[code].append(func)
        return func

    return decorator


def on(event: str) -> Callable[[F], F]:
    if event not in EVENTS:
        raise ValueError(f"Unknown release event {event!r}; known: {', '.join(EVENTS)}")

    def decorator(func: F) -> F:
        _listeners[event].append(func)
        return func

    return decorator


def emit(event: str, **kwargs: Any) -> None:
    for listener in _listeners[event]:
        listener(**kwargs)


def release_hold(func: F) -> F:
    _holds.append(func)
    return func


def registered_gates() -> list[tuple[int, str, Callable[..., Any]]]:
    return list(_gates)


def waivers_for(code: str) -> list[Callable[..., Any]]:
    return list(_waivers.get(code, ()))


def holds() -> list[Callable[..., Any]]:
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
    context: Callable[..., Any]
    order: int = 100


def panel(
    *, key: str, title: str, template: str, context: Callable[..., Any], order: int = 100
) -> None:
    if any(p.key == key for p in _panels):
        return
    _panels.append(Panel(key=key, title=title, template=template, context=context, order=order))
    _panels.sort(key=lambda p: p.order)


def panels() -> list[Panel]:
    return list(_panels)


# --- Urgent things ------------------------------------------------------------------------
# A source ``(*, user, releases) -> list[Urgent]`` says what must be decided now about any of
# ``releases`` (a failed verdict, a canary waiting for a person, an overdue review ...). The
# release page and the dashboard show them as a banner at the top with the action in it.
# A source must use a constant number of queries however many releases it is given.


@dataclass(frozen=True)
class UrgentAction:
    """A link (``method="get"``) or a one-click POST form with hidden ``fields``."""

    label: str
    url: str
    method: str = "get"
    fields: tuple[tuple[str, str], ...] = ()
    style: str = ""  # "primary", "danger" or "" (a plain button)
    # A POST that needs a written reason: the banner asks for it with this label first.
    ask_reason: str = ""


@dataclass(frozen=True)
class Urgent:
    release: Release
    title: str
    detail: str
    actions: tuple[UrgentAction, ...] = ()
    tone: str = "danger"  # "danger" (something broke) or "warning" (someone must decide)
    # The deployment it is about, if any: its "Mark succeeded" then points to the decision.
    deployment_id: int | None = None
    waits_for_decision: bool = False


_urgent_sources: list[tuple[int, Callable[..., Any]]] = []


def urgent_source(*, order: int = 100) -> Callable[[F], F]:
    """Register a source; a lower ``order`` wins when two sources speak of one deployment."""

    def decorator(func: F) -> F:
        if all(f is not func for _, f in _urgent_sources):
            _urgent_sources.append((order, func))
            _urgent_sources.sort(key=lambda item: item[0])
        return func

    return decorator


def urgent_for(*, user: Caller, releases: Iterable[Release]) -> list[Urgent]:
    """Every source's urgent items for ``releases``; broken things before decisions."""
    releases = list(releases)
    if not releases:
        return []
    items: list[Urgent] = []
    seen: set[int] = set()
    for _, source in _urgent_sources:
        for item in source(user=user, releases=releases):
            if item.deployment_id is not None:
                if item.deployment_id in seen:
                    continue
                seen.add(item.deployment_id)
            items.append(item)
    items.sort(key=lambda u: 0 if u.tone == "danger" else 1)
    return items


# --- Waiting for me -----------------------------------------------------------------------
# A source ``(*, user) -> list[Waiting]`` lists what waits for ``user`` personally (a decision,
# a vote, a review, a canary to decide). The *Waiting for me* page, the dashboard's box and the
# count in the navigation all read ``waiting_for``, so the three always agree.


@dataclass
class Waiting:
    kind: str  # decide, emergency, vote, run_meeting, review, window ...
    release: Release
    title: str
    detail: str
    url: str
    since: datetime | None = None
    urgent: bool = False


_waiting_sources: list[Callable[..., Any]] = []


def waiting_source(func: F) -> F:
    if func not in _waiting_sources:
        _waiting_sources.append(func)
    return func


def waiting_for(*, user: Caller) -> list[Waiting]:
    """Everything waiting for ``user`` from every app, urgent first, then oldest first."""
    if not getattr(user, "is_authenticated", False):
        return []
    items: list[Waiting] = []
    for source in _waiting_sources:
        items.extend(source(user=user))
    latest = max((i.since for i in items if i.since is not None), default=None)
    items.sort(key=lambda i: (not i.urgent, i.since or latest))
    return items
