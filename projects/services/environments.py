"""Environments: add, change, reorder and retire the steps of a project's promotion order."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from core.exceptions import Conflict, ValidationFailed
from projects.models import Environment, Project
from projects.principals import Actor
from projects.registry import environment_retire_checks
from projects.services._common import (
    _ORDER_PARKING_OFFSET,
    ENV_DISPLAY_MAX,
    ENV_NAME_MAX,
    REASON_MAX,
    _lock_project,
    _refuse_if_archived,
    _require_manager,
    _slug,
    _state,
    _text,
    _tier,
)


def _env_state(env: Environment) -> dict[str, Any]:
    return {
        "name": env.name,
        "display_name": env.display_name,
        "tier": env.tier,
        "position": env.order,
        "retired": env.retired_at is not None,
    }


def _active_names(project: Project) -> list[str]:
    return list(
        Environment.objects.filter(project=project, retired_at__isnull=True)
        .order_by("order")
        .values_list("name", flat=True)
    )


def _renumber(project: Project, active_names: list[str]) -> None:
    """Give the active environments the orders 1..n in ``active_names`` order, retired ones after.

    Two phases inside the caller's transaction: first every row is parked above
    ``_ORDER_PARKING_OFFSET``, then each takes its final place, so that the unique
    (project, order) constraint holds after every single UPDATE.
    """
    envs = list(Environment.objects.select_for_update().filter(project=project).order_by("order"))
    by_name = {e.name: e for e in envs}
    retired = [e for e in envs if e.retired_at is not None]
    final = [by_name[name] for name in active_names] + retired
    for index, env in enumerate(envs, start=1):
        Environment.objects.filter(pk=env.pk).update(order=_ORDER_PARKING_OFFSET + index)
    for index, env in enumerate(final, start=1):
        Environment.objects.filter(pk=env.pk).update(order=index)
        env.order = index


@transaction.atomic
def environment_create(
    *,
    project: Project,
    name: str,
    tier: str,
    actor: Actor,
    display_name: str = "",
    position: int | None = None,
) -> Environment:
    """Add an environment to a project's promotion order at ``position`` (1-based; None = last).

    Callers: project admins, staff administrators. Audit: ``environment.created`` with the
    promotion order before and after.
    """
    _require_manager(actor, project, "change this project's environments")
    project = _lock_project(project)
    _refuse_if_archived(project, "changing its environments")
    name = _slug(name, "Environment name", ENV_NAME_MAX)
    tier = _tier(tier)
    display_name = _text(display_name, "Display name", ENV_DISPLAY_MAX)
    existing = Environment.objects.filter(project=project, name=name).first()
    if existing is not None:
        retired = " (a retired one keeps its name)" if existing.retired_at else ""
        raise ValidationFailed(
            f"{project.name} already has an environment named '{name}'{retired}; "
            "choose another name.",
            details={"field": "name"},
            code="duplicate_name",
        )
    before = _active_names(project)
    if position is not None:
        if isinstance(position, bool) or not isinstance(position, int):
            raise ValidationFailed(
                "The position must be a whole number.", details={"field": "position"}
            )
        if not 1 <= position <= len(before) + 1:
            raise ValidationFailed(
                f"The position must be between 1 and {len(before) + 1}.",
                details={"field": "position"},
            )
    index = len(before) if position is None else position - 1
    after = [*before[:index], name, *before[index:]]
    env = Environment.objects.create(
        project=project,
        name=name,
        display_name=display_name or name.replace("-", " ").capitalize(),
        tier=tier,
        order=_ORDER_PARKING_OFFSET * 2,
    )
    _renumber(project, after)
    env.refresh_from_db()
    audit_record(
        actor=actor,
        action="environment.created",
        obj=env,
        project=project,
        to_state=env.tier,
        data={"environment": _env_state(env), "order_before": before, "order_after": after},
    )
    return env


@transaction.atomic
def environment_update(
    *,
    environment: Environment,
    actor: Actor,
    display_name: str | None = None,
    tier: str | None = None,
) -> Environment:
    """Change an environment's display name or tier (its name, used in URLs and the API, stays).

    Callers: project admins, staff administrators. Audit: ``environment.updated`` (from/to tier,
    each changed field's old and new value; nothing when nothing changed).
    """
    project = environment.project
    _require_manager(actor, project, "change this project's environments")
    project = _lock_project(project)
    _refuse_if_archived(project, "changing its environments")
    env = Environment.objects.select_for_update().get(pk=environment.pk)
    if env.retired_at is not None:
        raise Conflict(f"{env} is retired and can no longer be changed.", code="retired")
    changes: dict[str, list[str]] = {}
    if display_name is not None:
        display_name = _text(display_name, "Display name", ENV_DISPLAY_MAX, required=True)
        if display_name != env.display_name:
            changes["display_name"] = [env.display_name, display_name]
            env.display_name = display_name
    old_tier = env.tier
    if tier is not None:
        tier = _tier(tier)
        if tier != env.tier:
            changes["tier"] = [env.tier, tier]
            env.tier = tier
    if changes:
        env.save(update_fields=list(changes))
        audit_record(
            actor=actor,
            action="environment.updated",
            obj=env,
            project=project,
            from_state=old_tier,
            to_state=env.tier,
            data={"environment": env.name, "changes": changes},
        )
    return env


@transaction.atomic
def environment_reorder(
    *, project: Project, names: Iterable[str], actor: Actor
) -> list[Environment]:
    """Put the active environments in a new promotion order.

    ``names`` must name every active environment exactly once. Callers: project admins,
    staff administrators. Audit: ``environment.reordered`` (old order → new order).
    Returns the active environments in their new order.
    """
    _require_manager(actor, project, "change this project's environments")
    project = _lock_project(project)
    _refuse_if_archived(project, "changing its environments")
    if isinstance(names, str | bytes | dict) or not isinstance(names, Iterable):
        raise ValidationFailed(
            "The order must be a list of environment names.", details={"field": "names"}
        )
    names = list(names)
    if not all(isinstance(n, str) for n in names):
        raise ValidationFailed(
            "The order must be a list of environment names.", details={"field": "names"}
        )
    before = _active_names(project)
    retired = set(
        Environment.objects.filter(project=project, retired_at__isnull=False).values_list(
            "name", flat=True
        )
    )
    repeated = sorted({n for n in names if names.count(n) > 1})
    unknown = [n[:40] for n in names if n not in before and n not in retired]
    placed_retired = [n for n in names if n in retired]
    missing = [n for n in before if n not in names]
    problems = []
    if repeated:
        problems.append(f"named more than once: {', '.join(repeated)}")
    if unknown:
        problems.append(f"not environments of this project: {', '.join(unknown)}")
    if placed_retired:
        problems.append(f"retired, so not in the promotion order: {', '.join(placed_retired)}")
    if missing:
        problems.append(f"missing: {', '.join(missing)}")
    if problems:
        raise ValidationFailed(
            "The new order must name each active environment exactly once ("
            + ", ".join(before)
            + "). "
            + "; ".join(p[0].upper() + p[1:] for p in problems)
            + ".",
            details={
                "field": "names",
                "active": before,
                "repeated": repeated,
                "unknown": unknown,
                "retired": placed_retired,
                "missing": missing,
            },
        )
    if names != before:
        _renumber(project, names)
        audit_record(
            actor=actor,
            action="environment.reordered",
            object_type="projects.project",
            object_id=project.pk,
            object_repr=str(project),
            project=project,
            from_state=_state(" → ".join(before)),
            to_state=_state(" → ".join(names)),
            data={"order_before": before, "order_after": names},
        )
    return list(
        Environment.objects.filter(project=project, retired_at__isnull=True).order_by("order")
    )


@transaction.atomic
def environment_retire(*, environment: Environment, actor: Actor, reason: str = "") -> Environment:
    """Retire an environment: out of the promotion order; its deployments and history stay.

    Refused while a deployment is running in it (the check ``releases`` registers in
    ``projects.registry``), and for the last active environment.
    Callers: project admins, staff administrators. Audit: ``environment.retired``.
    """
    project = environment.project
    _require_manager(actor, project, "change this project's environments")
    reason = _text(reason, "Reason", REASON_MAX)
    project = _lock_project(project)
    _refuse_if_archived(project, "changing its environments")
    env = Environment.objects.select_for_update().get(pk=environment.pk)
    if env.retired_at is not None:
        raise Conflict(f"{env} is already retired.", code="retired")
    # The apps above may refuse (releases: a deployment is running in it; projects.registry).
    for check in environment_retire_checks():
        check(env)
    before = _active_names(project)
    if before == [env.name]:
        raise Conflict(
            f"{env} is the only active environment of {project.name}; add another one first.",
            code="last_environment",
        )
    env.retired_at = timezone.now()
    env.retired_reason = reason
    env.save(update_fields=["retired_at", "retired_reason"])
    # Its place number stays taken (the others keep theirs): the active order is unchanged
    # apart from the gap, and objects already loaded elsewhere still compare correctly.
    after = [n for n in before if n != env.name]
    audit_record(
        actor=actor,
        action="environment.retired",
        obj=env,
        project=project,
        from_state="active",
        to_state="retired",
        reason=reason,
        data={"environment": env.name, "order_before": before, "order_after": after},
    )
    return env
