"""Extension point of ``monitoring`` for the apps above it, so that it never imports them.

* Overview sections: ``@overview_section`` registers ``(*, user, now) -> dict | None``; the
  monitoring page (``monitoring.views.index``) renders, below its own windows, each answer that
  is not None with ``template`` (the dict's ``"template"`` key) and the dict as ``section``.
  ``flags`` shows the rollout steps its workers are watching with the same checks and verdict
  rules as a deployment's window.

Apps register in their ``AppConfig.ready``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

OverviewSection = Callable[..., dict[str, Any] | None]

_sections: list[OverviewSection] = []


def overview_section(func: OverviewSection) -> OverviewSection:
    if func not in _sections:
        _sections.append(func)
    return func


def overview_sections(*, user: Any, now: Any) -> list[dict[str, Any]]:
    return [s for s in (func(user=user, now=now) for func in _sections) if s is not None]
