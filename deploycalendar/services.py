"""Every change to the release calendar: windows, freezes, overrides and the promotion queue."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from core.events import publish
from core.exceptions import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed
from core.transitions import transition_check
from deploycalendar.choices import QUEUE_TRANSITIONS, QueueStatus, WindowKind
from deploycalendar.models import (
    DeployWindow,
    FeedToken,
    Freeze,
    FreezeViolation,
    Override,
    QueuedPromotion,
    ScheduledDeployment,
)
from deploycalendar.permissions import (
    can_manage_calendar,
    can_override,
    can_queue,
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
from releases.gates import gate_evaluate
from releases.models import Release
from releases.services import release_promote

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


# --- Overrides ------------------------------------------------------------------------------


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


def _release_people(release: Release) -> list[Any]:
    return [release.release_manager] if release.release_manager_id else []


# --- The promotion queue --------------------------------------------------------------------


@transaction.atomic
def queue_add(*, release: Release, environment: Environment, actor: Any) -> QueuedPromotion:
    """Queue a promotion that only a window or freeze holds back; a worker starts it later.

    Whoever may deploy the release. Refused when another gate is closed too (that needs a
    person, not a clock) or when nothing opens within a year. Audit: ``calendar.queued``.
    """
    if not can_view_project(actor, release.project_id):
        raise NotFound("No such release.")
    if environment.project_id != release.project_id:
        raise NotFound("No such environment in this project.")
    if not can_queue(actor, release):
        raise PermissionDenied("Only a person who may deploy this release may queue its promotion.")
    Release.objects.select_for_update().get(pk=release.pk)
    report = gate_evaluate(release=release, environment=environment)
    closed = report.closed
    if not closed:
        raise Conflict(
            f"Every gate is open: promote {release.version} to {environment.name} now.",
            code="nothing_to_wait_for",
        )
    others = [g for g in closed if g.code != GATE_TIME]
    if others:
        raise Conflict(
            "Only a promotion held back by time can be queued; also closed: "
            + " ".join(g.reason for g in others),
            code="not_only_time",
            details={"gates": [g.as_dict() for g in others]},
        )
    opening = closed[0].next_opening
    if opening is None:
        raise Conflict(
            f"{environment.name} does not open within the next year; nothing to queue for.",
            code="never_opens",
        )
    if QueuedPromotion.objects.filter(
        release=release, environment=environment, status=QueueStatus.WAITING
    ).exists():
        raise Conflict(
            f"A promotion of {release.version} to {environment.name} is already queued.",
            code="already_queued",
        )
    item = QueuedPromotion.objects.create(
        release=release, environment=environment, not_before=opening, requested_by=actor
    )
    audit_record(
        actor=actor,
        action="calendar.queued",
        obj=item,
        project=release.project_id,
        release=release,
        data={"environment": environment.name, "not_before": opening.isoformat()},
    )
    return item


@transaction.atomic
def queue_cancel(*, item: QueuedPromotion, actor: Any) -> QueuedPromotion:
    """Cancel a waiting promotion. Whoever may deploy the release. Audit: ``calendar.queue_cancelled``."""
    release = item.release
    if not can_view_project(actor, release.project_id):
        raise NotFound("No such queued promotion.")
    if not can_queue(actor, release):
        raise PermissionDenied(
            "Only a person who may deploy this release may cancel its queued promotion."
        )
    locked = QueuedPromotion.objects.select_for_update().get(pk=item.pk)
    transition_check(
        transitions=QUEUE_TRANSITIONS,
        choices=QueueStatus,
        noun="queued promotion",
        from_state=locked.status,
        to_state=QueueStatus.CANCELLED,
    )
    locked.status = QueueStatus.CANCELLED
    locked.cancelled_by = actor
    locked.finished_at = timezone.now()
    locked.save(update_fields=["status", "cancelled_by", "finished_at"])
    audit_record(
        actor=actor,
        action="calendar.queue_cancelled",
        obj=locked,
        project=release.project_id,
        release=release,
        from_state=QueueStatus.WAITING,
        to_state=QueueStatus.CANCELLED,
        data={"environment": locked.environment.name},
    )
    return locked


def queue_due(*, now: datetime | None = None) -> list[int]:
    """Ids of waiting promotions whose window has opened."""
    now = now or timezone.now()
    return list(
        QueuedPromotion.objects.filter(status=QueueStatus.WAITING, not_before__lte=now)
        .order_by("not_before", "id")
        .values_list("id", flat=True)[:100]
    )


@transaction.atomic
def queue_start(*, item_id: int, now: datetime | None = None) -> str:
    """Start one due queued promotion, at most once whatever the number of workers.

    The claim is a conditional UPDATE (waiting → starting) inside this transaction: of two
    workers racing for the row, the database lets one change it and holds the other's UPDATE
    on the row lock until the first commits, which then matches 0 rows, so it leaves. The
    winner evaluates every gate again, as the person who queued it: open → ``release_promote``
    (started); closed by time again (a new freeze) → waiting for the next opening; closed
    otherwise → failed with the reasons. Audit: ``calendar.queue_started`` /
    ``calendar.queue_failed`` / ``calendar.queue_rescheduled``. Returns the new status, or ""
    when another worker had it.
    """
    now = now or timezone.now()
    claimed = QueuedPromotion.objects.filter(
        pk=item_id, status=QueueStatus.WAITING, not_before__lte=now
    ).update(status=QueueStatus.STARTING)
    if not claimed:
        return ""
    item = QueuedPromotion.objects.select_related(
        "release__project", "environment", "requested_by"
    ).get(pk=item_id)
    try:
        with transaction.atomic():  # a savepoint: a refused promotion leaves nothing behind
            deployment = release_promote(
                release=item.release, environment=item.environment, actor=item.requested_by
            )
    except DomainError as exc:
        return _queue_not_started(item=item, error=exc)
    item.status = QueueStatus.STARTED
    item.deployment = deployment
    item.finished_at = timezone.now()
    item.save(update_fields=["status", "deployment", "finished_at"])
    audit_record(
        actor=None,
        action="calendar.queue_started",
        obj=item,
        project=item.release.project_id,
        release=item.release,
        from_state=QueueStatus.WAITING,
        to_state=QueueStatus.STARTED,
        data={"environment": item.environment.name, "deployment": deployment.pk},
    )
    publish(
        "calendar.queue_started",
        project=item.release.project,
        release=item.release,
        subject=f"{item.release.version} started in {item.environment.name} as queued",
        body=f"The window opened and the queued promotion of {item.release.version} "
        f"to {item.environment.name} started.",
        url=item.release.get_absolute_url(),
        recipients=[item.requested_by],
    )
    return QueueStatus.STARTED


def _queue_not_started(*, item: QueuedPromotion, error: DomainError) -> str:
    report = getattr(error, "report", None)
    closed = list(report.closed) if report is not None else []
    if closed and all(g.code == GATE_TIME for g in closed) and closed[0].next_opening:
        # Time again (a freeze was added meanwhile): wait for the next opening.
        QueuedPromotion.objects.filter(pk=item.pk).update(
            status=QueueStatus.WAITING, not_before=closed[0].next_opening
        )
        audit_record(
            actor=None,
            action="calendar.queue_rescheduled",
            obj=item,
            project=item.release.project_id,
            release=item.release,
            reason=closed[0].reason,
            data={"not_before": closed[0].next_opening.isoformat()},
        )
        return QueueStatus.WAITING
    message = error.message
    QueuedPromotion.objects.filter(pk=item.pk).update(
        status=QueueStatus.FAILED, outcome=message[:2000], finished_at=timezone.now()
    )
    audit_record(
        actor=None,
        action="calendar.queue_failed",
        obj=item,
        project=item.release.project_id,
        release=item.release,
        from_state=QueueStatus.WAITING,
        to_state=QueueStatus.FAILED,
        reason=message[:2000],
    )
    publish(
        "calendar.queue_failed",
        project=item.release.project,
        release=item.release,
        subject=f"Queued promotion of {item.release.version} to {item.environment.name} did not start",
        body=message,
        url=item.release.get_absolute_url(),
        recipients=[item.requested_by],
        urgent=True,
    )
    return QueueStatus.FAILED


def queue_run_due(*, now: datetime | None = None) -> int:
    """Start every due queued promotion; returns how many started."""
    started = 0
    for item_id in queue_due(now=now):
        if queue_start(item_id=item_id, now=now) == QueueStatus.STARTED:
            started += 1
    return started


__all__ = [
    "schedule_set",
    "schedule_reminders_send",
    "feed_token_create",
    "feed_token_revoke",
    "calendar_rule_remove",
    "freeze_create",
    "override_grant",
    "queue_add",
    "queue_cancel",
    "queue_run_due",
    "queue_start",
    "window_create",
]


# --- Feed tokens ----------------------------------------------------------------------------


def feed_token_hash(plain: str) -> str:
    return hashlib.sha256(plain.encode()).hexdigest()


@transaction.atomic
def feed_token_create(*, actor: Any) -> str:
    """A new secret feed URL token for ``actor``; earlier ones are revoked. Returns it once.

    People only. Audit: ``calendar.feed_token_created`` (never the token itself).
    """
    from projects.permissions import is_person

    if not is_person(actor):
        raise PermissionDenied("Only a person signed in may have a calendar feed.")
    now = timezone.now()
    FeedToken.objects.filter(user=actor, revoked_at__isnull=True).update(revoked_at=now)
    plain = "cal_" + secrets.token_urlsafe(32)
    token = FeedToken.objects.create(user=actor, token_hash=feed_token_hash(plain))
    audit_record(actor=actor, action="calendar.feed_token_created", obj=token)
    return plain


@transaction.atomic
def feed_token_revoke(*, actor: Any) -> int:
    """Revoke every feed URL of ``actor``. Audit: ``calendar.feed_token_revoked``."""
    count = FeedToken.objects.filter(user=actor, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if count:
        audit_record(
            actor=actor,
            action="calendar.feed_token_revoked",
            object_type="deploycalendar.feedtoken",
            object_id=actor.pk,
            object_repr=f"Calendar feeds of {actor}",
        )
    return count


def feed_user(*, plain: str) -> Any:
    """The person a feed token belongs to, or NotFound (a revoked or unknown URL)."""
    token = (
        FeedToken.objects.filter(token_hash=feed_token_hash(plain or ""), revoked_at__isnull=True)
        .select_related("user")
        .first()
    )
    if token is None or not token.user.is_active:
        raise NotFound("No such calendar feed.")
    return token.user


# --- Scheduling and the 24-hour reminder ----------------------------------------------------

# Two plans for one environment closer than this are a conflict (a deployment and its watch).
CONFLICT_SPAN = timedelta(hours=1)
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


# --- Freeze violations ----------------------------------------------------------------------


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
