from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from audit.services import audit_record
from core.exceptions import Conflict, NotFound, PermissionDenied, RoleNotHeld, ValidationFailed
from projects.choices import DEFAULT_ENVIRONMENTS, Role, Tier, TokenScope
from projects.models import ApiToken, Environment, Membership, Project
from projects.permissions import can_admin_project, forget_roles, is_staff_admin, role_refusal
from projects.principals import is_token
from projects.tokens import token_generate

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
# /projects/new/ is the new-project page, so no project may be called that.
RESERVED_SLUGS = frozenset({"new"})
# Lengths from the model fields, checked here so that a long value is a message, not a 500.
PROJECT_NAME_MAX = 120
PROJECT_SLUG_MAX = 60
ENV_NAME_MAX = 40
ENV_DISPLAY_MAX = 80
REASON_MAX = 2000
# Environment orders are renumbered in two phases; the first parks every row above this
# offset so that no intermediate state collides with ``environment_unique_order``.
_ORDER_PARKING_OFFSET = 10000

# --- helpers ------------------------------------------------------------------

# AuditEvent.from_state/to_state hold 64 characters; the full values go in ``data``.
_STATE_MAX = 64


def _state(text: str) -> str:
    return text if len(text) <= _STATE_MAX else text[: _STATE_MAX - 1] + "…"


