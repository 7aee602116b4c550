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


_items: list[NavItem] = []


def nav_item(label: str, url_name: str, *, order: int = 100, section: str = "") -> None:
    if any(i.url_name == url_name for i in _items):
        return
    _items.append(NavItem(label, url_name, order, section or url_name.split(":")[0]))
    _items.sort(key=lambda i: i.order)


def nav_items() -> list[NavItem]:
    return list(_items)
