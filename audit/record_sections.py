"""The release record's built-in sections.

Each builder imports the models it reads inside the function and answers a
note instead of a table when its app is missing, so the record never depends
on every app being installed. Queries per section are constant (joins and
prefetches, never one query per row).
"""

from __future__ import annotations

from django.apps import apps
from django.db.models import Prefetch

from audit.record import RecordContext, Section, Table, record_section


def _model(app_label: str, name: str):
    try:
        return apps.get_model(app_label, name)
    except LookupError:
        return None


def _missing(key: str, title: str, app: str) -> Section:
    return Section(
        key, title, notes=[f"Not recorded by this installation (the {app} app is not available)."]
    )


def _who(user, label: str = "") -> str:
    if user is not None:
        return user.get_username()
    return label or ""


# --- Summary and separation of duties -----------------------------------------------


def summary_section(release, ctx: RecordContext) -> Section:
    from audit.history import deployment_findings, production_deployments_for

    section = Section("summary", "Release")
    section.facts = [
        ("Project", release.project.name),
        ("Version", release.version),
        ("Title", release.title),
        ("Type", release.get_type_display()),
        ("Status", release.get_status_display()),
        ("Emergency release", release.is_emergency),
        ("Release manager", _who(release.release_manager)),
        ("Created by", _who(release.created_by)),
        ("Created through API token", release.created_by_token_name),
        ("Created at", release.created_at),
        ("Artifact", release.artifact_version),
        ("Commit", release.commit_sha),
        ("Target date", release.target_date),
        ("Rollback plan", release.rollback_plan),
        ("Release notes", release.notes),
    ]
    for row in production_deployments_for(release):
        for finding in deployment_findings(row):
            section.findings.append(f"Production deployment #{row['deployment_id']}: {finding}")
    return section


# --- Scope ------------------------------------------------------------------------------


def scope_section(release, ctx: RecordContext) -> Section:
    section = Section("scope", "Scope: tickets and commits")
    section.tables.append(
        Table(
            "Tickets",
            [
                ("key", "Ticket"),
                ("title", "Title"),
                ("status", "Status"),
                ("url", "Link"),
                ("created_at", "Added"),
            ],
            [
                {
                    "key": t.key,
                    "title": t.title,
                    "status": t.status,
                    "url": t.url,
                    "created_at": t.created_at,
                }
                for t in release.tickets.order_by("key")
            ],
            empty="No tickets are linked to this release.",
        )
    )
    section.tables.append(
        Table(
            "Commits",
            [
                ("sha", "Commit"),
                ("author", "Author"),
                ("committed_at", "Committed"),
                ("message", "Message"),
            ],
            [
                {
                    "sha": c.sha,
                    "author": c.author,
                    "committed_at": c.committed_at,
                    "message": c.message.split("\n")[0],
                }
                for c in release.commits.order_by("committed_at", "id")
            ],
            empty="No commits are attached to this release.",
            mono=("sha",),
        )
    )
    return section


# --- Checklist ------------------------------------------------------------------------------


def checklist_section(release, ctx: RecordContext) -> Section:
    Checklist = _model("checklists", "Checklist")
    Item = _model("checklists", "Item")
    if Checklist is None or Item is None:
        return _missing("checklist", "Checklist", "checklists")
    section = Section("checklist", "Checklist")
    checklist = Checklist.objects.filter(release=release).first()
    if checklist is None:
        section.notes.append("This release has no checklist.")
        return section
    items = list(
        Item.objects.filter(checklist=checklist)
        .select_related("step", "completed_by")
        .order_by("step__position", "step_id", "position", "id")
    )
    done = sum(1 for item in items if item.status != "open")
    section.facts = [
        ("Template", f"{checklist.template_name} v{checklist.version_number}"),
        ("Items resolved", f"{done} of {len(items)}"),
    ]
    section.tables.append(
        Table(
            "Items",
            [
                ("step", "Step"),
                ("item", "Item"),
                ("role", "Owner role"),
                ("required", "Required"),
                ("status", "Status"),
                ("by", "Ticked by"),
                ("at", "When"),
                ("evidence", "Evidence"),
                ("note", "Note"),
            ],
            [
                {
                    "step": item.step.title,
                    "item": item.text,
                    "role": item.get_role_display()
                    if hasattr(item, "get_role_display")
                    else item.role,
                    "required": item.required,
                    "status": item.get_status_display(),
                    "by": _who(item.completed_by),
                    "at": item.completed_at,
                    "evidence": item.evidence,
                    "note": item.na_reason or item.note,
                }
                for item in items
            ],
            empty="The checklist has no items.",
        )
    )
    outputs = [
        s
        for s in checklist.steps.select_related("actual_output_by").order_by("position", "id")
        if s.actual_output
    ]
    if outputs:
        section.tables.append(
            Table(
                "Recorded step outputs",
                [("step", "Step"), ("output", "Output"), ("by", "By"), ("at", "When")],
                [
                    {
                        "step": s.title,
                        "output": s.actual_output,
                        "by": _who(s.actual_output_by),
                        "at": s.actual_output_at,
                    }
                    for s in outputs
                ],
            )
        )
    return section


