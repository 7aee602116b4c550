"""The callers that releases' services and selectors name in their signatures.

A caller is a person (the user model), a pipeline (``TokenPrincipal``, an API
token), or, for a reader, an anonymous visitor, who sees nothing. Services also
take ``None``: Shipcheck itself (monitoring failing a deployment after its window).
"""

from __future__ import annotations

from typing import TypeAlias

from django.contrib.auth.models import AnonymousUser, User

from projects.principals import TokenPrincipal

# Who reads: every selector narrows what it returns to what this caller may see.
Viewer: TypeAlias = User | AnonymousUser | TokenPrincipal
# Who writes: a reader, or None for Shipcheck itself.
Actor: TypeAlias = Viewer | None

__all__ = ["Actor", "Viewer"]
