"""Projects: create one with its environments, rename it, archive it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from audit.services import audit_record
from core.exceptions import Conflict, PermissionDenied, ValidationFailed
from projects.choices import DEFAULT_ENVIRONMENTS, Role
from projects.models import Environment, Membership, Project
from projects.permissions import forget_roles, is_staff_admin
from projects.principals import Actor, Person, is_token
from projects.services._common import (
    ENV_DISPLAY_MAX,
    ENV_NAME_MAX,
    PROJECT_NAME_MAX,
    PROJECT_SLUG_MAX,
    REASON_MAX,
    RESERVED_SLUGS,
    _lock_project,
    _require_manager,
    _slug,
    _state,
    _text,
    _tier,
)


def _environment_specs(environments: Any) -> list[dict[str, str]]:
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


@transaction.atomic
def project_create(
    *,
    name: str,
    slug: str | None = None,
    description: str = "",
    actor: Actor = None,
    admins: Iterable[Person] = (),
    environments: list[dict[str, Any]] | None = None,
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
        # Not a token (skipped above): a person.
        membership = Membership.objects.create(
            project=project, user=cast(Person, person), role=Role.ADMIN
        )
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
    *, project: Project, actor: Actor, name: str | None = None, description: str | None = None
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
def project_archive(*, project: Project, actor: Actor, reason: str = "") -> Project:
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
