"""Ticking, unticking and marking items not applicable; ad-hoc items; a step's actual output.

Ticks race: two people may tick the same item in the same second. The write
is a conditional ``UPDATE … WHERE status = 'open'``, so exactly one of them
changes the row and writes the audit event; the other gets the item back as
the first one left it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from audit.services import audit_record
from checklists.choices import ITEM_ROLE_VALUES, ITEM_TRANSITIONS, ItemStatus, StepPhase
from checklists.exceptions import EvidenceRequired, GateAlreadyPassed
from checklists.models import Item, Step
from checklists.permissions import (
    can_record_step_output,
    can_tick_item,
    can_untick_item,
    step_output_refusal,
    tick_refusal,
    untick_refusal,
)
from checklists.selectors import gate_passed_for_phase
from checklists.services.common import (
    NOTE_MAX_LENGTH,
    REASON_MAX_LENGTH,
    check_can_see,
    check_manager,
    check_open,
    check_person,
    evidence_clean,
    text_clean,
)
from core.exceptions import DomainError, NotFound, PermissionDenied, ValidationFailed
from core.transitions import transition_check
from projects.choices import Role
from projects.permissions import roles_for
from projects.principals import Caller
from releases.models import Release

_ItemWrite = TypeVar("_ItemWrite", bound=Callable[..., Item])


def _item_data(item: Item) -> dict[str, Any]:
    return {"item": item.text, "step": item.step.title, "role": item.role}


def _reload(item: Item) -> Item:
    return Item.objects.select_related("step", "checklist__release", "completed_by").get(pk=item.pk)


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


def _audited_denial(what: str) -> Callable[[_ItemWrite], _ItemWrite]:
    """Write a refused tick, untick or not-applicable mark to the audit trail.

    Like refused approvals and votes (``approval.denied``): the action
    ``checklist.denied``, to_state ``denied``, the refusal as reason and the same
    data fields (``attempt``, ``role``, ``error``), in a transaction of its own
    after the refused call changed nothing. Refusals of *who* is asking only
    (not a member, not a person, not the item's role); bad input is not recorded.
    """

    def decorator(func: _ItemWrite) -> _ItemWrite:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Item:
            try:
                return func(*args, **kwargs)
            except (PermissionDenied, NotFound) as exc:
                _denial_record(
                    what=what, exc=exc, item=kwargs.get("item"), actor=kwargs.get("actor")
                )
                raise

        return cast(_ItemWrite, wrapper)

    return decorator


def _denial_record(*, what: str, exc: DomainError, item: Item | None, actor: Caller | None) -> None:
    if item is None:
        return
    release = item.checklist.release
    data = {"attempt": what, "role": item.role, "error": exc.code}
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="checklist.denied",
            obj=item,
            project=release.project_id,
            release=release,
            to_state="denied",
            reason=exc.message,
            data={k: v for k, v in data.items() if v},
        )


def _item_resolve(
    *,
    item: Item,
    actor: Caller,
    release: Release,
    to_status: str,
    action: str,
    reason: str,
    data: dict[str, Any] | None = None,
    **texts: str,
) -> Item:
    """Move an open item to ``to_status`` (done or not applicable) with one conditional UPDATE.

    ``texts`` sets the note, evidence and reason columns; only the call that
    changed the row writes ``action`` to the trail.
    """
    with transaction.atomic():
        _item_transition_check(item, to_status)
        now = timezone.now()
        changed = Item.objects.filter(pk=item.pk, status=ItemStatus.OPEN).update(
            status=to_status,
            completed_by=actor,
            completed_at=now,
            **texts,
            updated_at=now,
        )
        item = _reload(item)
        if changed:
            audit_record(
                actor=actor,
                action=action,
                obj=item,
                project=release.project_id,
                release=release,
                from_state=ItemStatus.OPEN,
                to_state=to_status,
                reason=reason,
                data={**_item_data(item), **(data or {})},
            )
    return item


@_audited_denial("tick")
def item_tick(*, item: Item, actor: Caller, note: str = "", evidence: str = "") -> Item:
    """Tick an open item, recording who, when, an optional note and evidence.

    Callers: a holder of the item's role or the release manager; people only.
    Evidence is required when the item says so. Ticking an item someone else
    ticked a moment ago changes nothing and returns it as they left it.
    Audit: ``checklist.item_ticked``; a refusal ``checklist.denied``.
    """
    release = item.checklist.release
    check_can_see(actor, release)
    check_person(actor, "tick checklist items")
    if not can_tick_item(actor, item, release):
        raise tick_refusal(item)
    check_open(release)
    note = text_clean(note, "Note", NOTE_MAX_LENGTH)
    evidence = evidence_clean(evidence)
    if item.evidence_required and not evidence:
        raise EvidenceRequired(
            f"'{item.text}' needs evidence: a link (http:// or https://) or a reference such as a CI run id.",
            details={"evidence": ["This item needs evidence."]},
        )
    # The release manager may tick any item; one owned by a role they do not hold is recorded,
    # and shown, as ticked on that role's behalf.
    on_behalf_of = (
        item.role
        if item.role != Role.RELEASE_MANAGER
        and item.role not in roles_for(actor, release.project_id)
        else ""
    )
    return _item_resolve(
        item=item,
        actor=actor,
        release=release,
        to_status=ItemStatus.DONE,
        action="checklist.item_ticked",
        reason=note,
        data={"evidence": evidence, **({"on_behalf_of": on_behalf_of} if on_behalf_of else {})},
        note=note,
        evidence=evidence,
        na_reason="",
        on_behalf_of=on_behalf_of,
    )


@_audited_denial("untick")
def item_untick(*, item: Item, actor: Caller, reason: str = "") -> Item:
    """Reopen a ticked or not-applicable item.

    Refused once the release went through the environment the item's step
    gates (a deployment there started or succeeded): the gate was passed on
    the strength of that tick. Locks the release so a promotion cannot slip in
    between the check and the write.
    Audit: ``checklist.item_unticked`` or ``checklist.item_restored``.
    """
    release = item.checklist.release
    check_can_see(actor, release)
    check_person(actor, "untick checklist items")
    if not can_untick_item(actor, item, release):
        raise untick_refusal(item)
    check_open(release)
    reason = text_clean(reason, "Reason", REASON_MAX_LENGTH)
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
                on_behalf_of="",
                updated_at=timezone.now(),
            )
        )
        item = _reload(item)
        if changed and from_status is not None:
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


@_audited_denial("not_applicable")
def item_mark_not_applicable(*, item: Item, actor: Caller, reason: str) -> Item:
    """Mark an open item not applicable to this release, with a reason.

    Callers: the release manager or a project admin; people only.
    Audit: ``checklist.item_not_applicable``.
    """
    release = item.checklist.release
    check_manager(
        actor,
        release,
        doing="mark checklist items not applicable",
        what="mark items not applicable",
    )
    check_open(release)
    reason = text_clean(reason, "Reason", REASON_MAX_LENGTH)
    if not reason:
        raise ValidationFailed(
            "Say why this item does not apply to this release.",
            details={"reason": ["A reason is required."]},
        )
    return _item_resolve(
        item=item,
        actor=actor,
        release=release,
        to_status=ItemStatus.NOT_APPLICABLE,
        action="checklist.item_not_applicable",
        reason=reason,
        na_reason=reason,
        note="",
        evidence="",
    )


def item_add_authorize(*, step: Step, actor: Caller) -> None:
    """Raise unless ``actor`` may add items to ``step`` (views ask before reading the form)."""
    release = step.checklist.release
    check_manager(actor, release, doing="add checklist items", what="add items to this checklist")


@transaction.atomic
def item_add(
    *,
    step: Step,
    actor: Caller,
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
    check_open(release)
    text = text_clean(text, "Text", 300)
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
        added_by=cast(User, actor),  # a person: item_add_authorize refused everyone else
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
def step_record_output(*, step: Step, actor: Caller, text: str) -> Step:
    """Record what a step actually produced, beside what was expected.

    Callers: the release manager, or anyone owning an item of the step.
    Audit: ``checklist.step_output_recorded``.
    """
    release = step.checklist.release
    check_can_see(actor, release)
    check_person(actor, "record a step's output")
    roles = set(Item.objects.filter(step=step).values_list("role", flat=True))
    if not can_record_step_output(actor, roles, release):
        raise step_output_refusal(roles)
    check_open(release)
    text = text_clean(text, "Actual output", 5000)
    step = Step.objects.select_for_update().select_related("checklist__release").get(pk=step.pk)
    if step.actual_output == text:
        return step
    previous = step.actual_output
    step.actual_output = text
    step.actual_output_by = cast(User, actor)  # a person: check_person refused everyone else
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
