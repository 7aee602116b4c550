"""Overrides of windows and freezes for one release and one environment."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from audit.services import audit_record
from core.events import publish
from core.exceptions import Conflict, NotFound, PermissionDenied, ValidationFailed
from deploycalendar.models import (
    Override,
)
from deploycalendar.permissions import (
    can_override,
)
from deploycalendar.services.windows import GATE_TIME, _release_people
from projects.models import Environment
from projects.permissions import can_view_project
from releases.gates import gate_evaluate
from releases.models import Release


@transaction.atomic
def override_grant(
    *, release: Release, environment: Environment, actor: Any, reason: str
) -> Override:
    """Let ``release`` into ``environment`` through its windows and freezes, once and loudly.

    An emergency approver or a project admin who is not the release's manager, with a written
    reason. The freeze stays in place for everything else. Audit: ``calendar.override_granted``;
    announces ``calendar.override`` (urgent) to the release's people at once.
    """
    if not can_view_project(actor, release.project_id):
        raise NotFound("No such release.")
    if environment.project_id != release.project_id:
        raise NotFound("No such environment in this project.")
    if not can_override(actor, release):
        raise PermissionDenied(
            "Only an emergency approver or a project admin who is not the release's own manager "
            "may override the deploy windows and freezes."
        )
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise ValidationFailed("Write why the override is needed (at least 10 characters).")
    if len(reason) > 2000 or "\x00" in reason:
        raise ValidationFailed("The reason must be at most 2000 plain characters.")
    Release.objects.select_for_update().get(pk=release.pk)
    if Override.objects.filter(release=release, environment=environment).exists():
        raise Conflict(
            f"{release.version} already has an override for {environment.name}.",
            code="override_exists",
        )
    report = gate_evaluate(release=release, environment=environment)
    blocking = [g for g in report.gates if g.code == GATE_TIME and not g.is_open]
    if not blocking:
        raise Conflict(
            f"No window or freeze holds {release.version} back from {environment.name} now; "
            "there is nothing to override.",
            code="nothing_to_override",
        )
    override = Override.objects.create(
        release=release, environment=environment, reason=reason, granted_by=actor
    )
    audit_record(
        actor=actor,
        action="calendar.override_granted",
        obj=override,
        project=release.project_id,
        release=release,
        reason=reason,
        data={"environment": environment.name, "held_by": blocking[0].reason},
    )
    publish(
        "calendar.override",
        project=release.project,
        release=release,
        subject=f"Freeze overridden: {release.version} may enter {environment.name}",
        body=f"{actor} overrode the deploy windows and freezes of {environment.name} for "
        f"{release.version}: {reason}\nIt was held back because: {blocking[0].reason}",
        url=release.get_absolute_url(),
        recipients=_release_people(release),
        urgent=True,
        data={"environment": environment.name},
    )
    return override
