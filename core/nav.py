"""Top navigation entries. Apps add theirs in ``AppConfig.ready`` with ``nav_item``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    order: int = 100
    # The URL namespace that marks this item as current (e.g. "checklists").
    section: str = ""
    # A URL name answering the count shown beside the label (loaded by htmx after the page,
    # so no page pays for it); the view renders ``core/partials/nav_count.html``.
    badge_url_name: str = ""


_items: list[NavItem] = []


def nav_item(
    label: str, url_name: str, *, order: int = 100, section: str = "", badge_url_name: str = ""
) -> None:
    if any(i.url_name == url_name for i in _items):
        return
    _items.append(
        NavItem(label, url_name, order, section or url_name.split(":")[0], badge_url_name)
    )
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
