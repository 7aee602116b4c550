"""The promotion queue: promotions held back only by time start by themselves."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from core.events import publish
from core.exceptions import Conflict, DomainError, NotFound, PermissionDenied
from core.transitions import transition_check
from deploycalendar.choices import QUEUE_TRANSITIONS, QueueStatus
from deploycalendar.models import (
    QueuedPromotion,
)
from deploycalendar.permissions import (
    can_queue,
)
from deploycalendar.services.windows import GATE_TIME
from projects.models import Environment
from projects.permissions import can_view_project
from releases.gates import gate_evaluate
from releases.models import Release
from releases.services import release_promote


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
