"""Editing a template's draft: its steps and items, added, changed, removed and moved.

Only a draft changes; a published version refuses every edit
(``TemplateNotEditable``). Each edit writes ``checklist_template.draft_edited``
with what changed.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import transaction
from django.db.models import Max, QuerySet

from audit.services import audit_record
from checklists.choices import ITEM_ROLE_VALUES, StepPhase
from checklists.exceptions import TemplateNotEditable
from checklists.models import ItemTemplate, StepTemplate, TemplateVersion
from checklists.services.templates import template_admin_check, template_text
from core.exceptions import ValidationFailed
from projects.principals import Caller

_Row = TypeVar("_Row", StepTemplate, ItemTemplate)


def _draft_of(version: TemplateVersion, actor: Caller) -> TemplateVersion:
    template_admin_check(actor, version.template.project)
    if not version.is_draft:
        raise TemplateNotEditable(
            f"Version {version.number} of {version.template} is published and cannot change; edit the draft instead."
        )
    return version


def _audit_edit(actor: Caller, version: TemplateVersion, change: str, **data: Any) -> None:
    template = version.template
    audit_record(
        actor=actor,
        action="checklist_template.draft_edited",
        obj=template,
        project=template.project_id,
        data={"version": version.number, "change": change, **data},
    )


def _step_values(values: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    if "title" in values or not partial:
        clean["title"] = template_text(values.get("title"), "Title", 200, required=True)
    if "description" in values:
        clean["description"] = template_text(values.get("description"), "Description", 5000)
    if "expected_output" in values:
        clean["expected_output"] = template_text(
            values.get("expected_output"), "Expected output", 5000
        )
    if "phase" in values or not partial:
        phase = values.get("phase") or StepPhase.BEFORE_PRODUCTION
        if phase not in StepPhase.values:
            raise ValidationFailed(
                f"Unknown phase '{str(phase)[:40]}'.", details={"phase": ["Choose a phase."]}
            )
        clean["phase"] = phase
    return clean


def _item_values(values: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    if "text" in values or not partial:
        clean["text"] = template_text(values.get("text"), "Text", 300, required=True)
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


def _move(siblings: QuerySet[_Row], row: _Row, direction: str) -> bool:
    """Move ``row`` one place up or down among its locked ``siblings`` by renumbering them all."""
    rows = list(siblings.select_for_update().order_by("position", "id"))
    index = next(i for i, r in enumerate(rows) if r.pk == row.pk)
    if direction not in ("up", "down"):
        raise ValidationFailed("Move up or down.")
    target = index - 1 if direction == "up" else index + 1
    if not 0 <= target < len(rows):
        return False
    rows[index], rows[target] = rows[target], rows[index]
    for position, each in enumerate(rows):
        if each.position != position:
            each.position = position
            each.save(update_fields=["position"])
    return True


@transaction.atomic
def template_step_add(*, version: TemplateVersion, actor: Caller, **values: Any) -> StepTemplate:
    """Append a step to a draft. Audit: ``checklist_template.draft_edited``."""
    version = _draft_of(version, actor)
    clean = _step_values(values, partial=False)
    position = (version.steps.aggregate(m=Max("position"))["m"] or 0) + 1
    step = StepTemplate.objects.create(version=version, position=position, **clean)
    _audit_edit(actor, version, "step_added", step=step.title)
    return step


@transaction.atomic
def template_step_update(*, step: StepTemplate, actor: Caller, **values: Any) -> StepTemplate:
    """Change a draft's step. Audit: ``checklist_template.draft_edited``."""
    _draft_of(step.version, actor)
    clean = _step_values(values, partial=True)
    for key, value in clean.items():
        setattr(step, key, value)
    step.save()
    _audit_edit(actor, step.version, "step_changed", step=step.title, fields=sorted(clean))
    return step


@transaction.atomic
def template_step_delete(*, step: StepTemplate, actor: Caller) -> None:
    """Remove a step (and its items) from a draft. Audit: ``checklist_template.draft_edited``."""
    _draft_of(step.version, actor)
    title = step.title
    step.delete()
    _audit_edit(actor, step.version, "step_removed", step=title)


@transaction.atomic
def template_step_move(*, step: StepTemplate, actor: Caller, direction: str) -> StepTemplate:
    """Move a draft's step one place up or down. Audit: ``checklist_template.draft_edited``."""
    _draft_of(step.version, actor)
    if _move(StepTemplate.objects.filter(version_id=step.version_id), step, direction):
        _audit_edit(actor, step.version, f"step_moved_{direction}", step=step.title)
    return step


@transaction.atomic
def template_item_add(*, step: StepTemplate, actor: Caller, **values: Any) -> ItemTemplate:
    """Append an item to a draft's step. Audit: ``checklist_template.draft_edited``."""
    _draft_of(step.version, actor)
    clean = _item_values(values, partial=False)
    position = (step.items.aggregate(m=Max("position"))["m"] or 0) + 1
    item = ItemTemplate.objects.create(step=step, position=position, **clean)
    _audit_edit(actor, step.version, "item_added", step=step.title, item=item.text)
    return item


@transaction.atomic
def template_item_update(*, item: ItemTemplate, actor: Caller, **values: Any) -> ItemTemplate:
    """Change a draft's item. Audit: ``checklist_template.draft_edited``."""
    _draft_of(item.step.version, actor)
    clean = _item_values(values, partial=True)
    for key, value in clean.items():
        setattr(item, key, value)
    item.save()
    _audit_edit(actor, item.step.version, "item_changed", item=item.text, fields=sorted(clean))
    return item


@transaction.atomic
def template_item_delete(*, item: ItemTemplate, actor: Caller) -> None:
    """Remove an item from a draft. Audit: ``checklist_template.draft_edited``."""
    version = _draft_of(item.step.version, actor)
    text = item.text
    item.delete()
    _audit_edit(actor, version, "item_removed", item=text)


@transaction.atomic
def template_item_move(*, item: ItemTemplate, actor: Caller, direction: str) -> ItemTemplate:
    """Move a draft's item one place up or down in its step. Audit: ``checklist_template.draft_edited``."""
    _draft_of(item.step.version, actor)
    if _move(ItemTemplate.objects.filter(step_id=item.step_id), item, direction):
        _audit_edit(actor, item.step.version, f"item_moved_{direction}", item=item.text)
    return item
