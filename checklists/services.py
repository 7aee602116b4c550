"""Every write to a release's checklist.

Each service checks who is asking, changes rows in one short transaction,
writes its audit event in that transaction and returns the changed object.
Template editing lives in ``checklists.template_services``.

Ticks race: two people may tick the same item in the same second. The write
is a conditional ``UPDATE … WHERE status = 'open'``, so exactly one of them
changes the row and writes the audit event; the other gets the item back as
the first one left it.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from audit.services import audit_record
from checklists.choices import ITEM_ROLE_VALUES, ITEM_TRANSITIONS, ItemStatus, StepPhase
from checklists.exceptions import (
    ChecklistClosed,
    EvidenceInvalid,
    EvidenceRequired,
    GateAlreadyPassed,
)
from checklists.models import Checklist, Item, Step, StepTemplate, TemplateVersion
from checklists.permissions import (
    can_manage_checklist,
    can_record_step_output,
    can_tick_item,
    can_untick_item,
    manager_refusal,
    people_only_refusal,
    step_output_refusal,
    tick_refusal,
    untick_refusal,
)
from checklists.selectors import gate_passed_for_phase, template_default_for
from core.exceptions import NotFound, ValidationFailed
from core.transitions import transition_check
from projects.choices import Role
from projects.permissions import can_view_project, is_person
from projects.principals import is_token
from releases.choices import ReleaseStatus
from releases.models import Release

# Evidence is a link or a short reference; longer material belongs behind a link.
EVIDENCE_MAX_LENGTH = 500
EVIDENCE_TEXT_MAX_LENGTH = 200
NOTE_MAX_LENGTH = 2000
REASON_MAX_LENGTH = 2000
# "scheme:" followed by "//", or a scheme browsers would run, makes evidence a link.
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):", re.IGNORECASE)
_DANGEROUS_SCHEMES = frozenset({"javascript", "data", "vbscript", "file"})
_URL = URLValidator(schemes=["http", "https"])


def _person(actor):
    return actor if is_person(actor) and getattr(actor, "pk", None) else None


def _clean_text(value, field: str, max_length: int) -> str:
    value = "" if value is None else str(value)
    if "\x00" in value:
        raise ValidationFailed(
            f"{field} contains a NUL character, which is not allowed.",
            details={field.lower(): ["Remove the NUL character."]},
        )
    value = value.strip()
    if len(value) > max_length:
        raise ValidationFailed(
            f"{field} is longer than {max_length} characters.",
            details={field.lower(): [f"At most {max_length} characters."]},
        )
    return value


def evidence_clean(value) -> str:
    """Return normalised evidence, or raise ``EvidenceInvalid`` with a sentence saying what to fix.

    A value that looks like a link must be an http(s) URL; anything else is a
    short, single-line reference such as ``CI run 4411``.
    """
    value = _clean_text(value, "Evidence", EVIDENCE_MAX_LENGTH)
    if not value:
        return ""
    if any(ch in value for ch in "\r\n\t") or any(ord(ch) < 32 for ch in value):
        raise EvidenceInvalid(
            "Evidence must be a single line: a link or a short reference.",
            details={"evidence": ["Use a single line."]},
        )
    match = _SCHEME.match(value)
    scheme = match.group(1).lower() if match else ""
    if match and (value[match.end() :].startswith("//") or scheme in _DANGEROUS_SCHEMES):
        if scheme not in ("http", "https"):
            raise EvidenceInvalid(
                f"Evidence links must start with http:// or https:// (got '{scheme[:20]}:').",
                details={"evidence": ["Only http:// and https:// links are accepted."]},
            )
        value = scheme + value[len(scheme) :]
        try:
            _URL(value)
        except ValidationError:
            raise EvidenceInvalid(
                f"'{value[:80]}' is not a valid web address.",
                details={"evidence": ["Enter a complete http(s) link."]},
            ) from None
        return value
    if len(value) > EVIDENCE_TEXT_MAX_LENGTH:
        raise EvidenceInvalid(
            f"Evidence text is limited to {EVIDENCE_TEXT_MAX_LENGTH} characters; link to longer material instead.",
            details={"evidence": [f"At most {EVIDENCE_TEXT_MAX_LENGTH} characters, or a link."]},
        )
    return value


def _check_can_see(actor, release: Release) -> None:
    if not can_view_project(actor, release.project_id):
        raise NotFound("No such checklist item.")


def _check_manager(actor, release: Release, *, doing: str, what: str) -> None:
    """Release managers' and admins' changes: visible (404), a person, and the right role (403)."""
    _check_can_see(actor, release)
    _check_person(actor, doing)
    if not can_manage_checklist(actor, release):
        raise manager_refusal(what)


def _check_person(actor, doing: str) -> None:
    if is_token(actor) or not is_person(actor):
        raise people_only_refusal(doing)


def _check_open(release: Release) -> None:
    if release.status == ReleaseStatus.CANCELLED:
        raise ChecklistClosed("The release was cancelled, so its checklist is closed.")


def _item_data(item: Item) -> dict:
    return {"item": item.text, "step": item.step.title, "role": item.role}


def _reload(item: Item) -> Item:
    return Item.objects.select_related("step", "checklist__release", "completed_by").get(pk=item.pk)


# --- Creating a release's checklist ------------------------------------------


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


def checklist_copy(
    *, release: Release, actor, version: TemplateVersion | None = None
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
            created_by=_person(actor),
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


def checklist_start(*, release: Release, actor, version: TemplateVersion) -> Checklist:
    """Start a checklist for a release that has none (e.g. created before checklists existed).

    Callers: whoever may manage the release. Audit: ``checklist.created``.
    """
    _check_manager(actor, release, doing="start a checklist", what="start this checklist")
    _check_open(release)
    if version.template.project_id not in (None, release.project_id) or version.is_draft:
        raise NotFound("No such published template in this project.")
    checklist = checklist_copy(release=release, actor=actor, version=version)
    if checklist is None:
        raise ValidationFailed("This release already has a checklist.")
    return checklist


@transaction.atomic
def checklist_append_template(*, release: Release, actor, version: TemplateVersion) -> Checklist:
    """Append the steps of another template (e.g. environment readiness) to a release's checklist.

    Callers: whoever may manage the release. Audit: ``checklist.steps_appended``.
    """
    _check_manager(actor, release, doing="extend a checklist", what="extend this checklist")
    _check_open(release)
    if version.template.project_id not in (None, release.project_id) or version.is_draft:
        raise NotFound("No such published template in this project.")
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


# --- Ticking --------------------------------------------------------------


def _item_transition_check(item: Item, to_status: str) -> str | None:
    """The item's stored status, refused (409) when ``ITEM_TRANSITIONS`` forbids ``to_status``.

    Already in ``to_status`` is no move at all: the caller changes nothing and
    answers the item as it is (someone ticked it a moment ago).
    """
    from_status = Item.objects.filter(pk=item.pk).values_list("status", flat=True).first()
    if from_status is not None and from_status != to_status:
        transition_check(
            transitions=ITEM_TRANSITIONS,
            choices=ItemStatus,
            noun="checklist item",
            from_state=from_status,
            to_state=to_status,
        )
    return from_status


def item_tick(*, item: Item, actor, note: str = "", evidence: str = "") -> Item:
    """Tick an open item, recording who, when, an optional note and evidence.

    Callers: a holder of the item's role or the release manager; people only.
    Evidence is required when the item says so. Ticking an item someone else
    ticked a moment ago changes nothing and returns it as they left it.
    Audit: ``checklist.item_ticked``.
    """
    release = item.checklist.release
    _check_can_see(actor, release)
    _check_person(actor, "tick checklist items")
    if not can_tick_item(actor, item, release):
        raise tick_refusal(item)
    _check_open(release)
    note = _clean_text(note, "Note", NOTE_MAX_LENGTH)
    evidence = evidence_clean(evidence)
    if item.evidence_required and not evidence:
        raise EvidenceRequired(
            f"'{item.text}' needs evidence: a link (http:// or https://) or a reference such as a CI run id.",
            details={"evidence": ["This item needs evidence."]},
        )
    with transaction.atomic():
        _item_transition_check(item, ItemStatus.DONE)
        now = timezone.now()
        changed = Item.objects.filter(pk=item.pk, status=ItemStatus.OPEN).update(
            status=ItemStatus.DONE,
            completed_by=actor,
            completed_at=now,
            note=note,
            evidence=evidence,
            na_reason="",
            updated_at=now,
        )
        item = _reload(item)
        if changed:
            audit_record(
                actor=actor,
                action="checklist.item_ticked",
                obj=item,
                project=release.project_id,
                release=release,
                from_state=ItemStatus.OPEN,
                to_state=ItemStatus.DONE,
                reason=note,
                data={**_item_data(item), "evidence": evidence},
            )
    return item


def item_untick(*, item: Item, actor, reason: str = "") -> Item:
    """Reopen a ticked or not-applicable item.

    Refused once the release went through the environment the item's step
    gates (a deployment there started or succeeded): the gate was passed on
    the strength of that tick. Locks the release so a promotion cannot slip in
    between the check and the write.
    Audit: ``checklist.item_unticked`` or ``checklist.item_restored``.
    """
    release = item.checklist.release
    _check_can_see(actor, release)
    _check_person(actor, "untick checklist items")
    if not can_untick_item(actor, item, release):
        raise untick_refusal(item)
    _check_open(release)
    reason = _clean_text(reason, "Reason", REASON_MAX_LENGTH)
    with transaction.atomic():
        Release.objects.select_for_update().only("pk").get(pk=release.pk)
        step = item.step
        if gate_passed_for_phase(release_id=release.pk, phase=step.phase):
            raise GateAlreadyPassed(
                f"'{item.text}' cannot be reopened: the release has already entered "
                f"{StepPhase(step.phase).label.removeprefix('Before ').lower()}, which the step "
                f"'{step.title}' gates.",
            )
        from_status = _item_transition_check(item, ItemStatus.OPEN)
        changed = (
            Item.objects.filter(pk=item.pk, status=from_status)
            .exclude(status=ItemStatus.OPEN)
            .update(
                status=ItemStatus.OPEN,
                completed_by=None,
                completed_at=None,
                evidence="",
                note="",
                na_reason="",
                updated_at=timezone.now(),
            )
        )
        item = _reload(item)
        if changed:
            action = (
                "checklist.item_restored"
                if from_status == ItemStatus.NOT_APPLICABLE
                else "checklist.item_unticked"
            )
            audit_record(
                actor=actor,
                action=action,
                obj=item,
                project=release.project_id,
                release=release,
                from_state=from_status,
                to_state=ItemStatus.OPEN,
                reason=reason,
                data=_item_data(item),
            )
    return item


def item_mark_not_applicable(*, item: Item, actor, reason: str) -> Item:
    """Mark an open item not applicable to this release, with a reason.

    Callers: the release manager or a project admin; people only.
    Audit: ``checklist.item_not_applicable``.
    """
    release = item.checklist.release
    _check_manager(
        actor,
        release,
        doing="mark checklist items not applicable",
        what="mark items not applicable",
    )
    _check_open(release)
    reason = _clean_text(reason, "Reason", REASON_MAX_LENGTH)
    if not reason:
        raise ValidationFailed(
            "Say why this item does not apply to this release.",
            details={"reason": ["A reason is required."]},
        )
    with transaction.atomic():
        _item_transition_check(item, ItemStatus.NOT_APPLICABLE)
        now = timezone.now()
        changed = Item.objects.filter(pk=item.pk, status=ItemStatus.OPEN).update(
            status=ItemStatus.NOT_APPLICABLE,
            completed_by=actor,
            completed_at=now,
            na_reason=reason,
            note="",
            evidence="",
            updated_at=now,
        )
        item = _reload(item)
        if changed:
            audit_record(
                actor=actor,
                action="checklist.item_not_applicable",
                obj=item,
                project=release.project_id,
                release=release,
                from_state=ItemStatus.OPEN,
                to_state=ItemStatus.NOT_APPLICABLE,
                reason=reason,
                data=_item_data(item),
            )
    return item


def item_add_authorize(*, step: Step, actor) -> None:
    """Raise unless ``actor`` may add items to ``step`` (views ask before reading the form)."""
    release = step.checklist.release
    _check_manager(actor, release, doing="add checklist items", what="add items to this checklist")


@transaction.atomic
def item_add(
    *,
    step: Step,
    actor,
    text: str,
    required: bool = True,
    role: str = Role.RELEASE_MANAGER,
    evidence_required: bool = False,
) -> Item:
    """Add an ad-hoc item to one step of one release's checklist.

    Callers: the release manager or a project admin; people only.
    Audit: ``checklist.item_added``.
    """
    release = step.checklist.release
    item_add_authorize(step=step, actor=actor)
    _check_open(release)
    text = _clean_text(text, "Text", 300)
    if not text:
        raise ValidationFailed(
            "Say what needs doing.", details={"text": ["This field is required."]}
        )
    if role not in ITEM_ROLE_VALUES:
        raise ValidationFailed(
            f"Unknown role '{str(role)[:40]}'. Choose one of {', '.join(sorted(ITEM_ROLE_VALUES))}.",
            details={"role": ["Choose a project role."]},
        )
    position = (Item.objects.filter(step=step).aggregate(m=Max("position"))["m"] or 0) + 1
    item = Item.objects.create(
        checklist_id=step.checklist_id,
        step=step,
        position=position,
        text=text,
        required=bool(required),
        role=role,
        evidence_required=bool(evidence_required),
        is_adhoc=True,
        added_by=actor,
    )
    audit_record(
        actor=actor,
        action="checklist.item_added",
        obj=item,
        project=release.project_id,
        release=release,
        to_state=ItemStatus.OPEN,
        data={
            **_item_data(item),
            "required": item.required,
            "evidence_required": item.evidence_required,
        },
    )
    return item


@transaction.atomic
def step_record_output(*, step: Step, actor, text: str) -> Step:
    """Record what a step actually produced, beside what was expected.

    Callers: the release manager, or anyone owning an item of the step.
    Audit: ``checklist.step_output_recorded``.
    """
    release = step.checklist.release
    _check_can_see(actor, release)
    _check_person(actor, "record a step's output")
    roles = set(Item.objects.filter(step=step).values_list("role", flat=True))
    if not can_record_step_output(actor, roles, release):
        raise step_output_refusal(roles)
    _check_open(release)
    text = _clean_text(text, "Actual output", 5000)
    step = Step.objects.select_for_update().select_related("checklist__release").get(pk=step.pk)
    if step.actual_output == text:
        return step
    previous = step.actual_output
    step.actual_output = text
    step.actual_output_by = actor
    step.actual_output_at = timezone.now()
    step.save(update_fields=["actual_output", "actual_output_by", "actual_output_at"])
    audit_record(
        actor=actor,
        action="checklist.step_output_recorded",
        obj=step,
        project=release.project_id,
        release=release,
        data={"step": step.title, "actual_output": text, "previous": previous},
    )
    return step
