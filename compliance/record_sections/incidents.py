"""The release record's incident reports: incidents, post-mortems, QA on production, closing.

Reads the incidents app's models (``incidents`` is below compliance). Seven queries
whatever the number of incidents, items and tickets.
"""

from __future__ import annotations

from compliance.record import RecordContext, Section, Table
from compliance.record_sections.common import person_name


def incident_reports_section(release, ctx: RecordContext) -> Section:
    from incidents.models import (
        ActionItem,
        EscapedDefect,
        Incident,
        PostMortem,
        ReleaseClosure,
        TicketConfirmation,
    )

    section = Section("incident_reports", "Incident reports and closing")
    incidents = list(
        Incident.objects.filter(cause_release=release)
        .select_related("details__commander", "details__hotfix_release")
        .order_by("started_at", "id")
    )
    section.tables.append(
        Table(
            "Incidents suspected to come from this release",
            [
                ("id", "#"),
                ("title", "Incident"),
                ("severity", "Severity"),
                ("state", "State"),
                ("started_at", "Started"),
                ("resolved_at", "Resolved"),
                ("commander", "Commander"),
                ("mitigation", "Mitigation"),
                ("hotfix", "Hotfix"),
            ],
            [
                {
                    "id": i.pk,
                    "title": i.title,
                    "severity": f"SEV{i.severity}",
                    "state": i.get_state_display(),
                    "started_at": i.started_at,
                    "resolved_at": i.resolved_at,
                    "commander": person_name(getattr(i.details, "commander", None), "")
                    if hasattr(i, "details")
                    else "",
                    "mitigation": (
                        f"{i.details.get_mitigation_display()}: {i.details.mitigation_reason}"
                        if hasattr(i, "details") and i.details.mitigation
                        else ""
                    ),
                    "hotfix": i.details.hotfix_release.version
                    if hasattr(i, "details") and i.details.hotfix_release
                    else "",
                }
                for i in incidents
            ],
            empty="No incident was traced to this release.",
        )
    )
    postmortems = list(PostMortem.objects.filter(release=release).order_by("created_at", "id"))
    section.tables.append(
        Table(
            "Post-mortems and retrospectives",
            [
                ("title", "Post-mortem"),
                ("kind", "Kind"),
                ("state", "State"),
                ("due_on", "Due"),
                ("summary", "Summary"),
                ("root_causes", "Root causes"),
            ],
            [
                {
                    "title": p.title,
                    "kind": p.get_kind_display(),
                    "state": p.get_state_display(),
                    "due_on": p.due_on,
                    "summary": p.summary,
                    "root_causes": p.root_causes,
                }
                for p in postmortems
            ],
            empty="No post-mortem concerns this release.",
        )
    )
    items = list(
        ActionItem.objects.filter(postmortem__release=release)
        .select_related("owner")
        .order_by("due_on", "id")
    )
    if items:
        section.tables.append(
            Table(
                "Action items",
                [
                    ("title", "Action"),
                    ("owner", "Owner"),
                    ("due_on", "Due"),
                    ("ticket", "Ticket"),
                    ("done_at", "Done"),
                ],
                [
                    {
                        "title": a.title,
                        "owner": person_name(a.owner, ""),
                        "due_on": a.due_on,
                        "ticket": a.ticket_key,
                        "done_at": a.done_at,
                    }
                    for a in items
                ],
            )
        )
    checks = {
        c.ticket_id: c
        for c in TicketConfirmation.objects.filter(release=release).select_related("checked_by")
    }
    section.tables.append(
        Table(
            "QA on production",
            [
                ("key", "Ticket"),
                ("result", "Result"),
                ("by", "Checked by"),
                ("at", "When"),
                ("note", "Note"),
            ],
            [
                {
                    "key": t.key,
                    "result": checks[t.pk].get_result_display()
                    if t.pk in checks
                    else "Not checked",
                    "by": person_name(checks[t.pk].checked_by, "") if t.pk in checks else "",
                    "at": checks[t.pk].checked_at if t.pk in checks else None,
                    "note": checks[t.pk].note if t.pk in checks else "",
                }
                for t in release.tickets.all().order_by("key")
            ],
            empty="The release has no tickets.",
        )
    )
    defects = list(EscapedDefect.objects.filter(release=release).order_by("found_at"))
    if defects:
        section.tables.append(
            Table(
                "Escaped defects",
                [
                    ("key", "Ticket"),
                    ("title", "Defect"),
                    ("severity", "Severity"),
                    ("found_at", "Found"),
                ],
                [
                    {
                        "key": d.key,
                        "title": d.title,
                        "severity": f"SEV{d.severity}",
                        "found_at": d.found_at,
                    }
                    for d in defects
                ],
            )
        )
    closure = ReleaseClosure.objects.filter(release=release).select_related("closed_by").first()
    if closure is not None:
        section.facts += [
            ("Closed", closure.closed_at),
            ("Closed by", person_name(closure.closed_by, "shipcheck")),
            ("Closing summary", closure.summary),
        ]
    else:
        section.facts.append(("Closed", "Not closed yet"))
    open_severe = [i for i in incidents if i.severity <= 2 and i.resolved_at is None]
    for i in open_severe:
        section.findings.append(f"Incident #{i.pk} (SEV{i.severity}: {i.title}) is still open.")
    return section
