"""The one change metrics makes: a project's counting settings."""

from __future__ import annotations

from django.db import transaction

from audit.services import audit_record
from core.exceptions import NotFound, PermissionDenied
from metrics.models import MetricsSettings
from projects.models import Project
from projects.permissions import can_admin_project, can_view_project, is_person
from projects.principals import Actor


@transaction.atomic
def metrics_settings_update(
    *, project: Project, actor: Actor, hotfix_is_rework: bool
) -> MetricsSettings:
    """Choose whether a hotfix release counts as rework in the deployment rework rate.

    Callers: the project's admins. Audit: ``metrics.settings_changed`` (old and new value).
    """
    if not can_view_project(actor, project):
        raise NotFound("No such project.")
    if not can_admin_project(actor, project):
        raise PermissionDenied("Only an admin of this project may change how its metrics count.")
    settings_row, _created = MetricsSettings.objects.select_for_update().get_or_create(
        project=project
    )
    before = settings_row.hotfix_is_rework
    settings_row.hotfix_is_rework = bool(hotfix_is_rework)
    settings_row.updated_by = actor if is_person(actor) else None  # type: ignore[assignment]
    settings_row.save()
    audit_record(
        actor=actor,
        action="metrics.settings_changed",
        obj=settings_row,
        project=project,
        data={"hotfix_is_rework": {"from": before, "to": settings_row.hotfix_is_rework}},
    )
    return settings_row


def metrics_settings_for(project: Project) -> MetricsSettings:
    """The project's settings, or the defaults (unsaved) when it never chose."""
    found = MetricsSettings.objects.filter(project=project).first()
    return found or MetricsSettings(project=project)
