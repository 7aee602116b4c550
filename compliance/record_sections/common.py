"""What the section builders share: optional models, names of people, the trail fallback.

Feature apps' models are looked up by name (``optional_model``), so a section still
renders, told from the app's audit events, while an app is not installed.
"""

from __future__ import annotations

from django.apps import apps
from django.contrib.auth import get_user_model

from audit.models import AuditEvent
from compliance.record import Section, Table


def optional_model(app_label: str, name: str):
    try:
        return apps.get_model(app_label, name)
    except LookupError:
        return None


def app_missing(key: str, title: str, app: str) -> Section:
    return Section(
        key, title, notes=[f"Not recorded by this installation (the {app} app is not available)."]
    )


def person_name(user, label: str = "") -> str:
    """A person as the record names them: their name, else their username."""
    if user is not None:
        return user.get_full_name().strip() or user.get_username()
    return label or ""


def actor_names(events) -> dict:
    """{actor_id: name} for the people among ``events``' actors, in one query."""
    ids = {e.actor_id for e in events if e.actor_kind == "user" and e.actor_id}
    return {u.pk: person_name(u) for u in get_user_model().objects.filter(pk__in=ids)}


def events_fallback(release, key: str, title: str, prefix: str) -> Section:
    """A section told from the audit trail alone, for an app whose models are not available."""
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
