"""One way to write a date and time for people: "1 Dec 2026, 14:05 CET", in the reader's zone.

``core.middleware.TimeZoneMiddleware`` activates the person's zone for each request, so
pages, messages and notices written during a request all use it. Templates use the
``when`` and ``ago`` filters (core/templatetags/shipcheck.py), code uses ``format_when``.
"""

from __future__ import annotations

import datetime

from django.utils import timezone
from django.utils.formats import date_format

DATETIME_FORMAT = "j M Y, H:i T"
DATE_FORMAT = "j M Y"


def format_when(value) -> str:
    """``value`` (an aware datetime, or a date) in the active zone, in the one house format."""
    if value is None or value == "":
        return ""
    if not isinstance(value, datetime.datetime):
        return date_format(value, DATE_FORMAT)
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return date_format(value, DATETIME_FORMAT)


def elapsed_percent(start, end, now) -> int:
    """How far ``now`` is through the span from ``start`` to ``end``, 0-100 (for a progress bar
    of a window's or a step's time): 0 before it starts or when it has no span yet, 100 after."""
    if start is None or end is None:
        return 0
    total = (end - start).total_seconds()
    if total <= 0:
        return 100
    return int(min(max((now - start).total_seconds() / total, 0), 1) * 100)
