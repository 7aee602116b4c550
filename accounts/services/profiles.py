"""A person's own settings (today: their time zone), written with an audit event.

The pieces every page reads (the session key, the zone list, the stored zone) stay in
``core.profiles``, below the audit trail; this write sits above it.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from audit.services import audit_record
from core.exceptions import ValidationFailed
from core.models import Profile
from core.profiles import valid_time_zone


@transaction.atomic
def profile_time_zone_set(*, user: Any, time_zone: str, actor: Any) -> Profile:
    """Set the zone ``user`` reads and enters times in ("" = follow the browser).

    Only the person themselves calls it (the account page). Audit: ``profile.time_zone_changed``.
    """
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
