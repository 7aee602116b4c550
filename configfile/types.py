"""Who calls the configuration services: a person or a ``config`` token (acting for its creator)."""

from __future__ import annotations

from typing import TypeAlias

from django.contrib.auth.models import AnonymousUser, User

from projects.principals import TokenPrincipal

Actor: TypeAlias = User | TokenPrincipal | AnonymousUser
