"""The release record's built-in sections, one module per concern.

Each builder reads the models of its app (feature apps' models looked up by
name, see ``common.optional_model``) and answers a note, or the app's audit events,
instead of a table when its app is missing, so the record never depends on
every app being installed. Queries per section are constant (joins and
prefetches, never one query per row).
"""

from __future__ import annotations

from compliance.record import _sections, record_section
from compliance.record_sections.approvals import approvals_section, go_no_go_section
from compliance.record_sections.checklist import checklist_section
from compliance.record_sections.notes import release_notes_section
from compliance.record_sections.operations import (
    deployments_section,
    incidents_section,
    monitoring_section,
)
from compliance.record_sections.release import scope_section, summary_section, tests_section
from compliance.record_sections.trail import AUDIT_COLUMNS, audit_section

__all__ = [
    "AUDIT_COLUMNS",
    "approvals_section",
    "audit_section",
    "checklist_section",
    "deployments_section",
    "go_no_go_section",
    "incidents_section",
    "monitoring_section",
    "release_notes_section",
    "register_builtin_sections",
    "scope_section",
    "summary_section",
    "tests_section",
]


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
        ("release_notes", "Release notes", release_notes_section, 95),
        ("audit", "Audit trail of this release", audit_section, 1000),
    ):
        if key not in _sections:  # an app that registered first keeps its own
            record_section(key, title, builder, order=order)
