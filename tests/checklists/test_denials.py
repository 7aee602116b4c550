"""Refused ticks, unticks and not-applicable marks are in the audit trail, as refused approvals are.

Same action naming (``<app>.denied``), same to_state, same data fields; the
item itself is left as it was.
"""

from __future__ import annotations

import pytest

from approvals.services import decision_authorize
from audit.models import AuditEvent
from checklists.choices import ItemStatus
from checklists.models import Item
from checklists.services import item_mark_not_applicable, item_tick, item_untick
from core.exceptions import NotFound, PermissionDenied
from projects.principals import TokenPrincipal
from projects.services import api_token_create
from tests.checklists.helpers import item_named


def _denials(actor_label: str):
    return AuditEvent.objects.filter(action="checklist.denied", actor_label=actor_label)


def test_tick_by_a_member_without_the_role__is_recorded_as_denied(small_release, people):
    item = item_named(small_release, "Regression suite green")
    with pytest.raises(PermissionDenied) as exc:
        item_tick(item=item, actor=people.bob, evidence="run 12")
    event = _denials("bob").get()
    assert event.to_state == "denied"
    assert event.reason == exc.value.message
    assert event.object_type == "checklists.item" and event.object_id == str(item.pk)
    assert event.release_id == small_release.pk and event.project_id == small_release.project_id
    assert event.data == {"attempt": "tick", "role": item.role, "error": "role_not_held"}
    assert Item.objects.get(pk=item.pk).status == ItemStatus.OPEN


def test_tick_by_a_token_and_by_an_outsider__are_recorded(small_release, project, people):
    token, _ = api_token_create(project=project, name="CI", scopes=["read"], actor=people.adam)
    item = item_named(small_release, "Rollback rehearsed")
    with pytest.raises(PermissionDenied):
        item_tick(item=item, actor=TokenPrincipal(token))
    assert _denials("token:CI").get().actor_kind == "token"
    with pytest.raises(NotFound):
        item_tick(item=item, actor=people.olga)
    assert _denials("olga").get().data["error"] == "not_found"


def test_untick_and_not_applicable_refusals__are_recorded(small_release, people):
    item = item_named(small_release, "Regression suite green")
    item_tick(item=item, actor=people.quinn, evidence="run 12")
    with pytest.raises(PermissionDenied):
        item_untick(item=item, actor=people.pat)
    other = item_named(small_release, "Dashboards open")
    with pytest.raises(PermissionDenied):
        item_mark_not_applicable(item=other, actor=people.bob, reason="not needed")
    assert [e.data["attempt"] for e in _denials("pat")] == ["untick"]
    assert [e.data["attempt"] for e in _denials("bob")] == ["not_applicable"]
    assert Item.objects.get(pk=item.pk).status == ItemStatus.DONE
    assert Item.objects.get(pk=other.pk).status == ItemStatus.OPEN


def test_refused_tick__has_the_fields_of_a_refused_approval(small_release, people):
    with pytest.raises(PermissionDenied):
        decision_authorize(release=small_release, actor=people.aud)
    with pytest.raises(PermissionDenied):
        item_tick(item=item_named(small_release, "Rollback rehearsed"), actor=people.aud)
    approval = AuditEvent.objects.get(action="approval.denied", actor_label="aud")
    tick = AuditEvent.objects.get(action="checklist.denied", actor_label="aud")
    assert approval.action.split(".")[1] == tick.action.split(".")[1] == "denied"
    assert approval.to_state == tick.to_state == "denied"
    assert set(tick.data) <= {"attempt", "kind", "decision", "environment", "role", "error"}
    assert {"attempt", "error"} <= set(tick.data) & set(approval.data)


def test_refused_tick_through_the_page__is_recorded(client, small_release, people):
    item = item_named(small_release, "Regression suite green")
    client.force_login(people.bob)
    response = client.post(f"/checklists/items/{item.pk}/tick/", {"evidence": "run 9"})
    assert response.status_code in (403, 302)
    assert _denials("bob").filter(data__attempt="tick").count() == 1
