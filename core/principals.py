"""Who is calling, as far as ``core`` needs to know: a person, or a machine acting for a project.

A machine principal (``projects.principals.TokenPrincipal``, an API token) carries
``is_token = True``; people (Django users) do not. ``projects`` defines the principal and
re-exports this predicate, so every app asks the same question the same way.
"""

from __future__ import annotations

from typing import Any


def is_token(principal: Any) -> bool:
    """True for an API token's principal, False for a person (or anonymous)."""
    return bool(getattr(principal, "is_token", False))
