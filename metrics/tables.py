"""The database table of every model the metrics' raw SQL reads or writes, by a short alias."""

from __future__ import annotations

from audit.models import AuditEvent
from incidents.models import EscapedDefect, Incident, IncidentDetails
from metrics.models import FirstDeployment, MetricsSettings
from projects.models import Environment
from releases.models import Commit, Deployment, Release


def tables() -> dict[str, str]:
    return {
        "dep": Deployment._meta.db_table,
        "rel": Release._meta.db_table,
        "com": Commit._meta.db_table,
        "env": Environment._meta.db_table,
        "inc": Incident._meta.db_table,
        "incd": IncidentDetails._meta.db_table,
        "esc": EscapedDefect._meta.db_table,
        "aud": AuditEvent._meta.db_table,
        "ms": MetricsSettings._meta.db_table,
        "fd": FirstDeployment._meta.db_table,
    }
