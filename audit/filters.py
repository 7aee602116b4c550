"""A selection of audit events, already narrowed to what its reader may see.

The trail's reads (audit.selectors) and exports (audit.exports) take an
``AuditFilters``; reading one from a query string, and narrowing it to the
reader's projects, is compliance.filters' job (it knows who may see what).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


class ProjectRef(Protocol):
    """What the trail needs of a project (a ``projects.Project`` is one): its id, slug and name."""

    @property
    def pk(self) -> Any: ...

    @property
    def slug(self) -> str: ...

    @property
    def name(self) -> str: ...


@dataclass
class AuditFilters:
    """A parsed, permission-checked selection of audit events.

    ``project_ids``: the projects whose events may be shown (already narrowed
    to what the user may see). ``everything``: a superuser's view of the whole
    chain, including events that belong to no project.
    """

    project_ids: list[int]
    everything: bool = False
    project: ProjectRef | None = None
    release_id: int | None = None
    release_label: str = ""
    actor: tuple[str, int | None, str] | None = None  # (kind, id, label)
    action: str = ""
    action_prefix: bool = False
    date_from: datetime | None = None
    date_to: datetime | None = None  # exclusive
    raw: dict = field(default_factory=dict)

    @property
    def is_project_scope(self) -> bool:
        """Exactly one project's events, not narrowed further: a provable run of its chain."""
        return self.project is not None and not self.narrowed

    @property
    def is_whole_chain(self) -> bool:
        return self.everything and self.project is None and not self.narrowed

    @property
    def narrowed(self) -> bool:
        return bool(self.release_id or self.actor or self.action)

    def describe(self) -> dict:
        """The filters as given (normalised), for export headers and the API."""
        return {key: value for key, value in self.raw.items() if value not in (None, "")}
