"""Decisions: approvals and rejections, refused attempts, requests and go/no-go meetings."""

from __future__ import annotations

from audit.models import AuditEvent
from compliance.record import RecordContext, Section, Table
from compliance.record_sections.common import (
    actor_names,
    events_fallback,
    optional_model,
    person_name,
)

# --- Approvals ------------------------------------------------------------------------------


def approvals_section(release, ctx: RecordContext) -> Section:
    Approval = optional_model("approvals", "Approval")
    if Approval is None:
        return events_fallback(release, "approvals", "Approvals and rejections", "approval.")
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
                "person": person_name(approval.person),
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
    section.tables.append(_denied_attempts(release))
    section.facts.append(("Refused attempts", len(section.tables[-1].rows)))
    Request = optional_model("approvals", "ApprovalRequest")
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
                        "by": person_name(r.requested_by, r.requested_by_label),
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


def _denied_attempts(release) -> Table:
    """Refused approvals, sign-offs and votes (``approval.denied`` events): who tried, and why not."""
    events = list(
        AuditEvent.objects.filter(release_id=release.pk, action="approval.denied").order_by("seq")
    )
    names = actor_names(events)
    return Table(
        "Refused attempts (who tried to approve, sign off or vote and was not allowed)",
        [
            ("at", "When"),
            ("person", "Person"),
            ("attempt", "Attempt"),
            ("kind", "Kind"),
            ("environment", "Environment"),
            ("reason", "Why it was refused"),
        ],
        [
            {
                "at": e.created_at,
                "person": names.get(e.actor_id, e.actor_label)
                if e.actor_kind == "user"
                else e.actor_label,
                "attempt": (e.data or {}).get("attempt", ""),
                "kind": (e.data or {}).get("kind", ""),
                "environment": (e.data or {}).get("environment", ""),
                "reason": e.reason,
            }
            for e in events
        ],
        empty="Nobody was refused.",
    )


# --- Go/no-go -------------------------------------------------------------------------------


def go_no_go_section(release, ctx: RecordContext) -> Section:
    Meeting = optional_model("approvals", "GoNoGoMeeting")
    if Meeting is None:
        return events_fallback(release, "go_no_go", "Go/no-go meetings", "meeting.")
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
                    {"field": "Decided by", "value": person_name(meeting.decided_by)},
                    {"field": "Decided at", "value": meeting.decided_at},
                    {"field": "Holds for version", "value": meeting.decided_version},
                    {
                        "field": "Attendees",
                        "value": ", ".join(
                            f"{person_name(a.person)} ({a.get_seat_display()})"
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
                        "person": person_name(v.person),
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
