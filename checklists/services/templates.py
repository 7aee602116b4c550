"""Writes to checklist templates: creating and describing them, starting, discarding and publishing drafts.

A template's published versions never change. An admin edits the one draft
(started as a copy of the newest published version, see
``checklists.services.template_drafts``) and publishes it as the next version;
releases already under way keep the copy they made. The shipped templates are
installed by ``checklists.template_content.shipped_templates_install``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify

from audit.services import audit_record
from checklists.choices import VersionStatus
from checklists.exceptions import TemplateNotEditable
from checklists.models import ChecklistTemplate, TemplateVersion
from checklists.permissions import can_edit_templates
from checklists.services.common import person_or_none
from checklists.template_content import content_hash, content_write, version_content
from core.exceptions import NotFound, ValidationFailed
from projects.choices import Role
from projects.models import Project
from projects.permissions import can_view_project, role_refusal
from projects.principals import Caller
from releases.choices import ReleaseType

STEP_FIELDS = ("title", "description", "expected_output", "phase")
ITEM_FIELDS = ("text", "required", "role", "evidence_required")


def template_text(value: object, field: str, max_length: int, *, required: bool = False) -> str:
    """``value`` as stripped text for a template field, refused (400) when it does not fit."""
    value = "" if value is None else str(value)
    if "\x00" in value:
        raise ValidationFailed(f"{field} contains a NUL character, which is not allowed.")
    value = value.strip()
    key = field.lower().replace(" ", "_")
    if len(value) > max_length:
        raise ValidationFailed(
            f"{field} is longer than {max_length} characters.",
            details={key: [f"At most {max_length} characters."]},
        )
    if required and not value:
        raise ValidationFailed(f"{field} is required.", details={key: ["This field is required."]})
    return value


def _release_types(values: Iterable[str] | None) -> list[str]:
    values = list(values or [])
    unknown = [str(v)[:20] for v in values if v not in ReleaseType.values]
    if unknown:
        raise ValidationFailed(
            f"Unknown release type {', '.join(unknown)}. Known: {', '.join(ReleaseType.values)}.",
            details={"release_types": ["Choose among the release types."]},
        )
    return sorted(set(values), key=ReleaseType.values.index)


def template_admin_check(actor: Caller, project: Project | None) -> None:
    """Refuse edits of shipped templates (409), and of a project's by anyone but its admins."""
    if project is None:
        raise TemplateNotEditable(
            "Shipped templates cannot be edited; copy one into your project first."
        )
    template_edit_authorize(project=project, actor=actor)


def template_edit_authorize(*, project: Project | None, actor: Caller) -> None:
    """Raise unless ``actor`` may edit ``project``'s templates (views ask before reading a form).

    Shipped templates (no project) pass here; every edit service refuses them itself.
    """
    if project is None:
        return
    if not can_view_project(actor, project):
        raise NotFound("No such checklist template.")
    if not can_edit_templates(actor, project):
        raise role_refusal(Role.ADMIN, to="edit this project's checklist templates")


def _unique_slug(project: Project, name: str) -> str:
    base = slugify(name)[:50] or "checklist"
    taken = set(
        ChecklistTemplate.objects.filter(project=project, slug__startswith=base).values_list(
            "slug", flat=True
        )
    )
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def _claim_release_types(template: ChecklistTemplate, types: list[str]) -> list[str]:
    """One template per release type per project: take ``types`` away from the project's others."""
    moved = []
    for other in (
        ChecklistTemplate.objects.select_for_update()
        # Only a project's own templates claim release types (shipped ones are never edited).
        .filter(project_id=cast(int, template.project_id))
        .exclude(pk=template.pk)
    ):
        kept = [t for t in (other.release_types or []) if t not in types]
        if kept != (other.release_types or []):
            moved.append(other.name)
            other.release_types = kept
            other.save(update_fields=["release_types", "updated_at"])
    return moved


@transaction.atomic
def template_create(
    *,
    project: Project,
    actor: Caller,
    name: str,
    description: str = "",
    release_types: Iterable[str] = (),
    copy_from: TemplateVersion | None = None,
) -> ChecklistTemplate:
    """Create a project template with a draft version 1 (empty, or a copy of ``copy_from``).

    Callers: project admins. Audit: ``checklist_template.created``.
    """
    template_admin_check(actor, project)
    name = template_text(name, "Name", 120, required=True)
    description = template_text(description, "Description", 5000)
    types = _release_types(release_types)
    if copy_from is not None and (copy_from.template.project_id not in (None, project.pk)):
        raise NotFound("No such template to copy.")
    template = ChecklistTemplate.objects.create(
        project=project,
        slug=_unique_slug(project, name),
        name=name,
        description=description,
        release_types=types,
        created_by=person_or_none(actor),
    )
    moved = _claim_release_types(template, types) if types else []
    draft = TemplateVersion.objects.create(
        template=template, number=1, status=VersionStatus.DRAFT, created_by=person_or_none(actor)
    )
    if copy_from is not None:
        content_write(draft, version_content(copy_from))
    audit_record(
        actor=actor,
        action="checklist_template.created",
        obj=template,
        project=project,
        to_state=VersionStatus.DRAFT,
        data={
            "name": name,
            "release_types": types,
            "taken_from": moved,
            "copied_from": str(copy_from) if copy_from else None,
        },
    )
    return template


