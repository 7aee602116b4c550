"""The callers that releases' services and selectors name in their signatures.

A caller is a person (the user model) or a pipeline (``TokenPrincipal``, an API
token). Services also take ``None``: Shipcheck itself (monitoring failing a
deployment after its window). Readers may be anonymous visitors, who see nothing.
"""

from __future__ import annotations

from typing import TypeAlias

from django.contrib.auth.models import AnonymousUser, User

from projects.principals import TokenPrincipal

# Who writes: a person, a token, or None for Shipcheck itself.
Actor: TypeAlias = User | TokenPrincipal | None
# Who reads: every selector narrows what it returns to what this caller may see.
Viewer: TypeAlias = User | AnonymousUser | TokenPrincipal

__all__ = ["Actor", "Viewer"]
