"""Invitation link secrets: 256 random bits in the link, only their SHA-256 in the database."""

from __future__ import annotations

import hashlib
import secrets


def invitation_secret() -> tuple[str, str]:
    """A new secret for a link and the hash to store."""
    plain = secrets.token_urlsafe(32)
    return plain, invitation_hash(plain)


def invitation_hash(plain: str) -> str:
    return hashlib.sha256(str(plain).encode("utf-8", "replace")).hexdigest()
