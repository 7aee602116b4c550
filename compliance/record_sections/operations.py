"""What happened after the decisions: deployments, monitoring verdicts, incidents and rollbacks."""

from __future__ import annotations

from django.db.models import Prefetch

from audit.models import AuditEvent
from compliance.record import RecordContext, Section, Table
from compliance.record_sections.common import events_fallback, optional_model, person_name
from releases.choices import DeploymentStatus


def deployments_section(release, ctx: RecordContext) -> Section:
    section = Section("deployments", "Deployments")
    section.tables.append(
        Table(
            "Deployments",
            [
                ("id", "#"),
                ("environment", "Environment"),
                ("status", "Status"),
                ("strategy", "Strategy"),
                ("by", "Deployed by"),
                ("artifact", "Artifact"),
                ("commit", "Commit"),
                ("started_at", "Started"),
                ("finished_at", "Finished"),
                ("verified_at", "Verified"),
                ("notes", "Notes"),
            ],
            [
                {
                    "id": d.pk,
                    "environment": str(d.environment),
                    "status": d.get_status_display(),
                    "strategy": d.get_strategy_display(),
                    "by": person_name(d.deployed_by, d.deployed_by_label),
                    "artifact": d.artifact_version,
                    "commit": d.commit_sha,
                    "started_at": d.started_at,
                    "finished_at": d.finished_at,
                    "verified_at": d.verified_at,
                    "notes": d.notes,
                }
                for d in release.deployments.select_related("environment", "deployed_by").order_by(
                    "created_at", "id"
                )
            ],
            empty="This release was never deployed.",
        )
    )
    return section


def monitoring_section(release, ctx: RecordContext) -> Section:
    Window = optional_model("monitoring", "MonitoringWindow")
    WindowCheck = optional_model("monitoring", "WindowCheck")
    if Window is None or WindowCheck is None:
        return events_fallback(release, "monitoring", "Monitoring verdicts", "monitoring.")
    section = Section("monitoring", "Monitoring verdicts")
    windows = list(
        Window.objects.filter(deployment__release=release)
        .select_related("deployment__environment")
        .prefetch_related(
            Prefetch("checks", queryset=WindowCheck.objects.select_related("baseline")),
            "decisions__actor",
        )
        .order_by("started_at", "id")
    )
    section.tables.append(
        Table(
            "Windows",
            [
                ("deployment", "Deployment"),
                ("kind", "Window"),
                ("status", "Verdict"),
                ("reason", "Reason"),
                ("traffic", "Traffic %"),
                ("started_at", "Started"),
                ("ends_at", "Ends"),
                ("finished_at", "Finished"),
                ("missed", "Missed polls"),
            ],
            [
                {
                    "deployment": f"#{w.deployment_id} → {w.deployment.environment}",
                    "kind": w.get_kind_display(),
                    "status": w.get_status_display(),
                    "reason": w.reason,
                    "traffic": w.traffic_percent,
                    "started_at": w.started_at,
                    "ends_at": w.ends_at,
                    "finished_at": w.finished_at,
                    "missed": w.missed_slots,
                }
                for w in windows
            ],
            empty="No deployment of this release was watched.",
        )
    )
    check_rows, decision_rows = [], []
    for w in windows:
        for c in w.checks.all():
            check_rows.append(
                {
                    "window": f"#{w.deployment_id} {w.get_kind_display()}",
                    "check": c.name,
                    "kind": c.kind,
                    "critical": c.is_critical,
                    "verdict": c.get_status_display(),
                    "reason": c.reason,
                    "passes": c.passes,
                    "failures": c.failures,
                    "inconclusive": c.inconclusives,
                    "errors": c.errors,
                    "baseline": c.baseline.value if c.baseline_id and c.baseline else None,
                    "last": c.last_detail,
                }
            )
        for d in w.decisions.all():
            decision_rows.append(
                {
                    "window": f"#{w.deployment_id} {w.get_kind_display()}",
                    "action": d.get_action_display(),
                    "by": person_name(d.actor),
                    "reason": d.reason,
                    "change": f"{d.from_status} → {d.to_status}",
                    "at": d.created_at,
                }
            )
    section.tables.append(
        Table(
            "Checks and their numbers",
            [
                ("window", "Window"),
                ("check", "Check"),
                ("kind", "Kind"),
                ("critical", "Critical"),
                ("verdict", "Verdict"),
                ("reason", "Reason"),
                ("passes", "Pass"),
                ("failures", "Fail"),
                ("inconclusive", "Inconclusive"),
                ("errors", "Errors"),
                ("baseline", "Baseline"),
                ("last", "Last reading"),
            ],
            check_rows,
            empty="No checks ran.",
        )
    )
    if decision_rows:
        section.tables.append(
            Table(
                "Decisions by people",
                [
                    ("window", "Window"),
                    ("action", "Action"),
                    ("by", "By"),
                    ("reason", "Reason"),
                    ("change", "Status"),
                    ("at", "When"),
                ],
                decision_rows,
            )
        )
    return section


