"""Limits on failed password sign-ins, per account and per address (docs/sign-in.md).

Counters live in the cache (Redis in production, shared by every web process).
Once an account or an address reaches its limit, sign-ins from it are refused
until the lock-out ends, even with the right password, and ``auth.locked_out``
is written to the audit trail once per lock-out.
"""

from __future__ import annotations

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from audit.services import audit_record

_PREFIX = "shipcheck:login"


def _key(kind: str, value: str) -> str:
    # Hashed: usernames and addresses may hold characters a cache key must not.
    digest = hashlib.sha256(value.strip().lower().encode("utf-8", "replace")).hexdigest()[:32]
    return f"{_PREFIX}:{kind}:{digest}"


def client_address(request) -> str:
    """The client's address, through ``SHIPCHECK_TRUSTED_PROXY_COUNT`` proxies (allauth's rule)."""
    from allauth.core.internal.httpkit import get_client_ip
    from django.core.exceptions import ImproperlyConfigured

    try:
        address = get_client_ip(request)
    except ImproperlyConfigured:  # fewer X-Forwarded-For hops than proxies: not from the proxy
        address = None
    return str(address or request.META.get("REMOTE_ADDR") or "unknown")


def _limits() -> tuple[tuple[str, int], ...]:
    return (
        ("account", settings.SHIPCHECK_LOGIN_MAX_FAILURES),
        ("address", settings.SHIPCHECK_LOGIN_MAX_FAILURES_PER_ADDRESS),
    )


def locked_for(*, username: str, address: str) -> int:
    """Seconds left of a lock-out on this account or this address (0: not locked)."""
    now = time.time()
    left = 0.0
    for kind, value in (("account", username), ("address", address)):
        until = cache.get(_key(f"{kind}-locked", value))
        if until and until > now:
            left = max(left, until - now)
    return math.ceil(left)


def lockout_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return (
        f"Too many failed sign-ins: signing in is locked for {minutes} minute"
        f"{'s' if minutes != 1 else ''}. Wait and try again, or ask an administrator."
    )


def failure_record(*, username: str, address: str) -> int:
    """Count one failed sign-in; lock what reached its limit. Returns the lock's seconds (0: none).

    Audit: ``auth.locked_out`` when a lock begins (with the account name and the address).
    """
    window = settings.SHIPCHECK_LOGIN_LOCKOUT_SECONDS
    locked = []
    for (kind, limit), value in zip(_limits(), (username, address), strict=True):
        if not value:
            continue
        key = _key(kind, value)
        cache.add(key, 0, timeout=window)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=window)
            count = 1
        if count >= limit and not cache.get(_key(f"{kind}-locked", value)):
            cache.set(_key(f"{kind}-locked", value), time.time() + window, timeout=window)
            locked.append(kind)
    if locked:
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.filter(username__iexact=username).first()
        with transaction.atomic():
            audit_record(
                actor=None,
                action="auth.locked_out",
                object_type="auth.user",
                object_id=user.pk if user else "",
                object_repr=(username or "")[:150],
                to_state="locked",
                reason=f"Too many failed sign-ins ({' and '.join('per ' + k for k in locked)}).",
                data={
                    "username": (username or "")[:150],
                    "address": address,
                    "locked": locked,
                    "seconds": window,
                },
            )
        return window
    return 0


def success_record(*, username: str) -> None:
    """A correct password clears the account's failure count (not the address's)."""
    cache.delete(_key("account", username))
