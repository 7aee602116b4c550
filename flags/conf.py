"""Flags settings read from the environment, refused at start-up when malformed."""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

# A step's hold time is a week by default; minutes are allowed. Tests and demos may
# lower the floor to seconds with SHIPCHECK_FLAGS_MIN_HOLD (seconds).
DEFAULT_MIN_HOLD_SECONDS = 60.0


def min_hold_seconds() -> float:
    raw = os.environ.get("SHIPCHECK_FLAGS_MIN_HOLD", "").strip()
    if not raw:
        return DEFAULT_MIN_HOLD_SECONDS
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(
            f"SHIPCHECK_FLAGS_MIN_HOLD must be a number of seconds, got {raw!r}"
        ) from None
    if not 0.5 <= value <= 86400:
        raise ImproperlyConfigured(
            f"SHIPCHECK_FLAGS_MIN_HOLD must be between 0.5 and 86400 seconds, got {value}"
        )
    return value
