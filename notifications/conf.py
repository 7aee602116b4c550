"""Delivery settings, read from Django settings (config/settings.py) with these defaults."""

from __future__ import annotations

from django.conf import settings


def _number(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


def lease_seconds() -> float:
    """How long a claimed row belongs to its worker; then another worker may take it.

    Never shorter than a request's deadline (plus a second): a slow send that is still
    running must not be taken over and sent a second time.
    """
    return max(_number("SHIPCHECK_NOTIFY_LEASE_SECONDS", 60), timeout_seconds() + 1)


def timeout_seconds() -> float:
    """The total deadline of one webhook request (DNS, connect, TLS, reading)."""
    return _number("SHIPCHECK_NOTIFY_TIMEOUT_SECONDS", 10)


def retry_base_seconds() -> float:
    """The first retry's delay; each later one doubles, with jitter, up to the cap."""
    return _number("SHIPCHECK_NOTIFY_RETRY_BASE_SECONDS", 30)


def retry_cap_seconds() -> float:
    return _number("SHIPCHECK_NOTIFY_RETRY_CAP_SECONDS", 3600)


def max_attempts() -> int:
    return int(_number("SHIPCHECK_NOTIFY_MAX_ATTEMPTS", 8))


# A receiver's answer is read only to show it in the log: a few kilobytes are enough.
MAX_ANSWER_BYTES = 16 * 1024
SWEEP_SECONDS = 15.0
DIGEST_SECONDS = 24 * 3600.0
