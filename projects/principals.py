"""Who is calling: a person (a Django user) or a machine (an API token).

Tokens are not people. ``TokenPrincipal`` lets DRF treat a token request as
authenticated while every permission predicate can tell the difference.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

from core.principals import is_token
from projects.models import ApiToken

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

__all__ = ["Actor", "Caller", "Person", "Principal", "TokenPrincipal", "is_token"]


class TokenPrincipal:
    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    is_token = True
    pk = None
    id = None
    email = ""

    def __init__(self, token: ApiToken):
        self.api_token = token

    def __str__(self) -> str:
        return f"token:{self.api_token.name}"

    def get_username(self) -> str:
        return str(self)

    def has_scope(self, scope: str) -> bool:
        return scope in (self.api_token.scopes or [])


# A person is a Django user (get_user_model(): the default model). Who calls a service:
# a person or a machine; ``Actor`` adds ``None``, Shipcheck itself (the demo, scripts,
# the sync at sign-in).
Person: TypeAlias = "User"
Principal: TypeAlias = "User | TokenPrincipal"
Actor: TypeAlias = "User | TokenPrincipal | None"
# Who calls a service from a request: ``request.user`` is a person, a token or, before
# any check has refused them, nobody signed in. The services refuse whoever may not act
# with a named error; once a check has told a person apart (``is_person``) they narrow
# to ``User``.
Caller: TypeAlias = "User | TokenPrincipal | AnonymousUser"
