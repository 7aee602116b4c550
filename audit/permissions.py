"""Who may read the audit trail. Nobody writes it except services, through audit_record."""

from __future__ import annotations

from projects.permissions import can_view_project


def can_read_audit(user, project) -> bool:
    """Every member of a project (the auditor above all) and read-scoped tokens of it may read its trail."""
    return can_view_project(user, project)
