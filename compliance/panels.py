"""The audit section of the release page: the record links and the latest events."""

from __future__ import annotations

from audit.models import AuditEvent

PANEL_EVENTS = 8


def audit_panel_context(release, request) -> dict:
    events = list(
        AuditEvent.objects.filter(release_id=release.pk, project_id=release.project_id).order_by(
            "-seq"
        )[:PANEL_EVENTS]
    )
    return {"audit_events": events}
