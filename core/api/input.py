"""Reading a write's body in the right order: first who may write, then what they sent.

A write whose object is in the URL checks the caller's right on that object
before it touches the body. A write whose object is named *in* the body (a
project slug, a release id) reads that one field with ``body_field`` to find
the object, checks the right, and only then validates the whole body with
``body_valid``. Someone who may not write is refused (403, or 404 for what
they may not see) whatever the body holds, and never learns what was wrong
with it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from rest_framework.exceptions import ParseError, UnsupportedMediaType

_UNREADABLE = "_shipcheck_unreadable_body"
# What a slug looks like (DRF's SlugField, at most 60 characters as our slugs are).
_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,60}")


def body_field(request, name: str) -> Any:
    """One field of the request's JSON object, or None when absent or unreadable.

    A body that cannot be parsed (malformed JSON, a media type the view does not
    take) names nothing here; the error is kept and ``body_valid`` raises it once
    the caller's right has been checked.
    """
    try:
        data = request.data
    except (ParseError, UnsupportedMediaType) as exc:
        setattr(request, _UNREADABLE, exc)
        return None
    return data.get(name) if isinstance(data, Mapping) else None


def body_slug(request, name: str) -> str | None:
    """``body_field`` for a slug: None unless the field holds something shaped like one."""
    value = body_field(request, name)
    return value if isinstance(value, str) and _SLUG.fullmatch(value) else None


def body_valid(serializer_class, request, **kwargs) -> dict:
    """The body validated by ``serializer_class``: 400 naming each field's problem.

    Call it only after the caller's right is checked.
    """
    unreadable = getattr(request, _UNREADABLE, None)
    if unreadable is not None:
        raise unreadable
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def require_person(user, what: str) -> None:
    """403 ``people_only`` for an API token, asked first: configuration is changed by people.

    A token's scopes name what a pipeline does (releases, deployments, test
    results); none of them lets it change the rules it is checked against.
    """
    from core.exceptions import PermissionDenied
    from core.principals import is_token

    if is_token(user):
        raise PermissionDenied(
            f"API tokens cannot change {what}; a project admin does it, signed in as a person.",
            code="people_only",
        )