def _text(value: Any, field: str, max_length: int, *, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationFailed(f"{field} must be text.", details={"field": field})
    value = value.strip()
    if "\x00" in value:
        raise ValidationFailed(
            f"{field} contains a NUL character, which is not allowed.", details={"field": field}
        )
    if required and not value:
        raise ValidationFailed(f"{field} is required.", details={"field": field})
    if len(value) > max_length:
        raise ValidationFailed(
            f"{field} is longer than {max_length} characters.", details={"field": field}
        )
    return value


def _slug(value: Any, field: str, max_length: int) -> str:
    text = _text(value, field, max_length, required=True).lower()
    if not SLUG_RE.match(text):
        raise ValidationFailed(
            f"{field} '{text[:max_length]}' may contain only lower-case letters, digits and "
            "hyphens, and must start and end with a letter or digit.",
            details={"field": field},
        )
    return text


def _tier(value: Any) -> str:
    if not isinstance(value, str) or value not in Tier.values:
        shown = str(value)[:40]
        raise ValidationFailed(
            f"Unknown tier '{shown}'. Choose one of {', '.join(Tier.values)}.",
            details={"field": "tier"},
        )
    return value


def _require_manager(actor, project: Project, what: str) -> None:
    """Project admins and staff administrators manage a project; ``None`` is Shipcheck itself."""
    if actor is None:
        return
    if is_token(actor):
        raise PermissionDenied(
            "API tokens cannot manage projects; a project admin signs in to do it.",
            code="token_not_allowed",
        )
    if not can_admin_project(actor, project):
        raise RoleNotHeld(
            f"Only a project admin or a staff administrator may {what}.",
            details={"roles": [Role.ADMIN]},
        )


def _lock_project(project: Project) -> Project:
    return Project.objects.select_for_update().get(pk=project.pk)


def _refuse_if_archived(project: Project, what: str) -> None:
    if project.archived_at is not None:
        raise Conflict(
            f"The project {project.name} is archived: {what} is no longer possible.",
            code="project_archived",
        )


def _env_state(env: Environment) -> dict:
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


def _environment_specs(environments) -> list[dict]:
    """Check a new project's environment list: [{name, display_name, tier}, ...] in order."""
    if environments is None:
        return [
            {"name": name, "display_name": display, "tier": str(tier)}
            for name, display, tier in DEFAULT_ENVIRONMENTS
        ]
    if isinstance(environments, str | bytes | dict) or not isinstance(environments, Iterable):
        raise ValidationFailed(
            "Environments must be a list of {name, display_name, tier} entries, in promotion order.",
            details={"field": "environments"},
        )
    specs, seen = [], set()
    for index, entry in enumerate(list(environments), start=1):
        if not isinstance(entry, dict):
            raise ValidationFailed(
                f"Environment {index} must be an object with a name and a tier.",
                details={"field": "environments", "index": index},
            )
        unknown = sorted(set(map(str, entry)) - {"name", "display_name", "tier"})
        if unknown:
            raise ValidationFailed(
                f"Environment {index} has unknown keys: {', '.join(unknown)}.",
                details={"field": "environments", "index": index},
            )
        name = _slug(entry.get("name"), f"The name of environment {index}", ENV_NAME_MAX)
        if name in seen:
            raise ValidationFailed(
                f"The environment name '{name}' appears twice; each environment needs its own name.",
                details={"field": "environments", "index": index},
            )
        seen.add(name)
        display = _text(entry.get("display_name"), "Display name", ENV_DISPLAY_MAX)
        specs.append(
            {
                "name": name,
                "display_name": display or name.replace("-", " ").capitalize(),
                "tier": _tier(entry.get("tier")),
            }
        )
    if not specs:
        raise ValidationFailed(
            "A project needs at least one environment.", details={"field": "environments"}
        )
    return specs


# --- projects -------------------------------------------------------------------


@transaction.atomic
def project_create(
    *,
    name: str,
    slug: str | None = None,
    description: str = "",
    actor=None,
    admins: Iterable = (),
    environments: list[dict] | None = None,
) -> Project:
    """Create a project with its ordered environments (default dev → staging → production).

    Callers: staff administrators (``actor=None`` is Shipcheck itself: the demo, scripts).
    The creator, if a person, and each of ``admins`` become its project admins.
    Audit: ``project.created`` (with the environment list) and ``membership.granted`` per admin.
    """
    if actor is not None and not is_staff_admin(actor):
        raise PermissionDenied(
            "Only a staff administrator may create projects.",
            code="token_not_allowed" if is_token(actor) else None,
        )
    name = _text(name, "Name", PROJECT_NAME_MAX, required=True)
    if slug is None or (isinstance(slug, str) and not slug.strip()):
        slug = slugify(name)[:PROJECT_SLUG_MAX].strip("-")
        if not slug:
            raise ValidationFailed(
                "A project needs a name with letters or digits, or an explicit slug.",
                details={"field": "slug"},
            )
    slug = _slug(slug, "Slug", PROJECT_SLUG_MAX)
    if slug in RESERVED_SLUGS:
        raise ValidationFailed(
            f"The slug '{slug}' is taken by a Shipcheck page; choose another.",
            details={"field": "slug"},
        )
    description = _text(description, "Description", 10000)
    specs = _environment_specs(environments)
    if Project.objects.filter(slug=slug).exists():
        raise ValidationFailed(
            f"A project with the slug '{slug}' already exists; choose another slug.",
            details={"field": "slug"},
            code="duplicate_slug",
        )
    try:
        with transaction.atomic():
            project = Project.objects.create(name=name, slug=slug, description=description)
    except IntegrityError:  # a concurrent create won the race for the slug
        raise ValidationFailed(
            f"A project with the slug '{slug}' already exists; choose another slug.",
            details={"field": "slug"},
            code="duplicate_slug",
        ) from None
    for order, spec in enumerate(specs, start=1):
        Environment.objects.create(project=project, order=order, **spec)
    audit_record(
        actor=actor,
        action="project.created",
        obj=project,
        project=project,
        to_state="active",
        data={
            "slug": slug,
            "name": name,
            "environments": [
                {"name": s["name"], "display_name": s["display_name"], "tier": s["tier"]}
                for s in specs
            ],
        },
    )
    granted = set()
    for person in [actor, *admins]:
        if person is None or is_token(person) or not getattr(person, "pk", None):
            continue
        if person.pk in granted:
            continue
        granted.add(person.pk)
        membership = Membership.objects.create(project=project, user=person, role=Role.ADMIN)
        audit_record(
            actor=actor,
            action="membership.granted",
            obj=membership,
            project=project,
            to_state=Role.ADMIN,
            reason="Admin of the new project.",
            data={"user": person.get_username(), "role": Role.ADMIN},
        )
        forget_roles(person)
    return project


@transaction.atomic
def project_update(
    *, project: Project, actor, name: str | None = None, description: str | None = None
) -> Project:
    """Rename a project or change its description. The slug never changes (URLs and tokens use it).

    Callers: project admins, staff administrators. Audit: ``project.updated`` with each
    changed field's old and new value (nothing is written when nothing changed).
    """
    _require_manager(actor, project, "edit this project")
    project = _lock_project(project)
    changes: dict[str, list[str]] = {}
    if name is not None:
        name = _text(name, "Name", PROJECT_NAME_MAX, required=True)
        if name != project.name:
            changes["name"] = [project.name, name]
            project.name = name
    if description is not None:
        description = _text(description, "Description", 10000)
        if description != project.description:
            changes["description"] = [project.description, description]
            project.description = description
    if changes:
        project.save(update_fields=list(changes))
        audit_record(
            actor=actor,
            action="project.updated",
            obj=project,
            project=project,
            from_state=_state(changes.get("name", [project.name])[0]),
            to_state=_state(project.name),
            data={"changes": changes},
        )
    return project


@transaction.atomic
def project_archive(*, project: Project, actor, reason: str = "") -> Project:
    """Archive a project: hidden from lists, no new releases or promotions; history is kept.

    Callers: project admins, staff administrators. Audit: ``project.archived``
    (active → archived, with the reason).
    """
    _require_manager(actor, project, "archive this project")
    reason = _text(reason, "Reason", REASON_MAX)
    project = _lock_project(project)
    if project.archived_at is not None:
        raise Conflict(f"The project {project.name} is already archived.", code="project_archived")
    project.archived_at = timezone.now()
    project.archived_reason = reason
    project.save(update_fields=["archived_at", "archived_reason"])
    audit_record(
        actor=actor,
        action="project.archived",
        obj=project,
        project=project,
        from_state="active",
        to_state="archived",
        reason=reason,
    )
    return project


# --- environments -----------------------------------------------------------------


@transaction.atomic
def environment_create(
    *,
    project: Project,
    name: str,
    tier: str,
    actor,
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
    *, environment: Environment, actor, display_name: str | None = None, tier: str | None = None
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
def environment_reorder(*, project: Project, names, actor) -> list[Environment]:
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
def environment_retire(*, environment: Environment, actor, reason: str = "") -> Environment:
    """Retire an environment: out of the promotion order; its deployments and history stay.

    Refused while a deployment is running in it, and for the last active environment.
    Callers: project admins, staff administrators. Audit: ``environment.retired``.
    """
    from releases.choices import DEPLOYMENT_ACTIVE_STATES
    from releases.models import Deployment

    project = environment.project
    _require_manager(actor, project, "change this project's environments")
    reason = _text(reason, "Reason", REASON_MAX)
    project = _lock_project(project)
    _refuse_if_archived(project, "changing its environments")
    env = Environment.objects.select_for_update().get(pk=environment.pk)
    if env.retired_at is not None:
        raise Conflict(f"{env} is already retired.", code="retired")
    running = (
        Deployment.objects.filter(environment=env, status__in=DEPLOYMENT_ACTIVE_STATES)
        .select_related("release")
        .first()
    )
    if running is not None:
        raise Conflict(
            f"A deployment of release {running.release.version} is "
            f"{running.get_status_display().lower()} in {env}; finish it before retiring {env}.",
            code="deployment_running",
        )
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


# --- memberships -------------------------------------------------------------------


def _check_role(role: Any) -> str:
    if not isinstance(role, str) or role not in Role.values:
        raise ValidationFailed(
            f"Unknown role '{str(role)[:40]}'. Known roles: {', '.join(Role.values)}.",
            details={"field": "role"},
        )
    return role


@transaction.atomic
def membership_grant(
    *, project: Project, user, role: str, actor=None, reason: str = ""
) -> Membership:
    """Give ``user`` a role in ``project``; holding it already changes nothing.

    Callers: project admins, staff administrators (``actor=None``: Shipcheck itself).
    Audit: ``membership.granted`` (who gave whom which role, and why).
    """
    role = _check_role(role)
    _require_manager(actor, project, "change who holds which role")
    reason = _text(reason, "Reason", REASON_MAX)
    if user is None or not isinstance(user, get_user_model()) or not user.pk:
        raise NotFound("No such person.")
    if not user.is_active:
        raise ValidationFailed(
            f"{user.get_username()} is deactivated and cannot be given a role.",
            details={"field": "user"},
        )
    project = _lock_project(project)
    membership, created = Membership.objects.get_or_create(project=project, user=user, role=role)
    if created:
        audit_record(
            actor=actor,
            action="membership.granted",
            obj=membership,
            project=project,
            from_state="",
            to_state=role,
            reason=reason,
            data={"user": user.get_username(), "role": role},
        )
    forget_roles(user)
    if actor is not None:
        forget_roles(actor)
    return membership


@transaction.atomic
def membership_revoke(*, project: Project, user, role: str, actor=None, reason: str = "") -> None:
    """Take a role away from ``user``; not holding it changes nothing.

    The last project admin's admin role cannot be taken away (a staff administrator
    may still manage the project, but the team needs someone of its own).
    Callers: project admins, staff administrators. Audit: ``membership.revoked``.
    """
    role = _check_role(role)
    _require_manager(actor, project, "change who holds which role")
    reason = _text(reason, "Reason", REASON_MAX)
    project = _lock_project(project)
    membership = (
        Membership.objects.select_for_update().filter(project=project, user=user, role=role).first()
    )
    if membership is None:
        return
    if (
        role == Role.ADMIN
        and not Membership.objects.filter(project=project, role=Role.ADMIN)
        .exclude(pk=membership.pk)
        .exists()
    ):
        raise Conflict(
            f"{user.get_username()} is the last project admin of {project.name}; "
            "make someone else an admin first.",
            code="last_admin",
        )
    membership.delete()
    audit_record(
        actor=actor,
        action="membership.revoked",
        object_type="projects.membership",
        object_id=f"{project.pk}:{user.pk}:{role}",
        object_repr=f"{user.get_username()} · {Role(role).label} · {project}",
        project=project,
        from_state=role,
        to_state="",
        reason=reason,
        data={"user": user.get_username(), "role": role},
    )
    forget_roles(user)
    if actor is not None:
        forget_roles(actor)


# --- API tokens --------------------------------------------------------------------


@transaction.atomic
def api_token_create(
    *, project: Project, name: str, scopes: Iterable[str], actor, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token; return it with the plain secret, which is never stored or shown again.

    Audit: ``api_token.created`` (without the secret).
    """
    if actor is not None and not can_admin_project(actor, project):
        raise role_refusal(Role.ADMIN, to="create API tokens")
    scopes = sorted(set(scopes))
    unknown = [s for s in scopes if s not in TokenScope.values]
    if unknown or not scopes:
        raise ValidationFailed(
            f"Choose one or more scopes among {', '.join(TokenScope.values)}"
            + (f"; unknown: {', '.join(unknown)}." if unknown else ".")
        )
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("A token needs a name that says where it is used.")
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationFailed("The expiry must be in the future.")
    plain, prefix, key_hash = token_generate()
    token = ApiToken.objects.create(
        project=project,
        name=name[:80],
        prefix=prefix,
        key_hash=key_hash,
        scopes=scopes,
        created_by=actor if getattr(actor, "pk", None) else None,
        expires_at=expires_at,
    )
    audit_record(
        actor=actor,
        action="api_token.created",
        obj=token,
        project=project,
        to_state="active",
        data={
            "scopes": scopes,
            "prefix": prefix,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return token, plain


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor) -> ApiToken:
    """Revoke a token at once. Audit: ``api_token.revoked``."""
    if not can_admin_project(actor, token.project_id):
        raise role_refusal(Role.ADMIN, to="revoke API tokens")
    updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    token.refresh_from_db()
    if updated:
        audit_record(
            actor=actor,
            action="api_token.revoked",
            obj=token,
            project=token.project_id,
            from_state="active",
            to_state="revoked",
        )
    return token


# --- first run -------------------------------------------------------------------------

# Any constant works; it names the advisory lock that lets only one first administrator in.
_FIRST_RUN_LOCK_KEY = 0x5C5E7A9


@transaction.atomic
def first_admin_create(*, username: str, password: str, email: str = ""):
    """Create the first administrator (Django staff and superuser) of an empty instance.

    Only while nobody has an account: a second call, or a race lost to another first
    run, is refused. The password must pass the configured password validators.
    Audit: ``user.first_admin_created`` (by Shipcheck itself).
    """
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError as DjangoValidationError
    from django.db import connection

    User = get_user_model()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_FIRST_RUN_LOCK_KEY])
    if User.objects.exists():
        raise Conflict(
            "This Shipcheck already has people; the first administrator exists.",
            code="already_set_up",
        )
    username = _text(username, "Username", 150, required=True)
    email = _text(email, "E-mail", 254)
    if not isinstance(password, str) or not password:
        raise ValidationFailed("Choose a password.", details={"field": "password"})
    user = User(username=username, email=email, is_staff=True, is_superuser=True)
    try:
        user.full_clean(exclude=["password"])
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise ValidationFailed(" ".join(exc.messages), details={"field": "password"}) from None
    user.set_password(password)
    user.save()
    audit_record(
        actor=None,
        action="user.first_admin_created",
        obj=user,
        object_repr=user.get_username(),
        to_state="staff",
        data={"user": user.get_username()},
    )
    return user
