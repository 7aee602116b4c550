"""A person's own settings (today: their time zone)."""

from __future__ import annotations

import zoneinfo
from functools import lru_cache

from django.db import transaction

from core.exceptions import ValidationFailed
from core.models import Profile

# The session remembers the chosen zone so a page costs no query to find it.
SESSION_KEY = "shipcheck_time_zone"
# The browser's own zone, written by static/js/app.js, used until a person chooses one.
COOKIE_NAME = "shipcheck_tz"


@lru_cache(maxsize=1)
def time_zone_names() -> list[str]:
    return sorted(
        name
        for name in zoneinfo.available_timezones()
        if "/" in name and not name.startswith(("Etc/", "SystemV/", "posix/", "right/"))
    ) + ["UTC"]


def valid_time_zone(name: str | None) -> str:
    """``name`` if it is a time zone this server knows, else ""."""
    name = (name or "").strip()[:64]
    return name if name and name in set(time_zone_names()) else ""


def profile_time_zone(*, user) -> str:
    return Profile.objects.filter(user=user).values_list("time_zone", flat=True).first() or ""


@transaction.atomic
def profile_time_zone_set(*, user, time_zone: str, actor) -> Profile:
    """Set the zone ``user`` reads and enters times in ("" = follow the browser).

    Only the person themselves calls it (the account page). Audit: ``profile.time_zone_changed``.
    """
    # core sits below audit; the audit trail is reached lazily, inside the transaction.
    from audit.services import audit_record

    wanted = (time_zone or "").strip()
    if wanted and not valid_time_zone(wanted):
        raise ValidationFailed(
            f"“{wanted[:64]}” is not a time zone. Pick one from the list, such as Europe/Berlin."
        )
    profile, _ = Profile.objects.select_for_update().get_or_create(user=user)
    before = profile.time_zone
    if before != wanted:
        profile.time_zone = wanted
        profile.save(update_fields=["time_zone", "updated_at"])
        audit_record(
            actor=actor,
            action="profile.time_zone_changed",
            obj=profile,
            from_state=before or "browser",
            to_state=wanted or "browser",
            reason="Chosen on the account page.",
        )
    return profile


def remember_time_zone(sender, request, user, **kwargs) -> None:
    """At sign-in: keep the person's chosen zone in the session (core.middleware reads it)."""
    session = getattr(request, "session", None)
    if session is not None:
        session[SESSION_KEY] = profile_time_zone(user=user)
