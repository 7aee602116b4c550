"""Old spellings the API still accepts for a while, and how an answer says it used one.

Deployments are written in one vocabulary (docs/api.md, "Deployments: one
vocabulary"). Requests in an older spelling keep working until ``SUNSET``;
their answer carries

* ``Deprecation: @<unix time>`` (RFC 9745): since when the spelling is deprecated,
* ``Sunset: <HTTP date>`` (RFC 8594): after which it will be refused,
* ``Shipcheck-Deprecated``: a sentence naming what to send instead,

so a pipeline's log shows what to change long before anything breaks.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from django.utils.http import http_date

logger = logging.getLogger(__name__)

# The release that unified the vocabulary, and six months later (docs/api.md).
DEPRECATED_SINCE = datetime(2026, 12, 1, tzinfo=UTC)
SUNSET = datetime(2027, 6, 1, tzinfo=UTC)

NOTE_HEADER = "Shipcheck-Deprecated"
# What a validated body carries, under this key, when it used an old spelling.
USED_KEY = "_deprecated"


def deprecation_mark(response, notes: list[str]):
    """Add the deprecation headers to ``response`` when ``notes`` (what to send instead) is not empty."""
    if not notes:
        return response
    response["Deprecation"] = f"@{int(DEPRECATED_SINCE.timestamp())}"
    response["Sunset"] = http_date(SUNSET.timestamp())
    response[NOTE_HEADER] = " ".join(notes)
    logger.info("deprecated API spelling used: %s", " ".join(notes))
    return response
