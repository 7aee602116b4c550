"""Deploy windows and freezes: create and remove them, checked against the time rules."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from core.exceptions import NotFound, PermissionDenied, ValidationFailed
from deploycalendar.choices import WindowKind
from deploycalendar.models import (
    DeployWindow,
    Freeze,
)
from deploycalendar.permissions import (
    can_manage_calendar,
    can_set_organisation_freeze,
)
from deploycalendar.rules import (
    RuleError,
    TimeRule,
    rule_from_cron,
    rule_summary,
    rule_validate,
    wall_time_note,
)
from projects.models import Environment
from projects.permissions import can_view_project
from releases.choices import ReleaseType
from releases.models import Release

GATE_TIME = "deploy_window"
_WALL_FORMAT = "%Y-%m-%dT%H:%M"


def _wall(value: str | datetime, field: str) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise ValidationFailed(
                f"The {field} '{str(value)[:40]}' is not a date and time like 2026-12-20T00:00.",
                details={"field": field},
            ) from None
    if parsed.tzinfo is not None:
        raise ValidationFailed(
            f"The {field} is a wall-clock time in the rule's time zone; leave the offset out.",
            details={"field": field},
        )
    return parsed.replace(microsecond=0)


def _checked_rule(
    *,
    start: str | datetime,
    end: str | datetime,
    time_zone: str,
    rrule: str = "",
    exdates: Sequence[str | datetime] = (),
) -> tuple[TimeRule, list[str]]:
    """The rule, or ValidationFailed with every problem; also the notes on clock changes."""
    if len(rrule) > 300:
        raise ValidationFailed("The recurrence rule is longer than 300 characters.")
    rule = TimeRule(
        start=_wall(start, "start"),
        end=_wall(end, "end"),
        tz=(time_zone or "").strip(),
        rrule=(rrule or "").strip(),
        exdates=tuple(_wall(d, "exception date") for d in exdates),
    )
    problems = rule_validate(rule)
    if problems:
        raise ValidationFailed(" ".join(problems), details={"problems": problems})
    notes = [
        n for n in (wall_time_note(rule.start, rule.tz), wall_time_note(rule.end, rule.tz)) if n
    ]
    return rule, notes


def wall_text(moment: datetime) -> str:
    """A wall-clock time as stored: minutes, or seconds when it has them."""
    return moment.strftime(_WALL_FORMAT + (":%S" if moment.second else ""))


def _rule_fields(rule: TimeRule) -> dict[str, Any]:
    return {
        "start": wall_text(rule.start),
        "end": wall_text(rule.end),
        "time_zone": rule.tz,
        "rrule": rule.rrule,
        "exdates": [wall_text(d) for d in rule.exdates],
    }


def _name(value: str, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationFailed(f"Give the {what} a name.")
    if len(value) > 120 or "\x00" in value:
        raise ValidationFailed(f"The {what}'s name must be at most 120 plain characters.")
    return value


def _manage_authorize(*, project: Any, actor: Any) -> None:
    if not can_view_project(actor, project):
        raise NotFound("No such project.")
    if not can_manage_calendar(actor, project):
        raise PermissionDenied(
            "Only a release manager or a project admin may change this project's deploy "
            "windows and freezes."
        )


@transaction.atomic
def window_create(
    *,
    environment: Environment,
    actor: Any,
    name: str,
    start: str | datetime,
    end: str | datetime,
    time_zone: str,
    rrule: str = "",
    exdates: Sequence[str | datetime] = (),
    kind: str = WindowKind.ALLOWED,
    release_types: Sequence[str] = (),
) -> DeployWindow:
    """Add a deploy or maintenance window to ``environment``.

    Release managers and project admins. Audit: ``calendar.window_created`` (with notes on a
    time that falls in a clock change and how it is read).
    """
    _manage_authorize(project=environment.project, actor=actor)
    if kind not in WindowKind.values:
        raise ValidationFailed(f"Unknown window kind '{kind[:20]}'; use allowed or maintenance.")
    unknown = sorted(set(release_types) - set(ReleaseType.values))
    if unknown:
        raise ValidationFailed(f"Unknown release type {', '.join(unknown)[:60]}.")
    if release_types and kind != WindowKind.MAINTENANCE:
        raise ValidationFailed("Only a maintenance window can be required for release types.")
    rule, notes = _checked_rule(
        start=start, end=end, time_zone=time_zone, rrule=rrule, exdates=exdates
    )
    Environment.objects.select_for_update().get(pk=environment.pk)
    window = DeployWindow.objects.create(
        environment=environment,
        kind=kind,
        name=_name(name, "window"),
        release_types=list(dict.fromkeys(release_types)),
        created_by=actor,
        **_rule_fields(rule),
    )
    audit_record(
        actor=actor,
        action="calendar.window_created",
        obj=window,
        project=environment.project_id,
        data={
            "environment": environment.name,
            "rule": rule_summary(rule),
            "notes": notes,
            **_rule_fields(rule),
        },
    )
    return window


@transaction.atomic
def freeze_create(
    *,
    environment: Environment | None,
    actor: Any,
    name: str,
    reason: str = "",
    start: str | datetime = "",
    end: str | datetime = "",
    time_zone: str = "UTC",
    rrule: str = "",
    exdates: Sequence[str | datetime] = (),
    cron_start: str = "",
    cron_end: str = "",
) -> Freeze:
    """Freeze ``environment`` (or, with ``environment=None``, every project's production).

    A one-off (start, end), a recurring rule (RRULE), or a GitLab-style cron pair
    (``cron_start``/``cron_end``, read in ``time_zone``). Release managers and project admins;
    organisation-wide: site administrators only. Audit: ``calendar.freeze_created``.
    """
    if environment is None:
        if not can_set_organisation_freeze(actor):
            raise PermissionDenied("Only a site administrator may set an organisation-wide freeze.")
    else:
        _manage_authorize(project=environment.project, actor=actor)
    reason = (reason or "").strip()
    if len(reason) > 2000 or "\x00" in reason:
        raise ValidationFailed("The reason must be at most 2000 plain characters.")
    if cron_start or cron_end:
        if start or end or rrule:
            raise ValidationFailed("Give either a cron pair or a start and end, not both.")
        try:
            cron_rule = rule_from_cron(
                cron_start, cron_end, (time_zone or "").strip(), since=timezone.now().date()
            )
        except RuleError as exc:
            raise ValidationFailed(str(exc)) from None
        start, end, rrule = cron_rule.start, cron_rule.end, cron_rule.rrule
    rule, notes = _checked_rule(
        start=start, end=end, time_zone=time_zone, rrule=rrule, exdates=exdates
    )
    if environment is not None:
        Environment.objects.select_for_update().get(pk=environment.pk)
    freeze = Freeze.objects.create(
        environment=environment,
        name=_name(name, "freeze"),
        reason=reason,
        created_by=actor,
        **_rule_fields(rule),
    )
    audit_record(
        actor=actor,
        action="calendar.freeze_created",
        obj=freeze,
        project=environment.project_id if environment else None,
        reason=reason,
        data={
            "environment": environment.name if environment else "(organisation-wide)",
            "rule": rule_summary(rule),
            "notes": notes,
            **_rule_fields(rule),
        },
    )
    return freeze


@transaction.atomic
def calendar_rule_remove(*, rule: DeployWindow | Freeze, actor: Any) -> None:
    """Remove a window or freeze (kept, marked removed, so the feed can cancel it).

    Same rights as creating it. Audit: ``calendar.window_removed`` / ``calendar.freeze_removed``.
    """
    environment = rule.environment
    if environment is None:
        if not can_set_organisation_freeze(actor):
            raise PermissionDenied(
                "Only a site administrator may remove an organisation-wide freeze."
            )
    else:
        _manage_authorize(project=environment.project, actor=actor)
    model = type(rule)
    locked = model.objects.select_for_update().get(pk=rule.pk)
    if locked.removed_at is not None:
        return
    now = timezone.now()
    model.objects.filter(pk=rule.pk).update(
        removed_at=now, sequence=locked.sequence + 1, updated_at=now
    )
    what = "window" if model is DeployWindow else "freeze"
    audit_record(
        actor=actor,
        action=f"calendar.{what}_removed",
        obj=locked,
        project=environment.project_id if environment else None,
    )


def _release_people(release: Release) -> list[Any]:
    return [release.release_manager] if release.release_manager_id else []
