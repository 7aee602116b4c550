"""Giving a release its checklist: a copy of a template version, or more steps appended."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max

from audit.services import audit_record
from checklists.models import Checklist, Item, Step, StepTemplate, TemplateVersion
from checklists.selectors import template_default_for
from checklists.services.common import check_manager, check_open, person_or_none
from core.exceptions import NotFound, ValidationFailed
from projects.principals import Caller
from releases.models import Release


def _copy_steps(
    *, checklist: Checklist, version: TemplateVersion, start_position: int = 0
) -> tuple[int, int]:
    """Copy every step and item of ``version`` into ``checklist``. Four queries whatever the size."""
    step_templates = list(StepTemplate.objects.filter(version=version).prefetch_related("items"))
    steps = Step.objects.bulk_create(
        [
            Step(
                checklist=checklist,
                position=start_position + index,
                title=st.title,
                description=st.description,
                expected_output=st.expected_output,
                phase=st.phase,
            )
            for index, st in enumerate(step_templates)
        ]
    )
    items = [
        Item(
            checklist=checklist,
            step=step,
            position=position,
            text=it.text,
            required=it.required,
            role=it.role,
            evidence_required=it.evidence_required,
        )
        for step, st in zip(steps, step_templates, strict=True)
        for position, it in enumerate(st.items.all())
    ]
    Item.objects.bulk_create(items)
    return len(steps), len(items)


def _check_usable(release: Release, version: TemplateVersion) -> None:
    if version.template.project_id not in (None, release.project_id) or version.is_draft:
        raise NotFound("No such published template in this project.")


def checklist_copy(
    *, release: Release, actor: Caller | None, version: TemplateVersion | None = None
) -> Checklist | None:
    """Give ``release`` its checklist: a copy of ``version`` or of the project's default for its type.

    Runs inside ``release_create`` (listener ``release_created``) whoever
    created the release, a CI token included. Returns None if the release
    already has a checklist or no template applies.
    Audit: ``checklist.created``.
    """
    with transaction.atomic():
        if Checklist.objects.filter(release=release).exists():
            return None
        version = version or template_default_for(
            project=release.project, release_type=release.type
        )
        if version is None:
            return None
        template = version.template
        checklist = Checklist.objects.create(
            release=release,
            template=template,
            template_version=version,
            template_name=template.name,
            version_number=version.number,
            created_by=person_or_none(actor),
        )
        step_count, item_count = _copy_steps(checklist=checklist, version=version)
        audit_record(
            actor=actor,
            action="checklist.created",
            obj=checklist,
            project=release.project_id,
            release=release,
            to_state="open",
            data={
                "template": template.name,
                "template_id": template.pk,
                "version": version.number,
                "steps": step_count,
                "items": item_count,
            },
        )
        return checklist


def checklist_start(*, release: Release, actor: Caller, version: TemplateVersion) -> Checklist:
    """Start a checklist for a release that has none (e.g. created before checklists existed).

    Callers: whoever may manage the release. Audit: ``checklist.created``.
    """
    check_manager(actor, release, doing="start a checklist", what="start this checklist")
    check_open(release)
    _check_usable(release, version)
    checklist = checklist_copy(release=release, actor=actor, version=version)
    if checklist is None:
        raise ValidationFailed("This release already has a checklist.")
    return checklist


@transaction.atomic
def checklist_append_template(
    *, release: Release, actor: Caller, version: TemplateVersion
) -> Checklist:
    """Append the steps of another template (e.g. environment readiness) to a release's checklist.

    Callers: whoever may manage the release. Audit: ``checklist.steps_appended``.
    """
    check_manager(actor, release, doing="extend a checklist", what="extend this checklist")
    check_open(release)
    _check_usable(release, version)
    checklist = Checklist.objects.select_for_update().filter(release=release).first()
    if checklist is None:
        raise NotFound("This release has no checklist yet.")
    start = (Step.objects.filter(checklist=checklist).aggregate(m=Max("position"))["m"] or 0) + 1
    step_count, item_count = _copy_steps(checklist=checklist, version=version, start_position=start)
    audit_record(
        actor=actor,
        action="checklist.steps_appended",
        obj=checklist,
        project=release.project_id,
        release=release,
        data={
            "template": version.template.name,
            "version": version.number,
            "steps": step_count,
            "items": item_count,
        },
    )
    return checklist