@transaction.atomic
def template_update(
    *,
    template: ChecklistTemplate,
    actor: Caller,
    name: str | None = None,
    description: str | None = None,
    release_types: Iterable[str] | None = None,
) -> ChecklistTemplate:
    """Rename a template, describe it, or choose the release types it is the default for.

    These are not versioned: they say how the template is used, not what it
    asks. Callers: project admins. Audit: ``checklist_template.updated``.
    """
    template_admin_check(actor, template.project)
    template = ChecklistTemplate.objects.select_for_update().get(pk=template.pk)
    changes: dict[str, str | list[str]] = {}
    if name is not None:
        changes["name"] = template_text(name, "Name", 120, required=True)
    if description is not None:
        changes["description"] = template_text(description, "Description", 5000)
    if release_types is not None:
        changes["release_types"] = _release_types(release_types)
    diff = {k: [getattr(template, k), v] for k, v in changes.items() if getattr(template, k) != v}
    if not diff:
        return template
    for key, (_old, new) in diff.items():
        setattr(template, key, new)
    template.save()
    moved = (
        _claim_release_types(template, template.release_types) if "release_types" in diff else []
    )
    audit_record(
        actor=actor,
        action="checklist_template.updated",
        obj=template,
        project=template.project_id,
        data={"changes": diff, "taken_from": moved},
    )
    return template


@transaction.atomic
def template_draft_start(*, template: ChecklistTemplate, actor: Caller) -> TemplateVersion:
    """Return the template's draft, starting one from the newest published version if there is none.

    Callers: project admins. Audit: ``checklist_template.draft_started``.
    """
    template_admin_check(actor, template.project)
    template = ChecklistTemplate.objects.select_for_update().get(pk=template.pk)
    draft = template.versions.filter(status=VersionStatus.DRAFT).first()
    if draft is not None:
        return draft
    latest = template.versions.filter(status=VersionStatus.PUBLISHED).order_by("-number").first()
    number = (template.versions.aggregate(m=Max("number"))["m"] or 0) + 1
    draft = TemplateVersion.objects.create(
        template=template,
        number=number,
        status=VersionStatus.DRAFT,
        created_by=person_or_none(actor),
    )
    if latest is not None:
        content_write(draft, version_content(latest))
    audit_record(
        actor=actor,
        action="checklist_template.draft_started",
        obj=template,
        project=template.project_id,
        to_state=VersionStatus.DRAFT,
        data={"version": number, "copied_from": latest.number if latest else None},
    )
    return draft


@transaction.atomic
def template_draft_discard(*, template: ChecklistTemplate, actor: Caller) -> None:
    """Throw the draft away. Audit: ``checklist_template.draft_discarded``."""
    template_admin_check(actor, template.project)
    draft = (
        TemplateVersion.objects.select_for_update()
        .filter(template=template, status=VersionStatus.DRAFT)
        .first()
    )
    if draft is None:
        return
    number = draft.number
    draft.delete()
    audit_record(
        actor=actor,
        action="checklist_template.draft_discarded",
        obj=template,
        project=template.project_id,
        from_state=VersionStatus.DRAFT,
        data={"version": number},
    )


@transaction.atomic
def template_publish(
    *, template: ChecklistTemplate, actor: Caller, change_note: str = ""
) -> TemplateVersion:
    """Publish the draft as the template's next version.

    New releases copy it from now on; releases already under way keep theirs.
    Refused while a step has no items. Callers: project admins.
    Audit: ``checklist_template.published``.
    """
    template_admin_check(actor, template.project)
    change_note = template_text(change_note, "Change note", 300)
    draft = (
        TemplateVersion.objects.select_for_update()
        .filter(template=template, status=VersionStatus.DRAFT)
        .first()
    )
    if draft is None:
        raise ValidationFailed("There is no draft to publish. Start editing to make one.")
    content = version_content(draft)
    if not content:
        raise ValidationFailed("Add at least one step before publishing.")
    empty = [s["title"] for s in content if not s["items"]]
    if empty:
        raise ValidationFailed(
            f"Every step needs at least one item; these have none: {', '.join(empty)}."
        )
    draft.status = VersionStatus.PUBLISHED
    draft.published_at = timezone.now()
    draft.published_by = person_or_none(actor)
    draft.change_note = change_note
    draft.content_hash = content_hash(content)
    draft.save()
    audit_record(
        actor=actor,
        action="checklist_template.published",
        obj=template,
        project=template.project_id,
        from_state=VersionStatus.DRAFT,
        to_state=VersionStatus.PUBLISHED,
        reason=change_note,
        data={
            "version": draft.number,
            "steps": len(content),
            "items": sum(len(s["items"]) for s in content),
        },
    )
    return draft