# --- Approvals ------------------------------------------------------------------------------


def approvals_section(release, ctx: RecordContext) -> Section:
    Approval = _model("approvals", "Approval")
    if Approval is None:
        return _events_fallback(release, "approvals", "Approvals and rejections", "approval.")
    section = Section("approvals", "Approvals and rejections")
    rows = []
    for approval in (
        Approval.objects.filter(release=release)
        .select_related("person", "environment")
        .order_by("created_at", "id")
    ):
        rows.append(
            {
                "at": approval.created_at,
                "kind": approval.get_kind_display(),
                "environment": str(approval.environment)
                if approval.environment_id
                else "whole release",
                "person": _who(approval.person),
                "role": approval.role,
                "decision": approval.get_decision_display(),
                "comment": approval.comment,
                "state": approval.get_state_display()
                + (" ✗" if approval.state == "invalidated" else ""),
                "state_reason": approval.state_reason,
                "state_changed_at": approval.state_changed_at,
                "given_for": approval.release_version
                + (f" / {approval.artifact_version}" if approval.artifact_version else ""),
            }
        )
    invalidated = sum(1 for r in rows if r["state"].startswith("Invalidated"))
    section.facts = [("Decisions", len(rows)), ("Invalidated", invalidated)]
    section.tables.append(
        Table(
            "Every decision (invalidated ones stay, marked)",
            [
                ("at", "When"),
                ("kind", "Kind"),
                ("environment", "Environment"),
                ("person", "Person"),
                ("role", "Role"),
                ("decision", "Decision"),
                ("comment", "Comment"),
                ("state", "State"),
                ("state_reason", "Why"),
                ("state_changed_at", "State changed"),
                ("given_for", "Given for"),
            ],
            rows,
            empty="No approvals or rejections were recorded.",
        )
    )
    Request = _model("approvals", "ApprovalRequest")
    if Request is not None:
        section.tables.append(
            Table(
                "Requests",
                [
                    ("at", "When"),
                    ("kind", "Kind"),
                    ("environment", "Environment"),
                    ("by", "Asked by"),
                    ("note", "Note"),
                ],
                [
                    {
                        "at": r.created_at,
                        "kind": r.get_kind_display(),
                        "environment": str(r.environment or ""),
                        "by": _who(r.requested_by, r.requested_by_label),
                        "note": r.note,
                    }
                    for r in Request.objects.filter(release=release)
                    .select_related("requested_by", "environment")
                    .order_by("created_at", "id")
                ],
                empty="Nobody asked for approvals through Shipcheck.",
            )
        )
    return section


# --- Go/no-go -------------------------------------------------------------------------------


def go_no_go_section(release, ctx: RecordContext) -> Section:
    Meeting = _model("approvals", "GoNoGoMeeting")
    if Meeting is None:
        return _events_fallback(release, "go_no_go", "Go/no-go meetings", "meeting.")
    section = Section("go_no_go", "Go/no-go meetings")
    meetings = list(
        Meeting.objects.filter(release=release)
        .select_related("environment", "decided_by")
        .prefetch_related("attendees__person", "agenda", "criteria", "votes__person")
        .order_by("scheduled_for", "id")
    )
    if not meetings:
        section.notes.append("No go/no-go meeting was held for this release.")
    for meeting in meetings:
        label = f"{meeting.environment} · {meeting.scheduled_for:%Y-%m-%d %H:%M}"
        section.tables.append(
            Table(
                f"Meeting {label}: {meeting.get_status_display()}"
                + (f", decided {meeting.get_decision_display()}" if meeting.decision else ""),
                [("field", "Field"), ("value", "Value")],
                [
                    {
                        "field": "Decision",
                        "value": meeting.get_decision_display() if meeting.decision else "",
                    },
                    {"field": "Reason", "value": meeting.decision_reason},
                    {"field": "Decided by", "value": _who(meeting.decided_by)},
                    {"field": "Decided at", "value": meeting.decided_at},
                    {"field": "Holds for version", "value": meeting.decided_version},
                    {
                        "field": "Attendees",
                        "value": ", ".join(
                            f"{a.person.get_username()} ({a.get_seat_display()})"
                            for a in meeting.attendees.all()
                        ),
                    },
                ],
            )
        )
        section.tables.append(
            Table(
                f"Minutes ({label})",
                [("item", "Agenda item"), ("notes", "Notes"), ("at", "Updated")],
                [
                    {"item": f"{a.position}. {a.title}", "notes": a.notes, "at": a.updated_at}
                    for a in meeting.agenda.all()
                ],
                empty="No agenda was recorded.",
            )
        )
        section.tables.append(
            Table(
                f"Criteria and no-go triggers ({label})",
                [
                    ("kind", "Kind"),
                    ("title", "Criterion"),
                    ("checked", "Met / raised"),
                    ("note", "Note"),
                ],
                [
                    {
                        "kind": c.get_kind_display(),
                        "title": c.title,
                        "checked": c.checked,
                        "note": c.note,
                    }
                    for c in meeting.criteria.all()
                ],
                empty="No criteria were recorded.",
            )
        )
        section.tables.append(
            Table(
                f"Votes ({label})",
                [("person", "Person"), ("vote", "Vote"), ("comment", "Comment"), ("at", "When")],
                [
                    {
                        "person": _who(v.person),
                        "vote": v.get_vote_display(),
                        "comment": v.comment,
                        "at": v.updated_at,
                    }
                    for v in meeting.votes.all()
                ],
                empty="Nobody voted.",
            )
        )
    return section


