"""Top navigation entries. Apps add theirs in ``AppConfig.ready`` with ``nav_item``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    order: int = 100
    # The URL namespace that marks this item as current (e.g. "checklists").
    section: str = ""
    # ``badge(user) -> int``: a count shown beside the label (computed only when rendered).
    badge: Callable | None = None


_items: list[NavItem] = []


def nav_item(
    label: str, url_name: str, *, order: int = 100, section: str = "", badge: Callable | None = None
) -> None:
    if any(i.url_name == url_name for i in _items):
        return
    _items.append(NavItem(label, url_name, order, section or url_name.split(":")[0], badge))
    _items.sort(key=lambda i: i.order)


def nav_items() -> list[NavItem]:
    return list(_items)


# --- Project pages -------------------------------------------------------------------
# Apps add links to their per-project pages (settings, templates, checks …) with
# ``project_link``; the project page lists them. The URL takes the project's slug
# as its one argument (or, failing that, its pk).


@dataclass(frozen=True)
class ProjectLink:
    label: str
    url_name: str
    order: int = 100
    description: str = ""
    admin_only: bool = True


_project_links: list[ProjectLink] = []


def project_link(
    label: str, url_name: str, *, order: int = 100, description: str = "", admin_only: bool = True
) -> None:
    if any(link.url_name == url_name for link in _project_links):
        return
    _project_links.append(ProjectLink(label, url_name, order, description, admin_only))
    _project_links.sort(key=lambda link: link.order)


def project_links() -> list[ProjectLink]:
    return list(_project_links)
