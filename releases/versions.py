"""Semantic versions (https://semver.org), with an optional leading 'v'."""

from __future__ import annotations

import re

from releases.exceptions import InvalidVersion

SEMVER_RE = re.compile(
    r"^v?(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)"
    r"(?:-(?P<pre>(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+(?P<build>[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
MAX_COMPONENT = 2**31 - 1


def version_parse(raw: str) -> tuple[str, int, int, int]:
    """Return (normalised version without 'v', major, minor, patch) or raise InvalidVersion."""
    text = (raw or "").strip()
    match = SEMVER_RE.match(text) if len(text) <= 64 else None
    if not match:
        raise InvalidVersion(
            f"'{text[:64]}' is not a semantic version; write MAJOR.MINOR.PATCH, for example 1.4.0 or 2.0.0-rc.1."
        )
    parts = int(match["major"]), int(match["minor"]), int(match["patch"])
    if max(parts) > MAX_COMPONENT:
        raise InvalidVersion(f"'{text}' has a version number too large to store.")
    return text.removeprefix("v"), *parts
