"""Claim, complete and replay ``Idempotency-Key`` requests.

The rules, in the order they apply (docs/ci.md has the caller's view):

* The first request with a key *claims* it by inserting a row before it
  runs. The insert is the lock: the (scope, key) unique constraint lets one
  insert win, whatever the number of web processes.
* A retry with the same key and the same request waits for the first to
  finish (up to ``SHIPCHECK_IDEMPOTENCY_WAIT_SECONDS``) and replays its status
  and body; if the first is still running after that it gets 409
  ``idempotency_in_progress`` and should retry a moment later.
* The same key with a different request is refused with 422.
* Answers that say "try again" are not kept, so a retry runs afresh: server
  errors (5xx), 401, 403 and 429.
* A claim whose request never finished (its process died) is taken over
  after ``SHIPCHECK_IDEMPOTENCY_LOCK_SECONDS``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from integrations.models import IdempotencyKey, IdempotencyState

# The wait (5 s by default: callers retry after timeouts of a few seconds) and the lock
# (120 s: far above the slowest request and gunicorn's 30 s timeout) come from settings.
# The promise made to callers: a key is remembered at least this long.
MINIMUM_TTL_HOURS = 24
POLL_INTERVAL_SECONDS = 0.05
MAX_KEY_LENGTH = 255

NOT_KEPT_STATUSES = frozenset({401, 403, 429})


def wait_seconds() -> float:
    return float(settings.SHIPCHECK_IDEMPOTENCY_WAIT_SECONDS)


def lock_seconds() -> float:
    return float(settings.SHIPCHECK_IDEMPOTENCY_LOCK_SECONDS)


def ttl() -> timedelta:
    hours = max(
        int(settings.SHIPCHECK_IDEMPOTENCY_TTL_HOURS),
        MINIMUM_TTL_HOURS,
    )
    return timedelta(hours=hours)


def key_problem(key: str) -> str | None:
    """Why ``key`` is not an acceptable Idempotency-Key, or None."""
    if not key.strip():
        return "The Idempotency-Key header is empty."
    if len(key) > MAX_KEY_LENGTH:
        return f"The Idempotency-Key header is longer than {MAX_KEY_LENGTH} characters."
    if any(not 32 < ord(c) < 127 for c in key):
        return (
            "The Idempotency-Key header may hold only visible ASCII characters (a UUID is ideal)."
        )
    return None


def request_fingerprint(*, method: str, path: str, query: str, body: bytes) -> str:
    """SHA-256 of the request; JSON bodies are compared by content, not by spacing or key order."""
    canonical = body
    with contextlib.suppress(ValueError, RecursionError):  # not JSON: compare the bytes
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query.encode(), canonical):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


@dataclass
class Claim:
    """What to do with a request: ``execute`` it, ``replay`` a kept answer, or refuse
    it as a ``mismatch`` (422) or ``busy`` (409)."""

    outcome: str
    record: IdempotencyKey


def idempotency_claim(*, scope: str, key: str, fingerprint: str, method: str, path: str) -> Claim:
    """Claim ``key`` for this request, or say why it may not run now."""
    deadline = time.monotonic() + wait_seconds()
    record: IdempotencyKey | None
    while True:
        now = timezone.now()
        try:
            with transaction.atomic():
                record = IdempotencyKey.objects.create(
                    scope=scope,
                    key=key,
                    fingerprint=fingerprint,
                    method=method,
                    path=path[:500],
                    created_at=now,
                    claimed_at=now,
                )
            return Claim("execute", record)
        except IntegrityError:
            pass
        record = IdempotencyKey.objects.filter(scope=scope, key=key).first()
        if record is None:
            continue  # the other attempt gave its claim up (a 5xx): try to claim it ourselves
        if record.fingerprint != fingerprint:
            return Claim("mismatch", record)
        if record.state == IdempotencyState.DONE:
            return Claim("replay", record)
        if record.claimed_at < now - timedelta(seconds=lock_seconds()):
            # The request holding the claim never finished; take it over, winning the
            # race against other takers with a conditional update on the old claim time.
            taken = IdempotencyKey.objects.filter(
                pk=record.pk, state=IdempotencyState.IN_PROGRESS, claimed_at=record.claimed_at
            ).update(claimed_at=now)
            if taken:
                record.claimed_at = now
                return Claim("execute", record)
            continue
        if time.monotonic() >= deadline:
            return Claim("busy", record)
        time.sleep(POLL_INTERVAL_SECONDS)


def idempotency_complete(
    *, record: IdempotencyKey, status: int, content_type: str, body: bytes
) -> None:
    """Keep the answer for replays, or give the claim up when the answer says "try again"."""
    claim = IdempotencyKey.objects.filter(
        pk=record.pk, state=IdempotencyState.IN_PROGRESS, claimed_at=record.claimed_at
    )
    if status >= 500 or status in NOT_KEPT_STATUSES:
        claim.delete()
        return
    claim.update(
        state=IdempotencyState.DONE,
        response_status=status,
        response_content_type=content_type[:100],
        response_body=body,
        completed_at=timezone.now(),
    )


def idempotency_abandon(*, record: IdempotencyKey) -> None:
    IdempotencyKey.objects.filter(
        pk=record.pk, state=IdempotencyState.IN_PROGRESS, claimed_at=record.claimed_at
    ).delete()
