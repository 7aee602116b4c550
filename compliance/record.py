"""The release record: one release's whole story as data, rendered as HTML, PDF and JSON.

Sections come from a registry, filled in compliance's ``AppConfig.ready``
(compliance sits on top and may read every app; no app imports it)::

    from compliance.record import Section, Table, record_section

    def build(release, ctx) -> Section | None: ...
    record_section("flags", "Feature flag rollout", build, order=75)

Registering a key that exists replaces the built-in section (the builders in
compliance/record_sections/ read other apps' models defensively, so the
record still renders while an app is missing or half-built). A builder that
fails is reported in its section instead of breaking the record.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from django.utils import timezone

logger = logging.getLogger(__name__)

RECORD_FORMAT = "shipcheck-release-record/1"


@dataclass
class Table:
    """Rows of one kind. ``columns``: (key, label) pairs; rows are dicts keyed by column key."""

    title: str
    columns: list[tuple[str, str]]
    rows: list[dict[str, Any]] = field(default_factory=list)
    empty: str = "Nothing recorded."
    # Column keys whose cells are long fixed-width strings (hashes): printed small.
    mono: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {
            "title": self.title,
            "columns": [key for key, _label in self.columns],
            "rows": [
                {key: _plain(row.get(key)) for key, _label in self.columns} for row in self.rows
            ],
        }


@dataclass
class Section:
    key: str
    title: str
    facts: list[tuple[str, Any]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Problems an auditor must see (e.g. separation-of-duties breaches).
    findings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "title": self.title,
            "facts": {label: _plain(value) for label, value in self.facts},
            "tables": [table.as_dict() for table in self.tables],
            "notes": self.notes,
            "findings": self.findings,
        }


@dataclass(frozen=True)
class _Registered:
    key: str
    title: str
    builder: Callable
    order: int


_sections: dict[str, _Registered] = {}


def record_section(key: str, title: str, builder: Callable, *, order: int = 100) -> None:
    """Add (or replace) a section of the release record. ``builder(release, ctx) -> Section | None``."""
    _sections[key] = _Registered(key, title, builder, order)


def registered_sections() -> list[_Registered]:
    return sorted(_sections.values(), key=lambda s: (s.order, s.key))


@dataclass
class RecordContext:
    """What builders share: who is reading, when, and a cache for lookups used by several sections."""

    user: Any
    generated_at: datetime
    cache: dict = field(default_factory=dict)


@dataclass
class ReleaseRecord:
    release: Any
    generated_at: datetime
    sections: list[Section]
    checkpoint: dict | None

    def as_dict(self) -> dict:
        release = self.release
        return {
            "format": RECORD_FORMAT,
            "generated_at": _plain(self.generated_at),
            "release": {
                "id": release.pk,
                "project": release.project.slug,
                "version": release.version,
                "title": release.title,
                "status": release.status,
            },
            "sections": [section.as_dict() for section in self.sections],
            "checkpoint": self.checkpoint,
        }

    @property
    def findings(self) -> list[str]:
        return [finding for section in self.sections for finding in section.findings]


def record_build(*, release, user) -> ReleaseRecord:
    """Gather every registered section for ``release`` (already checked visible to ``user``)."""
    from audit.selectors import checkpoint_latest

    ctx = RecordContext(user=user, generated_at=timezone.now())
    sections = []
    for registered in registered_sections():
        try:
            section = registered.builder(release, ctx)
        except Exception as exc:  # noqa: BLE001 - one broken section must not hide the others
            logger.exception(
                "release record section %s failed for release %s", registered.key, release.pk
            )
            section = Section(
                registered.key,
                registered.title,
                notes=[
                    f"This section could not be built ({type(exc).__name__}); "
                    "the other sections are complete."
                ],
            )
        if section is not None:
            if not section.title:
                section.title = registered.title
            sections.append(section)
    checkpoint = checkpoint_latest(project_id=release.project_id)
    return ReleaseRecord(
        release, ctx.generated_at, sections, checkpoint.statement() if checkpoint else None
    )


class Markdown(str):
    """Text written in Markdown (release notes, rollback plans): the page renders it."""


def _plain(value: Any) -> Any:
    """A JSON-friendly value: timestamps in ISO 8601 (UTC), everything else as is or as text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = value.astimezone(UTC)
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


def display(value: Any) -> str:
    """How a cell reads in the HTML page and the PDF."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list | tuple):
        return ", ".join(display(v) for v in value) or "—"
    if isinstance(value, dict):
        import json

        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return str(value)
