"""The release page's feature-flag section: each rollout plan as a step bar with its buttons."""

from __future__ import annotations

from django.utils import timezone

from core.when import elapsed_percent
from flags.choices import PLAN_OPEN_STATES, FlagSource, PlanStatus, StepStatus
from flags.models import Flag
from flags.permissions import can_steer_plan
from flags.selectors import release_plans, watched_steps
from projects.models import Environment


def _time_left(step, now) -> str:
    if step is None or step.status != StepStatus.WATCHING or step.ends_at is None:
        return ""
    seconds = max(0, int((step.ends_at - now).total_seconds()))
    if seconds >= 86400:
        return f"{seconds // 86400} d {seconds % 86400 // 3600} h left"
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min left"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60} s left"
    return f"{seconds} s left"


def plan_view(plan, now, can_steer: bool, flag_items: bool = False) -> dict:
    steps = list(plan.steps.all())
    current = steps[plan.current_position] if 0 <= plan.current_position < len(steps) else None
    status = plan.status
    actions = []
    if can_steer:
        if status == PlanStatus.DRAFT:
            actions.append(("start", "Start", "primary"))
        if status in (PlanStatus.RUNNING, PlanStatus.WAITING):
            actions.append(
                ("advance", "Advance now", "primary" if status == PlanStatus.WAITING else "")
            )
            actions.append(("pause", "Pause", ""))
            if any(s.status == StepStatus.PENDING for s in steps[plan.current_position + 1 : -1]):
                actions.append(("skip", "Skip next step", ""))
        if status == PlanStatus.PAUSED:
            actions.append(("resume", "Resume", "primary"))
        if status in PLAN_OPEN_STATES:
            actions.append(("complete", "Complete (100 %)", ""))
        if status in (*PLAN_OPEN_STATES, PlanStatus.DRAFT):
            actions.append(("abort", "Abort (0 %)", "danger"))
        if status != PlanStatus.DRAFT and flag_items:
            actions.append(("tick-checklist", "Tick the checklist's flag items", ""))
    return {
        "plan": plan,
        "steps": steps,
        "current": current,
        "time_left": _time_left(current, now),
        "actions": actions,
        "live": status == PlanStatus.RUNNING,
    }


def _has_open_flag_items(release) -> bool:
    from checklists.choices import ItemStatus
    from checklists.models import Item
    from flags.services.checklist import FLAG_ITEM

    texts = Item.objects.filter(checklist__release=release, status=ItemStatus.OPEN).values_list(
        "text", flat=True
    )
    return any(FLAG_ITEM.search(text) for text in texts)


def flags_panel_context(release, request) -> dict:
    """Every plan of the release with its steps (two queries), plus what the new-plan form offers."""
    now = timezone.now()
    can_steer = can_steer_plan(request.user, release)
    open_flag_items = bool(can_steer) and _has_open_flag_items(release)
    plans = [plan_view(p, now, can_steer, open_flag_items) for p in release_plans(release)]
    environments = list(
        Environment.objects.filter(project_id=release.project_id, retired_at__isnull=True).order_by(
            "order"
        )
    )
    flags = list(
        Flag.objects.filter(project_id=release.project_id)
        .select_related("environment")
        .order_by("environment__order", "key")
    )
    return {
        "plans": plans,
        "can_steer": can_steer,
        "environments": environments,
        "flag_choices": flags,
        "sources": FlagSource.choices,
        "any_live": any(p["live"] for p in plans),
    }


def monitoring_section(*, user, now) -> dict | None:
    """The monitoring page's "Rollout steps being watched": each step's checks and time left."""
    rows = [
        {
            "step": step,
            "plan": step.plan,
            "url": f"{step.plan.release.get_absolute_url()}#flag-plan-{step.plan.pk}",
            "elapsed": elapsed_percent(step.started_at, step.ends_at, now),
            "time_left": _time_left(step, now),
        }
        for step in watched_steps(user=user)
    ]
    return {"template": "flags/partials/monitoring_section.html", "rows": rows}
