"""A person's own settings (today: their time zone): the pieces every page reads.

Changing the zone writes an audit event, so that service lives above the trail, in
``accounts.services.profiles.profile_time_zone_set``; the account page is ``accounts.views.account``.
"""

from __future__ import annotations

import zoneinfo
from functools import lru_cache
from typing import Any

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


def profile_time_zone(*, user: Any) -> str:
    """The zone ``user`` chose on the account page ("" = follow the browser)."""
    zone: str | None = Profile.objects.filter(user=user).values_list("time_zone", flat=True).first()
    return zone or ""


def remember_time_zone(sender, request, user, **kwargs) -> None:
    """At sign-in: keep the person's chosen zone in the session (core.middleware reads it)."""
    session = getattr(request, "session", None)
    if session is not None:
        session[SESSION_KEY] = profile_time_zone(user=user)
