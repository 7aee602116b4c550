"""The calendar section of the release page and its urgent banner (registered in ``ready``)."""

from __future__ import annotations

from django.utils import timezone

from deploycalendar.models import FreezeViolation, Override, ScheduledDeployment
from deploycalendar.permissions import can_override, can_queue
from deploycalendar.selectors import moment_text, queue_for, time_answer, time_reason
from projects.permissions import can_manage_release
from releases.choices import RELEASE_CLOSED_STATES
from releases.registry import Urgent, urgent_source


def calendar_panel_context(release, request, *, error: str = "", notice: str = "") -> dict:
    """Overrides, the queue and, per environment the time holds back, why and until when.

    Three queries for overrides, plans and the queue, two per environment of the pipeline.
    """
    user = request.user
    now = timezone.now()
    overrides = list(
        Override.objects.filter(release=release)
        .select_related("environment", "granted_by")
        .order_by("created_at")
    )
    queue = queue_for(release=release)
    waiting = {q.environment_id for q in queue if q.status in ("waiting", "starting")}
    overridden = {o.environment_id for o in overrides}
    environments = getattr(release, "pipeline_environments", None) or list(
        release.project.environments.filter(retired_at__isnull=True).order_by("order")
    )
    release_open = release.status not in RELEASE_CLOSED_STATES
    held = []
    for env in environments:
        answer = time_answer(release=release, environment=env, instant=now)
        if not answer.applies or answer.verdict.allowed:
            continue
        opening = answer.verdict.next_opening
        zone = answer.freezes[0].time_zone if answer.freezes else answer.windows[0].time_zone
        held.append(
            {
                "environment": env,
                "reason": time_reason(answer=answer, environment=env, release=release),
                "opens": moment_text(opening, zone) if opening else "",
                "overridden": env.pk in overridden,
                "queued": env.pk in waiting,
            }
        )
    plans = list(
        ScheduledDeployment.objects.filter(release=release)
        .select_related("environment")
        .order_by("planned_at")
    )
    return {
        "calendar_plans": plans,
        "calendar_environments": environments,
        "calendar_may_plan": release_open and can_manage_release(user, release),
        "calendar_overrides": overrides,
        "calendar_queue": queue,
        "calendar_held": held,
        "calendar_may_queue": release_open and can_queue(user, release),
        "calendar_may_override": release_open and can_override(user, release),
        "panel_error": error,
        "panel_notice": notice,
    }


@urgent_source(order=80)
def overridden_freezes(*, user, releases) -> list[Urgent]:
    """Freeze violations (danger) and overrides (warning) at the top of the release page: two queries."""
    open_ids = [r.pk for r in releases if r.status not in RELEASE_CLOSED_STATES]
    by_pk = {r.pk: r for r in releases}
    items: list[Urgent] = []
    for violation in (
        FreezeViolation.objects.filter(release_id__in=[r.pk for r in releases])
        .select_related("environment")
        .order_by("reported_at")
    ):
        items.append(
            Urgent(
                release=by_pk[violation.release_id],
                title=f"Freeze violation in {violation.environment.name}",
                detail=f"{violation.reported_by} reported a deployment during the freeze "
                f"'{violation.freeze_name}' ({violation.reported_at:%a %-d %b %H:%M} UTC).",
                tone="danger",
            )
        )
    for override in (
        Override.objects.filter(release_id__in=open_ids)
        .select_related("environment", "granted_by")
        .order_by("created_at")
    ):
        items.append(
            Urgent(
                release=by_pk[override.release_id],
                title=f"Freeze overridden for {override.environment.name}",
                detail=f"{override.granted_by} let this release through the deploy windows and "
                f"freezes of {override.environment.name}: {override.reason}",
                tone="warning",
            )
        )
    return items
