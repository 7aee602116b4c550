"""What the incident services share: text checks, times, people of the project."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from core.exceptions import ValidationFailed
from projects.models import Membership, Project

# Clocks of alerting tools drift; a start this far in the future is still accepted.
CLOCK_SKEW = timedelta(minutes=5)


def person(actor: Any) -> User | None:
    return actor if isinstance(actor, User) and actor.pk else None


def actor_label(actor: Any) -> str:
    return "shipcheck" if actor is None else str(actor.get_username())


def check_text(value: str | None, field: str, max_length: int | None = None) -> str:
    value = value or ""
    if not isinstance(value, str):
        raise ValidationFailed(f"{field} must be text.")
    if "\x00" in value:
        raise ValidationFailed(f"{field} contains a NUL character, which is not allowed.")
    if max_length and len(value) > max_length:
        raise ValidationFailed(f"{field} is longer than {max_length} characters.")
    return value


def check_time(value: datetime, field: str, *, now: datetime | None = None) -> datetime:
    if not isinstance(value, datetime):
        raise ValidationFailed(f"{field} must be a date and time.")
    if timezone.is_naive(value):
        raise ValidationFailed(f"{field} needs a time zone (for example 2026-05-04T10:00:00Z).")
    if value > (now or timezone.now()) + CLOCK_SKEW:
        raise ValidationFailed(f"{field} is in the future.")
    return value


def check_members(project: Project, people: Iterable[Any], what: str) -> list[User]:
    """``people`` as users, refused unless each is a member of ``project``."""
    users = [p for p in people if p is not None]
    if not users:
        return []
    ids = {u.pk for u in users}
    members = set(
        Membership.objects.filter(project=project, user_id__in=ids).values_list(
            "user_id", flat=True
        )
    )
    outsiders = [u for u in users if u.pk not in members]
    if outsiders:
        names = ", ".join(sorted(str(u.get_username()) for u in outsiders))
        raise ValidationFailed(
            f"{what} must be members of {project.name}; not a member: {names}.",
            details={"not_members": sorted(str(u.get_username()) for u in outsiders)},
        )
    return users
