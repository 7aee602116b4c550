"""Per-token rate limit.

A fixed window counted with an atomic cache increment, so that several web
processes sharing Redis count one budget per token. People signed in with a
session are not limited by it.

Configure with ``SHIPCHECK_TOKEN_RATE_LIMIT`` ("600/min" by default; see
config/settings.py), which lands in DRF's ``DEFAULT_THROTTLE_RATES["token"]``.
"""

from __future__ import annotations

import time
from typing import cast

from django.core.cache import cache
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from projects.principals import is_token

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str | None) -> tuple[int, int] | None:
    """'600/min' → (600, 60); None or empty → no limit."""
    if not rate:
        return None
    number, period = rate.split("/", 1)
    return int(number), _PERIODS[period.strip()[0]]


class TokenRateThrottle(BaseThrottle):
    scope = "token"

    def allow_request(self, request, view) -> bool:
        self._wait = None
        if not is_token(request.user):
            return True
        # drf-stubs type the rates as numbers; DRF's own value is a string such as "600/min".
        rate = cast("str | None", api_settings.DEFAULT_THROTTLE_RATES.get(self.scope))
        limit = parse_rate(rate)
        if limit is None:
            return True
        allowed, period = limit
        now = time.time()
        window = int(now // period)
        key = f"throttle:token:{request.user.api_token.pk}:{period}:{window}"
        # add() is a no-op when the key exists; incr() is atomic on Redis and locmem.
        cache.add(key, 0, timeout=period + 1)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=period + 1)
            count = 1
        if count <= allowed:
            return True
        self._wait = (window + 1) * period - now
        return False

    def wait(self):
        return self._wait
