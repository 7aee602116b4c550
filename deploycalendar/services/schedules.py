"""Planned deployments, their conflict warnings and the 24-hour reminder."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from core.events import publish
from core.exceptions import NotFound, PermissionDenied, ValidationFailed
from deploycalendar.choices import CONFLICT_SPAN
from deploycalendar.models import (
    ScheduledDeployment,
)
from deploycalendar.services.windows import _release_people
from projects.models import Environment
from projects.permissions import can_view_project
from releases.models import Release

REMINDER_AHEAD = timedelta(hours=24)


@transaction.atomic
def schedule_set(
    *, release: Release, environment: Environment, planned_at: datetime, actor: Any
) -> tuple[ScheduledDeployment, list[str]]:
    """Plan ``release`` into ``environment`` at ``planned_at``: (plan, conflict warnings).

    Whoever may manage the release. A changed time resets the reminder. Warnings, not refusals:
    another release planned in the environment within an hour, a slot inside a freeze or
    outside the windows. Audit: ``calendar.scheduled``.
    """
    from projects.permissions import can_manage_release

    if not can_view_project(actor, release.project_id):
        raise NotFound("No such release.")
    if environment.project_id != release.project_id:
        raise NotFound("No such environment in this project.")
    if not can_manage_release(actor, release):
        raise PermissionDenied(
            "Only the release's manager, a release manager or an admin may plan it."
        )
    if planned_at.tzinfo is None:
        raise ValidationFailed("The planned time needs a time zone or an offset.")
    Release.objects.select_for_update().get(pk=release.pk)
    plan, created = ScheduledDeployment.objects.get_or_create(
        release=release,
        environment=environment,
        defaults={"planned_at": planned_at, "created_by": actor},
    )
    if not created and plan.planned_at != planned_at:
        plan.planned_at = planned_at
        plan.reminded_at = None
        plan.save(update_fields=["planned_at", "reminded_at", "updated_at"])
    warnings = schedule_conflicts(plan=plan)
    audit_record(
        actor=actor,
        action="calendar.scheduled",
        obj=plan,
        project=release.project_id,
        release=release,
        data={
            "environment": environment.name,
            "planned_at": planned_at.isoformat(),
            "warnings": warnings,
        },
    )
    return plan, warnings


def schedule_conflicts(*, plan: ScheduledDeployment) -> list[str]:
    """Why ``plan``'s slot is a bad idea, as sentences (empty when it is fine)."""
    from deploycalendar.selectors import moment_text, time_answer, time_reason

    warnings: list[str] = []
    others = (
        ScheduledDeployment.objects.filter(
            environment_id=plan.environment_id,
            planned_at__gt=plan.planned_at - CONFLICT_SPAN,
            planned_at__lt=plan.planned_at + CONFLICT_SPAN,
        )
        .exclude(pk=plan.pk)
        .select_related("release")
    )
    for other in others:
        warnings.append(
            f"{other.release.version} is planned in {plan.environment.name} at "
            f"{moment_text(other.planned_at, 'UTC')} too."
        )
    answer = time_answer(
        release=plan.release, environment=plan.environment, instant=plan.planned_at
    )
    if answer.applies and not answer.verdict.allowed:
        warnings.append(
            "At that time: "
            + time_reason(answer=answer, environment=plan.environment, release=plan.release)
        )
    return warnings


def schedule_reminders_send(*, now: datetime | None = None) -> int:
    """Remind the release's people 24 hours before a planned production deployment, once.

    Each plan is claimed with a conditional UPDATE (reminded_at still empty), so two beat runs
    or two workers never send it twice. Announces ``calendar.reminder``.
    """
    now = now or timezone.now()
    due = list(
        ScheduledDeployment.objects.filter(
            reminded_at__isnull=True,
            planned_at__gt=now,
            planned_at__lte=now + REMINDER_AHEAD,
            environment__tier="production",
            release__status__in=["planned", "in_progress"],
        ).values_list("pk", flat=True)[:200]
    )
    sent = 0
    for pk in due:
        with transaction.atomic():
            if not ScheduledDeployment.objects.filter(pk=pk, reminded_at__isnull=True).update(
                reminded_at=now
            ):
                continue
            plan = ScheduledDeployment.objects.select_related(
                "release__project", "release__release_manager", "environment"
            ).get(pk=pk)
            release = plan.release
            publish(
                "calendar.reminder",
                project=release.project,
                release=release,
                subject=f"Tomorrow: {release.version} goes to {plan.environment.name}",
                body=f"{release.project.name} {release.version} is planned for "
                f"{plan.environment.name} at {plan.planned_at:%a %-d %b %H:%M} UTC.",
                url=release.get_absolute_url(),
                recipients=_release_people(release),
                data={
                    "environment": plan.environment.name,
                    "planned_at": plan.planned_at.isoformat(),
                },
            )
            sent += 1
    return sent
