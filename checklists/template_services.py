"""Writes to checklist templates: installing the shipped ones, editing drafts, publishing.

A template's published versions never change. An admin edits the one draft
(started as a copy of the newest published version) and publishes it as the
next version; releases already under way keep the copy they made.
"""

from __future__ import annotations

import hashlib
import json

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify

from audit.services import audit_record
from checklists.choices import ITEM_ROLE_VALUES, StepPhase, VersionStatus
from checklists.defaults import SHIPPED_TEMPLATES
from checklists.exceptions import TemplateNotEditable
from checklists.models import ChecklistTemplate, ItemTemplate, StepTemplate, TemplateVersion
from checklists.permissions import can_edit_templates
from core.exceptions import NotFound, ValidationFailed
from projects.choices import Role
from projects.models import Project
from projects.permissions import can_view_project, role_refusal
from releases.choices import ReleaseType

STEP_FIELDS = ("title", "description", "expected_output", "phase")
ITEM_FIELDS = ("text", "required", "role", "evidence_required")


def _person(actor):
    return actor if getattr(actor, "pk", None) and not getattr(actor, "is_token", False) else None


def _text(value, field: str, max_length: int, *, required: bool = False) -> str:
    value = "" if value is None else str(value)
    if "\x00" in value:
        raise ValidationFailed(f"{field} contains a NUL character, which is not allowed.")
    value = value.strip()
    if len(value) > max_length:
        raise ValidationFailed(
            f"{field} is longer than {max_length} characters.",
            details={field.lower().replace(" ", "_"): [f"At most {max_length} characters."]},
        )
    if required and not value:
        raise ValidationFailed(
            f"{field} is required.",
            details={field.lower().replace(" ", "_"): ["This field is required."]},
        )
    return value


def _release_types(values) -> list[str]:
    values = list(values or [])
    unknown = [str(v)[:20] for v in values if v not in ReleaseType.values]
    if unknown:
        raise ValidationFailed(
            f"Unknown release type {', '.join(unknown)}. Known: {', '.join(ReleaseType.values)}.",
            details={"release_types": ["Choose among the release types."]},
        )
    return sorted(set(values), key=ReleaseType.values.index)


def content_hash(steps: list[dict]) -> str:
    """A stable fingerprint of a version's content (steps and items, in order)."""
    blob = json.dumps(steps, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def version_content(version: TemplateVersion) -> list[dict]:
    """Steps and items of a version as plain data (used for hashing, copying and the API)."""
    steps = (
        StepTemplate.objects.filter(version=version)
        .prefetch_related("items")
        .order_by("position", "id")
    )
    return [
        {
            "title": s.title,
            "description": s.description,
            "expected_output": s.expected_output,
            "phase": s.phase,
            "items": [
                {
                    "text": i.text,
                    "required": i.required,
                    "role": i.role,
                    "evidence_required": i.evidence_required,
                }
                for i in s.items.all()
            ],
        }
        for s in steps
    ]


def _write_content(version: TemplateVersion, steps: list[dict]) -> None:
    created = StepTemplate.objects.bulk_create(
        [
            StepTemplate(
                version=version,
                position=index,
                title=s["title"],
                description=s.get("description", ""),
                expected_output=s.get("expected_output", ""),
                phase=s["phase"],
            )
            for index, s in enumerate(steps)
        ]
    )
    ItemTemplate.objects.bulk_create(
        [
            ItemTemplate(
                step=step,
                position=position,
                text=i["text"],
                required=i.get("required", True),
                role=i["role"],
                evidence_required=i.get("evidence_required", False),
            )
            for step, s in zip(created, steps, strict=True)
            for position, i in enumerate(s["items"])
        ]
    )


def _shipped_content(definition: dict) -> list[dict]:
    return [
        {
            "title": s["title"],
            "description": s["description"],
            "expected_output": s["expected_output"],
            "phase": s["phase"],
            "items": [
                {
                    "text": text,
                    "required": not options.get("optional", False),
                    "role": role,
                    "evidence_required": bool(options.get("evidence", False)),
                }
                for text, role, options in s["items"]
            ],
        }
        for s in definition["steps"]
    ]


def shipped_templates_install() -> int:
    """Install or update the templates shipped with Shipcheck; safe to run any number of times.

    A shipped template whose content changed gets a new published version
    (releases keep the version they copied). Returns how many versions were
    published. Audit: ``checklist_template.installed`` per new version.
    """
    published = 0
    for definition in SHIPPED_TEMPLATES:
        steps = _shipped_content(definition)
        digest = content_hash(steps)
        try:
            with transaction.atomic():
                template, created = ChecklistTemplate.objects.get_or_create(
                    project=None,
                    slug=definition["slug"],
                    defaults={
                        "name": definition["name"],
                        "description": definition["description"],
                        "release_types": definition["release_types"],
                    },
                )
                if not created:
                    template = ChecklistTemplate.objects.select_for_update().get(pk=template.pk)
                latest = (
                    template.versions.filter(status=VersionStatus.PUBLISHED)
                    .order_by("-number")
                    .first()
                )
                if latest is not None and latest.content_hash == digest:
                    continue
                number = (template.versions.aggregate(m=Max("number"))["m"] or 0) + 1
                version = TemplateVersion.objects.create(
                    template=template,
                    number=number,
                    status=VersionStatus.PUBLISHED,
                    content_hash=digest,
                    change_note="Shipped with Shipcheck.",
                    published_at=timezone.now(),
                )
                _write_content(version, steps)
                audit_record(
                    actor=None,
                    action="checklist_template.installed",
                    obj=template,
                    to_state=VersionStatus.PUBLISHED,
                    data={"slug": template.slug, "version": number, "steps": len(steps)},
                )
                published += 1
        except IntegrityError:
            # Another process installed the same template at the same moment; theirs stands.
            continue
    return published


# --- Creating and describing templates -------------------------------------------


def _check_admin(actor, project) -> None:
    if project is None:
        raise TemplateNotEditable(
            "Shipped templates cannot be edited; copy one into your project first."
        )
    template_edit_authorize(project=project, actor=actor)


def template_edit_authorize(*, project: Project | None, actor) -> None:
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
        .filter(project_id=template.project_id)
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
    actor,
    name: str,
    description: str = "",
    release_types=(),
    copy_from: TemplateVersion | None = None,
) -> ChecklistTemplate:
    """Create a project template with a draft version 1 (empty, or a copy of ``copy_from``).

    Callers: project admins. Audit: ``checklist_template.created``.
    """
    _check_admin(actor, project)
    name = _text(name, "Name", 120, required=True)
    description = _text(description, "Description", 5000)
    types = _release_types(release_types)
    if copy_from is not None and (copy_from.template.project_id not in (None, project.pk)):
        raise NotFound("No such template to copy.")
    template = ChecklistTemplate.objects.create(
        project=project,
        slug=_unique_slug(project, name),
        name=name,
        description=description,
        release_types=types,
        created_by=_person(actor),
    )
    moved = _claim_release_types(template, types) if types else []
    draft = TemplateVersion.objects.create(
        template=template, number=1, status=VersionStatus.DRAFT, created_by=_person(actor)
    )
    if copy_from is not None:
        _write_content(draft, version_content(copy_from))
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
    actor,
    name: str | None = None,
    description: str | None = None,
    release_types=None,
) -> ChecklistTemplate:
    """Rename a template, describe it, or choose the release types it is the default for.

    These are not versioned: they say how the template is used, not what it
    asks. Callers: project admins. Audit: ``checklist_template.updated``.
    """
    _check_admin(actor, template.project)
    template = ChecklistTemplate.objects.select_for_update().get(pk=template.pk)
    changes = {}
    if name is not None:
        changes["name"] = _text(name, "Name", 120, required=True)
    if description is not None:
        changes["description"] = _text(description, "Description", 5000)
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


