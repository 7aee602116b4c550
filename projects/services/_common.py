"""Checks and helpers every projects service shares: text and slug rules, the manager check."""

from __future__ import annotations

import re
from typing import Any

from core.exceptions import Conflict, PermissionDenied, RoleNotHeld, ValidationFailed
from projects.choices import Role, Tier
from projects.models import Project
from projects.permissions import can_admin_project
from projects.principals import Actor, is_token

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
# /projects/new/ is the new-project page, so no project may be called that.
RESERVED_SLUGS = frozenset({"new"})
# Lengths from the model fields, checked here so that a long value is a message, not a 500.
PROJECT_NAME_MAX = 120
PROJECT_SLUG_MAX = 60
ENV_NAME_MAX = 40
ENV_DISPLAY_MAX = 80
REASON_MAX = 2000
# Environment orders are renumbered in two phases; the first parks every row above this
# offset so that no intermediate state collides with ``environment_unique_order``.
_ORDER_PARKING_OFFSET = 10000

# AuditEvent.from_state/to_state hold 64 characters; the full values go in ``data``.
_STATE_MAX = 64


def _state(text: str) -> str:
    return text if len(text) <= _STATE_MAX else text[: _STATE_MAX - 1] + "…"


def _text(value: Any, field: str, max_length: int, *, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationFailed(f"{field} must be text.", details={"field": field})
    value = value.strip()
    if "\x00" in value:
        raise ValidationFailed(
            f"{field} contains a NUL character, which is not allowed.", details={"field": field}
        )
    if required and not value:
        raise ValidationFailed(f"{field} is required.", details={"field": field})
    if len(value) > max_length:
        raise ValidationFailed(
            f"{field} is longer than {max_length} characters.", details={"field": field}
        )
    return value


def _slug(value: Any, field: str, max_length: int) -> str:
    text = _text(value, field, max_length, required=True).lower()
    if not SLUG_RE.match(text):
        raise ValidationFailed(
            f"{field} '{text[:max_length]}' may contain only lower-case letters, digits and "
            "hyphens, and must start and end with a letter or digit.",
            details={"field": field},
        )
    return text


def _tier(value: Any) -> str:
    if not isinstance(value, str) or value not in Tier.values:
        shown = str(value)[:40]
        raise ValidationFailed(
            f"Unknown tier '{shown}'. Choose one of {', '.join(Tier.values)}.",
            details={"field": "tier"},
        )
    return value


def _require_manager(actor: Actor, project: Project, what: str) -> None:
    """Project admins and staff administrators manage a project; ``None`` is Shipcheck itself."""
    if actor is None:
        return
    if is_token(actor):
        raise PermissionDenied(
            "API tokens cannot manage projects; a project admin signs in to do it.",
            code="token_not_allowed",
        )
    if not can_admin_project(actor, project):
        raise RoleNotHeld(
            f"Only a project admin or a staff administrator may {what}.",
            details={"roles": [Role.ADMIN]},
        )


def _lock_project(project: Project) -> Project:
    return Project.objects.select_for_update().get(pk=project.pk)


def _refuse_if_archived(project: Project, what: str) -> None:
    if project.archived_at is not None:
        raise Conflict(
            f"The project {project.name} is archived: {what} is no longer possible.",
            code="project_archived",
        )
