"""The emergency path and its post-implementation review.

An emergency approval (``approval_decide`` with the emergency kind) lets a hotfix
skip staging; ``emergency_effects`` makes that loud and opens the review, which
``emergency_review_complete`` records and ``emergency_reviews_overdue_notify``
chases once it is late.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from approvals.choices import (
    EMERGENCY_REVIEW_DUE_HOURS,
)
from approvals.facts import person_name
from approvals.links import release_url
from approvals.models import (
    Approval,
    EmergencyReview,
)
from approvals.permissions import (
    can_complete_review,
)
from approvals.services._common import (
    clean_text,
    project_people,
)
from audit.services import audit_record
from core.events import publish
from core.exceptions import NotFound, TransitionNotAllowed, ValidationFailed
from core.notifications import notification_send
from core.when import format_when
from projects.choices import Role
from projects.permissions import (
    can_view_project,
    role_refusal,
)
from projects.principals import Caller
from releases.models import Release


def emergency_effects(
    *, release: Release, approval: Approval, actor: Caller, now: datetime
) -> None:
    """Flag ``release`` as an emergency, open its review and tell the whole project at once.

    Runs inside ``approval_decide``'s transaction (the release row is locked).
    Audit: ``release.marked_emergency`` (once), ``emergency_review.opened`` (once).
    """
    environment = approval.environment
    assert environment is not None  # an emergency approval always names production
    if not release.is_emergency:
        # The releases app owns the field; a queryset update leaves its other fields alone.
        Release.objects.filter(pk=release.pk).update(is_emergency=True)
        release.is_emergency = True
        audit_record(
            actor=actor,
            action="release.marked_emergency",
            obj=release,
            project=release.project_id,
            release=release,
            from_state="",
            to_state="emergency",
            reason=approval.comment,
            data={"approval": approval.pk, "environment": environment.name},
        )
    review, created = EmergencyReview.objects.get_or_create(
        release=release,
        defaults={
            "approval": approval,
            "due_at": now + timedelta(hours=EMERGENCY_REVIEW_DUE_HOURS),
        },
    )
    if created:
        audit_record(
            actor=actor,
            action="emergency_review.opened",
            obj=review,
            project=release.project_id,
            release=release,
            to_state="due",
            data={"due_at": review.due_at.isoformat()},
        )
    publish(
        "approvals.emergency",
        release=release,
        data={"environment": environment.name},
        recipients=project_people(release),
        subject=f"EMERGENCY: {release.version} may go to {environment} without staging",
        body=f"{person_name(actor)} gave an emergency approval: {approval.comment}\n\n"
        f"A post-implementation review is due by {format_when(review.due_at)}.",
        url=release_url(release),
        project=release.project,
        urgent=True,
    )


def review_authorize(*, review: EmergencyReview, actor: Caller) -> None:
    """Raise unless ``actor`` may record ``review`` (views ask before reading the form)."""
    if not can_view_project(actor, review.release.project_id):
        raise NotFound("No such review.")
    if not can_complete_review(actor, review.release):
        raise role_refusal(
            Role.RELEASE_MANAGER,
            Role.ADMIN,
            Role.EMERGENCY_APPROVER,
            to="record the post-implementation review",
        )


@transaction.atomic
def emergency_review_complete(
    *, review: EmergencyReview, actor: Caller, summary: str
) -> EmergencyReview:
    """Record the post-implementation review of an emergency release.

    Callers: the release manager, release managers, admins, emergency
    approvers (people). Audit: ``emergency_review.completed``.
    """
    release = review.release
    review_authorize(review=review, actor=actor)
    summary = clean_text(summary, "The summary", 20000)
    if not summary:
        raise ValidationFailed("Write what the review found: the summary is required.")
    review = EmergencyReview.objects.select_for_update().get(pk=review.pk)
    if review.completed_at is not None:
        raise TransitionNotAllowed("This review is already recorded.")
    now = timezone.now()
    overdue = review.due_at <= now
    review.summary, review.completed_at = summary, now
    review.completed_by = cast(User, actor)  # review_authorize lets only people through
    review.save(update_fields=["summary", "completed_at", "completed_by"])
    audit_record(
        actor=actor,
        action="emergency_review.completed",
        obj=review,
        project=release.project_id,
        release=release,
        from_state="overdue" if overdue else "due",
        to_state="done",
        reason=summary,
        data={"due_at": review.due_at.isoformat(), "late": overdue},
    )
    return review


def emergency_reviews_overdue_notify(*, now: datetime | None = None) -> int:
    """Tell the people responsible about each review that just became overdue; once per review.

    Run by the periodic task. Each review is claimed with a conditional
    UPDATE (``overdue_notified_at IS NULL``) so two workers never both send.
    Audit: ``emergency_review.overdue``.
    """
    now = now or timezone.now()
    sent = 0
    candidates = EmergencyReview.objects.filter(
        completed_at__isnull=True, overdue_notified_at__isnull=True, due_at__lte=now
    ).values_list("pk", flat=True)
    for pk in list(candidates[:500]):
        with transaction.atomic():
            claimed = EmergencyReview.objects.filter(
                pk=pk, overdue_notified_at__isnull=True, completed_at__isnull=True
            ).update(overdue_notified_at=now)
            if not claimed:
                continue
            review = EmergencyReview.objects.select_related(
                "release", "release__project", "release__release_manager"
            ).get(pk=pk)
            release = review.release
            audit_record(
                actor=None,
                action="emergency_review.overdue",
                obj=review,
                project=release.project_id,
                release=release,
                from_state="due",
                to_state="overdue",
                data={"due_at": review.due_at.isoformat()},
            )
            people = [
                release.release_manager,
                *project_people(release, Role.EMERGENCY_APPROVER, Role.ADMIN),
            ]
            notification_send(
                recipients=people,
                urgent=True,
                project=release.project,
                url=release_url(release),
                subject=f"Overdue: the post-implementation review of emergency release {release.version}",
                body=f"It was due {format_when(review.due_at)}.",
            )
            sent += 1
    return sent