# --- Deployments, monitoring, rollbacks ------------------------------------------------------


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
                    "by": _who(d.deployed_by, d.deployed_by_label),
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
    Window = _model("monitoring", "MonitoringWindow")
    WindowCheck = _model("monitoring", "WindowCheck")
    if Window is None or WindowCheck is None:
        return _events_fallback(release, "monitoring", "Monitoring verdicts", "monitoring.")
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
                    "by": _who(d.actor),
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
    from audit.models import AuditEvent
    from releases.choices import DeploymentStatus

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
    HookCall = _model("monitoring", "HookCall")
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
    Incident = _model("monitoring", "Incident") or _model("releases", "Incident")
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


# --- Tests ----------------------------------------------------------------------------------


def tests_section(release, ctx: RecordContext) -> Section:
    section = Section("tests", "Test results")
    runs = list(release.test_runs.select_related("environment").order_by("created_at", "id"))
    section.tables.append(
        Table(
            "Test runs",
            [
                ("at", "Recorded"),
                ("name", "Suite"),
                ("environment", "Environment"),
                ("total", "Total"),
                ("passed", "Passed"),
                ("failures", "Failures"),
                ("errors", "Errors"),
                ("skipped", "Skipped"),
                ("coverage", "Coverage %"),
                ("by", "Reported by"),
                ("failing", "Failing tests"),
            ],
            [
                {
                    "at": r.created_at,
                    "name": r.name,
                    "environment": str(r.environment or ""),
                    "total": r.total,
                    "passed": r.passed,
                    "failures": r.failures,
                    "errors": r.errors,
                    "skipped": r.skipped,
                    "coverage": r.coverage_percent,
                    "by": r.recorded_by_label,
                    "failing": ", ".join(str(t) for t in (r.failing_tests or [])[:20]),
                }
                for r in runs
            ],
            empty="No test results were recorded for this release.",
        )
    )
    if runs and any(not r.ok for r in runs):
        section.notes.append("Some runs have failures or errors; see the failing tests column.")
    return section


# --- Audit events -----------------------------------------------------------------------------


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
    from audit.models import AuditEvent, format_timestamp

    section = Section("audit", "Audit trail of this release")
    events = AuditEvent.objects.filter(
        release_id=release.pk, project_id=release.project_id
    ).order_by("seq")
    rows = [
        {
            "seq": e.seq,
            "created_at": format_timestamp(e.created_at),
            "actor_label": e.actor_label,
            "action": e.action,
            "object": f"{e.object_type}:{e.object_id}",
            "from_state": e.from_state,
            "to_state": e.to_state,
            "reason": e.reason,
            "data": e.data,
            "prev_hash": e.prev_hash,
            "hash": e.hash,
        }
        for e in events.iterator(chunk_size=2000)
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


def _events_fallback(release, key: str, title: str, prefix: str) -> Section:
    """A section told from the audit trail alone, for an app whose models are not available."""
    from audit.models import AuditEvent

    section = Section(
        key, title, notes=["Told from the audit trail (the app's own records are not available)."]
    )
    events = AuditEvent.objects.filter(release_id=release.pk, action__startswith=prefix).order_by(
        "seq"
    )
    section.tables.append(
        Table(
            "Events",
            [
                ("seq", "#"),
                ("at", "When"),
                ("actor", "Who"),
                ("action", "Action"),
                ("to", "Outcome"),
                ("reason", "Reason"),
                ("data", "Details"),
            ],
            [
                {
                    "seq": e.seq,
                    "at": e.created_at,
                    "actor": e.actor_label,
                    "action": e.action,
                    "to": e.to_state,
                    "reason": e.reason,
                    "data": e.data,
                }
                for e in events
            ],
            empty="Nothing recorded.",
        )
    )
    return section


def register_builtin_sections() -> None:
    for key, title, builder, order in (
        ("summary", "Release", summary_section, 10),
        ("scope", "Scope: tickets and commits", scope_section, 20),
        ("checklist", "Checklist", checklist_section, 30),
        ("approvals", "Approvals and rejections", approvals_section, 40),
        ("go_no_go", "Go/no-go meetings", go_no_go_section, 50),
        ("deployments", "Deployments", deployments_section, 60),
        ("monitoring", "Monitoring verdicts", monitoring_section, 70),
        ("incidents", "Incidents and rollbacks", incidents_section, 80),
        ("tests", "Test results", tests_section, 90),
        ("audit", "Audit trail of this release", audit_section, 1000),
    ):
        from audit.record import _sections

        if key not in _sections:  # an app that registered first keeps its own
            record_section(key, title, builder, order=order)
