"""The release record's feature-flag rollouts: every plan and every step with its verdict."""

from __future__ import annotations

from django.db.models import Prefetch

from compliance.record import RecordContext, Section, Table
from compliance.record_sections.common import events_fallback, optional_model


def flag_rollouts_section(release, ctx: RecordContext) -> Section:
    Plan = optional_model("flags", "RolloutPlan")
    Step = optional_model("flags", "RolloutStep")
    if Plan is None or Step is None:
        return events_fallback(release, "flags", "Feature-flag rollouts", "flags.")
    section = Section("flags", "Feature-flag rollouts")
    plans = list(
        Plan.objects.filter(release=release)
        .select_related("environment")
        .prefetch_related(Prefetch("steps", queryset=Step.objects.order_by("position")))
        .order_by("created_at", "id")
    )
    section.tables.append(
        Table(
            "Plans",
            [
                ("flag", "Flag"),
                ("environment", "Environment"),
                ("source", "Lives in"),
                ("status", "Status"),
                ("percent", "Now %"),
                ("reason", "Why"),
            ],
            [
                {
                    "flag": p.flag_key,
                    "environment": p.environment.name,
                    "source": p.get_source_display(),
                    "status": p.get_status_display(),
                    "percent": p.current_percent,
                    "reason": p.reason,
                }
                for p in plans
            ],
            empty="No flag of this release was rolled out by a plan.",
        )
    )
    section.tables.append(
        Table(
            "Steps",
            [
                ("flag", "Flag"),
                ("step", "Step"),
                ("percent", "%"),
                ("hold", "Hold (s)"),
                ("status", "Verdict"),
                ("reason", "Reason"),
                ("started_at", "Started"),
                ("finished_at", "Finished"),
            ],
            [
                {
                    "flag": p.flag_key,
                    "step": s.position + 1,
                    "percent": s.percent,
                    "hold": s.hold.total_seconds(),
                    "status": s.get_status_display(),
                    "reason": s.reason,
                    "started_at": s.started_at,
                    "finished_at": s.finished_at,
                }
                for p in plans
                for s in p.steps.all()
            ],
            empty="No steps.",
        )
    )
    return section
