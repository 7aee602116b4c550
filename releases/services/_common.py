"""What the release services share: who the actor is, text checks, the release lock and its transition."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User

from audit.services import audit_record
from core.exceptions import ValidationFailed
from core.transitions import transition_check
from projects.principals import Actor
from releases.choices import RELEASE_TRANSITIONS, ReleaseStatus
from releases.models import Release
from releases.registry import emit


def person(actor: Actor) -> User | None:
    """The person behind ``actor``: None for a token, an anonymous caller or Shipcheck itself."""
    return actor if isinstance(actor, User) and actor.pk else None


def actor_label(actor: Actor) -> str:
    if actor is None:
        return "shipcheck"
    return actor.get_username()


def check_text(value: str, field: str, max_length: int | None = None) -> str:
    value = value or ""
    if "\x00" in value:
        raise ValidationFailed(f"{field} contains a NUL character, which is not allowed.")
    if max_length and len(value) > max_length:
        raise ValidationFailed(f"{field} is longer than {max_length} characters.")
    return value


def lock_release(release: Release) -> Release:
    return Release.objects.select_for_update().get(pk=release.pk)


def transition_release(
    *,
    release: Release,
    to_status: str,
    actor: Actor,
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> None:
    """Move a locked release to ``to_status`` along the transition map, with its audit event."""
    from_status = release.status
    if from_status == to_status:
        return
    transition_check(
        transitions=RELEASE_TRANSITIONS,
        choices=ReleaseStatus,
        noun="release",
        from_state=from_status,
        to_state=to_status,
    )
    release.status = to_status
    release.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        action="release.status_changed",
        obj=release,
        project=release.project_id,
        release=release,
        from_state=from_status,
        to_state=to_status,
        reason=reason,
        data=data,
    )
    emit(
        "release_status_changed",
        release=release,
        actor=actor,
        from_status=from_status,
        to_status=to_status,
    )
