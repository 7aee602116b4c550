"""Incident states and post-mortem states, with the transitions allowed between them.

Incident (Statuspage's states):

    investigating ──► identified ──► monitoring ──► resolved
          │    ▲           │  ▲          │
          │    └───────────┘  └──────────┘ (back when a fix did not hold)
          └──────────────► monitoring / resolved

Post-mortem (PagerDuty's process): draft ──► in review ──► reviewed ──► closed,
with "in review" able to go back to draft.
"""

from incidents.models import IncidentState, PostMortemState, Severity

__all__ = [
    "INCIDENT_TRANSITIONS",
    "POSTMORTEM_TRANSITIONS",
    "ROLLBACK_CRITERIA",
    "SEVERE",
    "IncidentState",
    "PostMortemState",
    "Severity",
]

I = IncidentState  # noqa: E741

INCIDENT_TRANSITIONS: dict[str, frozenset[str]] = {
    I.INVESTIGATING: frozenset({I.IDENTIFIED, I.MONITORING, I.RESOLVED}),
    I.IDENTIFIED: frozenset({I.INVESTIGATING, I.MONITORING, I.RESOLVED}),
    I.MONITORING: frozenset({I.INVESTIGATING, I.IDENTIFIED, I.RESOLVED}),
    I.RESOLVED: frozenset(),
}

P = PostMortemState
POSTMORTEM_TRANSITIONS: dict[str, frozenset[str]] = {
    P.DRAFT: frozenset({P.IN_REVIEW}),
    P.IN_REVIEW: frozenset({P.DRAFT, P.REVIEWED}),
    P.REVIEWED: frozenset({P.CLOSED, P.IN_REVIEW}),
    P.CLOSED: frozenset(),
}

# Severities that require a post-mortem, block closing their release while open, and
# ask for a status update every interval.
SEVERE = frozenset({Severity.SEV1, Severity.SEV2})

# The seed's rollback decision criteria (003), offered as a checklist: code, label.
ROLLBACK_CRITERIA: tuple[tuple[str, str], ...] = (
    ("critical_broken", "Critical functionality is broken"),
    ("security", "A security vulnerability was introduced"),
    ("data_corruption", "Data is being corrupted or lost"),
    ("thresholds", "Error rate or performance is beyond the agreed thresholds"),
)

# The status update template from the seed (003); each project may edit its own copy.
DEFAULT_STATUS_TEMPLATE = """INCIDENT: {title}
STATUS: {status}
SEVERITY: {severity}
IMPACT: {impact}
STARTED: {started}
LAST UPDATE: {last_update}

Actions taken:
{actions_taken}

Next steps:
{next_steps}
"""

# The placeholders a template may use (anything else is refused when it is saved).
TEMPLATE_FIELDS = (
    "title",
    "status",
    "severity",
    "impact",
    "started",
    "last_update",
    "actions_taken",
    "next_steps",
    "commander",
    "url",
)
