"""Issue 12, item 16: ITEM_TRANSITIONS is enforced; a repeated move stays a quiet no-op."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from checklists.choices import ItemStatus
from checklists.models import Item
from checklists.services import item_mark_not_applicable, item_tick, item_untick
from core.exceptions import TransitionNotAllowed
from tests.checklists.helpers import item_named


def test_tick__a_not_applicable_item__is_refused(small_release, people):
    item = item_named(small_release, "Rollback rehearsed")
    item_mark_not_applicable(item=item, actor=people.alice, reason="No schema change.")
    with pytest.raises(TransitionNotAllowed) as exc:
        item_tick(item=item, actor=people.alice)
    assert exc.value.message == "A checklist item that is not applicable cannot become done."
    assert Item.objects.get(pk=item.pk).status == ItemStatus.NOT_APPLICABLE
    assert not AuditEvent.objects.filter(action="checklist.item_ticked").exists()


def test_not_applicable__a_done_item__is_refused(small_release, people):
    item = item_named(small_release, "Rollback rehearsed")
    item_tick(item=item, actor=people.alice)
    with pytest.raises(TransitionNotAllowed) as exc:
        item_mark_not_applicable(item=item, actor=people.alice, reason="Changed my mind.")
    assert exc.value.message == "A checklist item that is done cannot become not applicable."
    assert Item.objects.get(pk=item.pk).status == ItemStatus.DONE


def test_tick__twice__second_changes_nothing(small_release, people):
    item = item_named(small_release, "Rollback rehearsed")
    item_tick(item=item, actor=people.alice, note="Rehearsed on staging.")
    again = item_tick(item=item, actor=people.alice, note="Other note")
    assert again.status == ItemStatus.DONE
    assert again.note == "Rehearsed on staging."
    assert AuditEvent.objects.filter(action="checklist.item_ticked").count() == 1


def test_untick__an_open_item__changes_nothing(small_release, people):
    item = item_named(small_release, "Rollback rehearsed")
    assert item_untick(item=item, actor=people.alice).status == ItemStatus.OPEN
    assert not AuditEvent.objects.filter(action="checklist.item_unticked").exists()


def test_api_tick__a_not_applicable_item__is_409(small_release, people):
    from rest_framework.test import APIClient

    item = item_named(small_release, "Rollback rehearsed")
    item_mark_not_applicable(item=item, actor=people.alice, reason="No schema change.")
    client = APIClient()
    client.force_authenticate(people.alice)
    response = client.post(f"/api/v1/checklist-items/{item.pk}/tick/", {}, format="json")
    assert response.status_code == 409, response.json()
    assert response.json()["error"] == "transition_not_allowed"
    assert response.json()["details"] == {"from_state": "not_applicable", "to_state": "done"}
