"""The release's own stretch of the audit trail, with every hash, last in the record."""

from __future__ import annotations

from audit.models import AuditEvent, format_timestamp
from compliance.record import RecordContext, Section, Table
from compliance.record_sections.common import actor_names

AUDIT_COLUMNS = [
    ("seq", "#"),
    ("created_at", "When (UTC)"),
    ("actor_label", "Who"),
    ("action", "Action"),
    ("object", "Object"),
    ("from_state", "From"),
    ("to_state", "To"),
    ("reason", "Reason"),
    ("data", "Data"),
    ("prev_hash", "Previous hash"),
    ("hash", "Hash"),
]


def audit_section(release, ctx: RecordContext) -> Section:
    section = Section("audit", "Audit trail of this release")
    events = list(
        AuditEvent.objects.filter(release_id=release.pk, project_id=release.project_id).order_by(
            "seq"
        )
    )
    names = actor_names(events)

    def who(e) -> str:
        name = names.get(e.actor_id) if e.actor_kind == "user" else None
        return f"{name} ({e.actor_label})" if name and name != e.actor_label else e.actor_label

    rows = [
        {
            "seq": e.seq,
            "created_at": format_timestamp(e.created_at),
            "actor_label": who(e),
            "action": e.action,
            "object": f"{e.object_type}:{e.object_id}",
            "from_state": e.from_state,
            "to_state": e.to_state,
            "reason": e.reason,
            "data": e.data,
            "prev_hash": e.prev_hash,
            "hash": e.hash,
        }
        for e in events
    ]
    section.facts = [("Events", len(rows))]
    section.notes.append(
        "Each hash covers the event's fields and the hash before it in the whole trail; "
        "export the project's trail as JSON Lines to verify them offline."
    )
    section.tables.append(
        Table("Events", AUDIT_COLUMNS, rows, empty="No events.", mono=("prev_hash", "hash"))
    )
    return section