def incidents_section(release, ctx: RecordContext) -> Section:
    section = Section("incidents", "Incidents and rollbacks")
    rolled = [
        d
        for d in release.deployments.select_related("environment").order_by("created_at", "id")
        if d.status in (DeploymentStatus.ROLLED_BACK, DeploymentStatus.FAILED)
    ]
    section.tables.append(
        Table(
            "Failed or rolled-back deployments",
            [
                ("id", "#"),
                ("environment", "Environment"),
                ("status", "Status"),
                ("finished_at", "Finished"),
                ("notes", "Notes"),
            ],
            [
                {
                    "id": d.pk,
                    "environment": str(d.environment),
                    "status": d.get_status_display(),
                    "finished_at": d.finished_at,
                    "notes": d.notes,
                }
                for d in rolled
            ],
            empty="No deployment of this release failed or was rolled back.",
        )
    )
    HookCall = optional_model("monitoring", "HookCall")
    if HookCall is not None:
        calls = list(HookCall.objects.filter(deployment__release=release).order_by("created_at"))
        if calls:
            section.tables.append(
                Table(
                    "Rollback hook calls",
                    [
                        ("deployment", "Deployment"),
                        ("status", "Status"),
                        ("response", "HTTP"),
                        ("reason", "Reason"),
                        ("at", "When"),
                    ],
                    [
                        {
                            "deployment": c.deployment_id,
                            "status": c.get_status_display(),
                            "response": c.response_status,
                            "reason": c.reason,
                            "at": c.created_at,
                        }
                        for c in calls
                    ],
                )
            )
    Incident = optional_model("monitoring", "Incident") or optional_model("releases", "Incident")
    if Incident is not None:
        section.notes.append("Incidents are listed from the incident records below.")
        section.tables.append(
            Table(
                "Incidents",
                [("title", "Incident"), ("status", "Status"), ("at", "Opened")],
                [
                    {
                        "title": str(i),
                        "status": getattr(i, "status", ""),
                        "at": getattr(i, "created_at", None),
                    }
                    for i in Incident.objects.filter(release=release)
                ],
                empty="No incidents were recorded.",
            )
        )
    events = (
        AuditEvent.objects.filter(release_id=release.pk)
        .filter(action__regex=r"(rollback|rolled_back|incident)")
        .order_by("seq")
    )
    section.tables.append(
        Table(
            "Rollback and incident events",
            [
                ("seq", "#"),
                ("at", "When"),
                ("actor", "Who"),
                ("action", "Action"),
                ("change", "Change"),
                ("reason", "Reason"),
            ],
            [
                {
                    "seq": e.seq,
                    "at": e.created_at,
                    "actor": e.actor_label,
                    "action": e.action,
                    "change": f"{e.from_state} → {e.to_state}"
                    if e.from_state or e.to_state
                    else "",
                    "reason": e.reason,
                }
                for e in events
            ],
            empty="No rollback or incident was recorded in the audit trail.",
        )
    )
    return section
