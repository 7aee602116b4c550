"""Who calls the approvals services: a person, a machine (an API token) or nobody signed in.

The services accept all three and refuse, with a named error, whoever may not act;
once a check has told a person apart (``is_person``), they narrow to ``User``.
"""

from __future__ import annotations

from typing import TypeAlias

from django.contrib.auth.models import AnonymousUser, User

from projects.principals import TokenPrincipal

Actor: TypeAlias = User | TokenPrincipal | AnonymousUser
