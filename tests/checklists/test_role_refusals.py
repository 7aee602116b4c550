"""Issue 12, item 7: checklist refusals use the shared role refusal (code role_not_held)."""

from __future__ import annotations

from rest_framework.test import APIClient

from tests.checklists.helpers import item_named


def _as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


def test_checklist_tick__wrong_role__role_not_held_with_the_sentence(small_release, people):
    item = item_named(small_release, "Dashboards open")  # an engineer's item
    response = _as(people.quinn).post(f"/api/v1/checklist-items/{item.pk}/tick/", {}, format="json")
    assert response.status_code == 403
    assert response.json()["error"] == "role_not_held"
    assert response.json()["message"] == (
        "Only an engineer or the release's manager may tick 'Dashboards open'."
    )


def test_checklist_tick__release_manager_item__no_doubled_release_manager(small_release, people):
    item = item_named(small_release, "Release branch cut")  # a release manager's item
    response = _as(people.bob).post(f"/api/v1/checklist-items/{item.pk}/tick/", {}, format="json")
    assert response.status_code == 403
    assert response.json()["error"] == "role_not_held"
    assert response.json()["message"] == "Only a release manager may tick 'Release branch cut'."


def test_checklist_not_applicable__wrong_role__role_not_held(small_release, people):
    item = item_named(small_release, "Dashboards open")
    response = _as(people.bob).post(
        f"/api/v1/checklist-items/{item.pk}/not-applicable/", {"reason": "x"}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["error"] == "role_not_held"
    assert response.json()["message"] == (
        "Only a release manager or a project admin may mark items not applicable."
    )
