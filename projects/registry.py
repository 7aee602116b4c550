"""Extension points of ``projects`` for the apps above it, so that ``projects`` never imports them.

* Retirement checks: ``@environment_retire_check`` registers ``(environment) -> None``, run
  inside ``environment_retire``'s transaction after the environment row is locked; it refuses
  by raising a domain error (``releases`` refuses while a deployment is running there).
* Project page: ``@project_page_context`` registers ``(*, project, user) -> dict``; the
  project page (``projects.views.project_detail``) adds what it returns to its context
  (``releases`` adds what runs where and the latest releases).

Apps register in their ``AppConfig.ready``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from projects.models import Environment

RetireCheck = Callable[[Environment], None]
PageContext = Callable[..., dict[str, Any]]

_retire_checks: list[RetireCheck] = []
_page_contexts: list[PageContext] = []


def environment_retire_check(func: RetireCheck) -> RetireCheck:
    if func not in _retire_checks:
        _retire_checks.append(func)
    return func


def environment_retire_checks() -> list[RetireCheck]:
    return list(_retire_checks)


def project_page_context(func: PageContext) -> PageContext:
    if func not in _page_contexts:
        _page_contexts.append(func)
    return func


def project_page_contexts() -> list[PageContext]:
    return list(_page_contexts)