# --- Drafts -----------------------------------------------------------------------


@transaction.atomic
def template_draft_start(*, template: ChecklistTemplate, actor) -> TemplateVersion:
    """Return the template's draft, starting one from the newest published version if there is none.

    Callers: project admins. Audit: ``checklist_template.draft_started``.
    """
    _check_admin(actor, template.project)
    template = ChecklistTemplate.objects.select_for_update().get(pk=template.pk)
    draft = template.versions.filter(status=VersionStatus.DRAFT).first()
    if draft is not None:
        return draft
    latest = template.versions.filter(status=VersionStatus.PUBLISHED).order_by("-number").first()
    number = (template.versions.aggregate(m=Max("number"))["m"] or 0) + 1
    draft = TemplateVersion.objects.create(
        template=template, number=number, status=VersionStatus.DRAFT, created_by=_person(actor)
    )
    if latest is not None:
        _write_content(draft, version_content(latest))
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
def template_draft_discard(*, template: ChecklistTemplate, actor) -> None:
    """Throw the draft away. Audit: ``checklist_template.draft_discarded``."""
    _check_admin(actor, template.project)
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
    *, template: ChecklistTemplate, actor, change_note: str = ""
) -> TemplateVersion:
    """Publish the draft as the template's next version.

    New releases copy it from now on; releases already under way keep theirs.
    Refused while a step has no items. Callers: project admins.
    Audit: ``checklist_template.published``.
    """
    _check_admin(actor, template.project)
    change_note = _text(change_note, "Change note", 300)
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
    draft.published_by = _person(actor)
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


def _draft_of(version: TemplateVersion, actor) -> TemplateVersion:
    _check_admin(actor, version.template.project)
    if not version.is_draft:
        raise TemplateNotEditable(
            f"Version {version.number} of {version.template} is published and cannot change; edit the draft instead."
        )
    return version


def _audit_edit(actor, version: TemplateVersion, change: str, **data) -> None:
    template = version.template
    audit_record(
        actor=actor,
        action="checklist_template.draft_edited",
        obj=template,
        project=template.project_id,
        data={"version": version.number, "change": change, **data},
    )


