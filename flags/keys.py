"""SDK key format and hashing: ``scf_<prefix>_<secret>``, only the SHA-256 of the whole key stored.

Same scheme as the projects' API tokens (``projects.tokens``), with a prefix of
its own so a key is never mistaken for a token (an SDK key only reads flags).
"""

from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "scf_"  # noqa: S105 - a public marker, not a secret


def key_generate() -> tuple[str, str, str]:
    """Return (key, prefix, key_hash); the key is shown once and never stored."""
    prefix = secrets.token_hex(4)
    key = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    return key, prefix, key_hash(key)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def key_prefix(key: str) -> str | None:
    if not key.startswith(KEY_PREFIX):
        return None
    parts = key[len(KEY_PREFIX) :].split("_", 1)
    return parts[0] if len(parts) == 2 and len(parts[0]) == 8 else None
