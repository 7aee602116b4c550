"""Secret, revocable calendar feed URLs (only a hash of each is kept)."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from core.exceptions import NotFound, PermissionDenied
from deploycalendar.models import (
    FeedToken,
)


def feed_token_hash(plain: str) -> str:
    return hashlib.sha256(plain.encode()).hexdigest()


@transaction.atomic
def feed_token_create(*, actor: Any) -> str:
    """A new secret feed URL token for ``actor``; earlier ones are revoked. Returns it once.

    People only. Audit: ``calendar.feed_token_created`` (never the token itself).
    """
    from projects.permissions import is_person

    if not is_person(actor):
        raise PermissionDenied("Only a person signed in may have a calendar feed.")
    now = timezone.now()
    FeedToken.objects.filter(user=actor, revoked_at__isnull=True).update(revoked_at=now)
    plain = "cal_" + secrets.token_urlsafe(32)
    token = FeedToken.objects.create(user=actor, token_hash=feed_token_hash(plain))
    audit_record(actor=actor, action="calendar.feed_token_created", obj=token)
    return plain


@transaction.atomic
def feed_token_revoke(*, actor: Any) -> int:
    """Revoke every feed URL of ``actor``. Audit: ``calendar.feed_token_revoked``."""
    count = FeedToken.objects.filter(user=actor, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if count:
        audit_record(
            actor=actor,
            action="calendar.feed_token_revoked",
            object_type="deploycalendar.feedtoken",
            object_id=actor.pk,
            object_repr=f"Calendar feeds of {actor}",
        )
    return count


def feed_user(*, plain: str) -> Any:
    """The person a feed token belongs to, or NotFound (a revoked or unknown URL)."""
    token = (
        FeedToken.objects.filter(token_hash=feed_token_hash(plain or ""), revoked_at__isnull=True)
        .select_related("user")
        .first()
    )
    if token is None or not token.user.is_active:
        raise NotFound("No such calendar feed.")
    return token.user
