"""Monitoring settings read from the environment, refused at start-up when malformed."""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

# How often the scheduler asks workers for due polls. A window's own interval
# (10 s by default) is what matters; the tick only has to be finer than that.
DEFAULT_TICK_SECONDS = 2.0
# How often the scheduler looks for stale production pre-deployment checks (see
# monitoring/services/prechecks.py for when a run counts as stale).
PRECHECK_REFRESH_SECONDS = 30.0


def tick_seconds() -> float:
    raw = os.environ.get("SHIPCHECK_MONITORING_TICK", "").strip()
    if not raw:
        return DEFAULT_TICK_SECONDS
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(
            f"SHIPCHECK_MONITORING_TICK must be a number of seconds, got {raw!r}"
        ) from None
    if not 0.05 <= value <= 60:
        raise ImproperlyConfigured(
            f"SHIPCHECK_MONITORING_TICK must be between 0.05 and 60 seconds, got {value}"
        )
    return value


def poll_threads(default: int) -> int:
    """Probe threads per worker process (``SHIPCHECK_POLL_THREADS``)."""
    raw = os.environ.get("SHIPCHECK_POLL_THREADS", "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= 256:
        raise ImproperlyConfigured(
            f"SHIPCHECK_POLL_THREADS must be a whole number from 1 to 256, got {raw!r}"
        )
    return int(raw)
