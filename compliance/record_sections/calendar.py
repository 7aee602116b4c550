"""The release calendar section: overrides of windows and freezes, freeze violations, the queue."""

from __future__ import annotations

from compliance.record import RecordContext, Section, Table
from compliance.record_sections.common import app_missing, optional_model, person_name


def calendar_section(release, ctx: RecordContext) -> Section:
    Override = optional_model("deploycalendar", "Override")
    Violation = optional_model("deploycalendar", "FreezeViolation")
    Queued = optional_model("deploycalendar", "QueuedPromotion")
    if Override is None or Violation is None or Queued is None:
        return app_missing("calendar", "Deploy windows and freezes", "deploycalendar")
    section = Section("calendar", "Deploy windows and freezes")
    overrides = list(
        Override.objects.filter(release=release).select_related("environment", "granted_by")
    )
    violations = list(Violation.objects.filter(release=release).select_related("environment"))
    queued = list(
        Queued.objects.filter(release=release).select_related("environment", "requested_by")
    )
    section.facts = [
        ("Overrides", str(len(overrides))),
        ("Freeze violations", str(len(violations))),
    ]
    section.tables.append(
        Table(
            "Overrides",
            [
                ("environment", "Environment"),
                ("by", "Granted by"),
                ("at", "When"),
                ("reason", "Reason"),
            ],
            [
                {
                    "environment": o.environment.name,
                    "by": person_name(o.granted_by),
                    "at": o.created_at,
                    "reason": o.reason,
                }
                for o in overrides
            ],
            empty="No window or freeze was overridden for this release.",
        )
    )
    section.tables.append(
        Table(
            "Freeze violations",
            [
                ("environment", "Environment"),
                ("freeze", "Freeze"),
                ("by", "Reported by"),
                ("at", "When"),
            ],
            [
                {
                    "environment": v.environment.name,
                    "freeze": v.freeze_name,
                    "by": v.reported_by,
                    "at": v.reported_at,
                }
                for v in violations
            ],
            empty="No deployment was reported during a freeze.",
        )
    )
    section.tables.append(
        Table(
            "Queued promotions",
            [
                ("environment", "Environment"),
                ("by", "Queued by"),
                ("not_before", "Starts"),
                ("status", "Status"),
            ],
            [
                {
                    "environment": q.environment.name,
                    "by": person_name(q.requested_by),
                    "not_before": q.not_before,
                    "status": q.get_status_display(),
                }
                for q in queued
            ],
            empty="No promotion of this release was queued.",
        )
    )
    return section
