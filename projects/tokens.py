"""API token format and hashing.

A token reads ``shp_<prefix>_<secret>``. The prefix finds the row; only the
SHA-256 of the whole token is stored, so a database leak reveals no token.
SHA-256 without a salt is enough here: the secret is 32 random bytes, not a
password a person chose.
"""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "shp_"  # noqa: S105 - a public marker, not a secret


def token_generate() -> tuple[str, str, str]:
    """Return (token, prefix, key_hash); the token is shown once and never stored."""
    prefix = secrets.token_hex(4)
    token = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    return token, prefix, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_prefix(token: str) -> str | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    parts = token[len(TOKEN_PREFIX) :].split("_", 1)
    return parts[0] if len(parts) == 2 and len(parts[0]) == 8 else None