def _step_values(values: dict, *, partial: bool) -> dict:
    clean = {}
    if "title" in values or not partial:
        clean["title"] = _text(values.get("title"), "Title", 200, required=True)
    if "description" in values:
        clean["description"] = _text(values.get("description"), "Description", 5000)
    if "expected_output" in values:
        clean["expected_output"] = _text(values.get("expected_output"), "Expected output", 5000)
    if "phase" in values or not partial:
        phase = values.get("phase") or StepPhase.BEFORE_PRODUCTION
        if phase not in StepPhase.values:
            raise ValidationFailed(
                f"Unknown phase '{str(phase)[:40]}'.", details={"phase": ["Choose a phase."]}
            )
        clean["phase"] = phase
    return clean


def _item_values(values: dict, *, partial: bool) -> dict:
    clean = {}
    if "text" in values or not partial:
        clean["text"] = _text(values.get("text"), "Text", 300, required=True)
    if "role" in values or not partial:
        role = values.get("role") or "release_manager"
        if role not in ITEM_ROLE_VALUES:
            raise ValidationFailed(
                f"Unknown role '{str(role)[:40]}'.", details={"role": ["Choose a project role."]}
            )
        clean["role"] = role
    for flag in ("required", "evidence_required"):
        if flag in values:
            clean[flag] = bool(values[flag])
    return clean


@transaction.atomic
def template_step_add(*, version: TemplateVersion, actor, **values) -> StepTemplate:
    """Append a step to a draft. Audit: ``checklist_template.draft_edited``."""
    version = _draft_of(version, actor)
    clean = _step_values(values, partial=False)
    position = (version.steps.aggregate(m=Max("position"))["m"] or 0) + 1
    step = StepTemplate.objects.create(version=version, position=position, **clean)
    _audit_edit(actor, version, "step_added", step=step.title)
    return step


@transaction.atomic
def template_step_update(*, step: StepTemplate, actor, **values) -> StepTemplate:
    _draft_of(step.version, actor)
    clean = _step_values(values, partial=True)
    for key, value in clean.items():
        setattr(step, key, value)
    step.save()
    _audit_edit(actor, step.version, "step_changed", step=step.title, fields=sorted(clean))
    return step


@transaction.atomic
def template_step_delete(*, step: StepTemplate, actor) -> None:
    _draft_of(step.version, actor)
    title = step.title
    step.delete()
    _audit_edit(actor, step.version, "step_removed", step=title)


def _swap(rows: list, index: int, direction: str) -> bool:
    """Move ``rows[index]`` one place up or down by renumbering the whole list."""
    if direction not in ("up", "down"):
        raise ValidationFailed("Move up or down.")
    target = index - 1 if direction == "up" else index + 1
    if not 0 <= target < len(rows):
        return False
    rows[index], rows[target] = rows[target], rows[index]
    for position, row in enumerate(rows):
        if row.position != position:
            row.position = position
            row.save(update_fields=["position"])
    return True


@transaction.atomic
def template_step_move(*, step: StepTemplate, actor, direction: str) -> StepTemplate:
    """Move a draft's step one place up or down. Audit: ``checklist_template.draft_edited``."""
    _draft_of(step.version, actor)
    siblings = list(
        StepTemplate.objects.select_for_update()
        .filter(version_id=step.version_id)
        .order_by("position", "id")
    )
    index = next(i for i, s in enumerate(siblings) if s.pk == step.pk)
    if _swap(siblings, index, direction):
        _audit_edit(actor, step.version, f"step_moved_{direction}", step=step.title)
    return step


@transaction.atomic
def template_item_add(*, step: StepTemplate, actor, **values) -> ItemTemplate:
    _draft_of(step.version, actor)
    clean = _item_values(values, partial=False)
    position = (step.items.aggregate(m=Max("position"))["m"] or 0) + 1
    item = ItemTemplate.objects.create(step=step, position=position, **clean)
    _audit_edit(actor, step.version, "item_added", step=step.title, item=item.text)
    return item


@transaction.atomic
def template_item_update(*, item: ItemTemplate, actor, **values) -> ItemTemplate:
    _draft_of(item.step.version, actor)
    clean = _item_values(values, partial=True)
    for key, value in clean.items():
        setattr(item, key, value)
    item.save()
    _audit_edit(actor, item.step.version, "item_changed", item=item.text, fields=sorted(clean))
    return item


@transaction.atomic
def template_item_delete(*, item: ItemTemplate, actor) -> None:
    version = _draft_of(item.step.version, actor)
    text = item.text
    item.delete()
    _audit_edit(actor, version, "item_removed", item=text)


@transaction.atomic
def template_item_move(*, item: ItemTemplate, actor, direction: str) -> ItemTemplate:
    _draft_of(item.step.version, actor)
    siblings = list(
        ItemTemplate.objects.select_for_update()
        .filter(step_id=item.step_id)
        .order_by("position", "id")
    )
    index = next(i for i, s in enumerate(siblings) if s.pk == item.pk)
    if _swap(siblings, index, direction):
        _audit_edit(actor, item.step.version, f"item_moved_{direction}", item=item.text)
    return item
