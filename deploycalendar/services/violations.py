"""Freeze violations: deployments a pipeline reported while a freeze held."""

from __future__ import annotations

from typing import Any

from audit.services import audit_record
from core.events import publish
from deploycalendar.models import (
    FreezeViolation,
)
from deploycalendar.services.windows import _release_people
from projects.models import Environment
from releases.models import Release


def freeze_violation_record(
    *, release: Release, environment: Environment, actor: Any, freeze: str, reason: str
) -> FreezeViolation:
    """Keep a deployment a pipeline reported while ``freeze`` held, and say so loudly.

    Called inside the reporting transaction (``deployment_refused``). Audit:
    ``calendar.freeze_violation``; announces ``calendar.freeze_violation`` (urgent).
    """
    from core.principals import is_token

    who = f"API token {actor.api_token.name}" if is_token(actor) else str(actor)
    violation = FreezeViolation.objects.create(
        release=release,
        environment=environment,
        freeze_name=freeze[:120],
        reason=reason[:2000],
        reported_by=who[:200],
    )
    audit_record(
        actor=actor,
        action="calendar.freeze_violation",
        obj=violation,
        project=release.project_id,
        release=release,
        reason=reason[:2000],
        data={"environment": environment.name, "freeze": freeze},
    )
    publish(
        "calendar.freeze_violation",
        project=release.project,
        release=release,
        subject=f"Freeze violation: {release.version} reported in {environment.name} during '{freeze}'",
        body=f"{who} reported a deployment of {release.version} to {environment.name} while "
        f"{reason}",
        url=release.get_absolute_url(),
        recipients=_release_people(release),
        urgent=True,
    )
    return violation
