"""The checklists API: reading, ticking as a person, refusing tokens and bad input."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from audit.models import AuditEvent
from checklists.choices import ItemStatus
from checklists.services import item_tick
from projects.services import api_token_create
from tests.checklists.helpers import item_named


def _api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


def _token_api(project, *scopes) -> APIClient:
    _token, plain = api_token_create(project=project, name="ci", scopes=scopes, actor=None)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    return client


def _item_url(item, action="") -> str:
    return f"/api/v1/checklist-items/{item.pk}/" + (f"{action}/" if action else "")


def test_read_checklist__person__gets_steps_items_and_gates(small_release, people):
    item_tick(item=item_named(small_release, "Rollback rehearsed"), actor=people.alice, note="ok")
    response = _api(people.quinn).get(f"/api/v1/releases/{small_release.pk}/checklist/")
    assert response.status_code == 200
    data = response.json()
    assert data["template"] == "Small release" and data["template_version"] == 1
    assert (data["resolved"], data["total"]) == (1, 4)
    assert [s["title"] for s in data["steps"]] == ["Branch ready", "Ready for production"]
    items = {i["text"]: i for i in data["steps"][1]["items"]}
    assert items["Rollback rehearsed"]["status"] == "done"
    assert items["Rollback rehearsed"]["completed_by"] == "alice"
    assert items["Regression suite green"]["can_tick"] is True
    assert items["Rollback rehearsed"]["can_untick"] is False  # quinn is not the release manager
    gates = {g["tier"]: g for g in data["gates"]}
    assert gates["production"]["open"] is False
    assert gates["production"]["missing_items"] == ["Regression suite green"]


def test_read_checklist__token_with_read_scope__may_read(small_release, project):
    response = _token_api(project, "read").get(f"/api/v1/releases/{small_release.pk}/checklist/")
    assert response.status_code == 200
    assert all(not i["can_tick"] for s in response.json()["steps"] for i in s["items"])


def test_read_checklist__outsider_and_other_project_token__get_404(
    small_release, people, other_project
):
    assert (
        _api(people.olga).get(f"/api/v1/releases/{small_release.pk}/checklist/").status_code == 404
    )
    other = _token_api(other_project, "read")
    assert other.get(f"/api/v1/releases/{small_release.pk}/checklist/").status_code == 404
    assert _api().get(f"/api/v1/releases/{small_release.pk}/checklist/").status_code in (401, 403)


def test_tick__person_with_role__ticks_with_evidence(small_release, people):
    item = item_named(small_release, "Regression suite green")
    response = _api(people.quinn).post(
        _item_url(item, "tick"),
        {"evidence": "https://ci.example.com/r/1", "note": "all green"},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert (
        body["status"] == "done"
        and body["completed_by"] == "quinn"
        and body["evidence_is_link"] is True
    )


def test_tick__token__is_403_because_tokens_are_not_people(small_release, project):
    item = item_named(small_release, "Rollback rehearsed")
    response = _token_api(project, "read", "releases", "deployments").post(
        _item_url(item, "tick"), {}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["error"] == "people_only"
    assert item_named(small_release, "Rollback rehearsed").status == ItemStatus.OPEN


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({}, "evidence_required"),
        ({"evidence": "ftp://x.example.com/a"}, "evidence_invalid"),
        ({"evidence": "javascript:alert(1)"}, "evidence_invalid"),
        ({"evidence": ["a", "b"]}, "invalid"),
        ({"evidence": "a\x00b"}, "invalid"),
        ({"note": "x" * 2001, "evidence": "run 1"}, "invalid"),
    ],
)
def test_tick__bad_input__is_400_with_a_message_and_changes_nothing(
    small_release, people, payload, code
):
    item = item_named(small_release, "Regression suite green")
    response = _api(people.quinn).post(_item_url(item, "tick"), payload, format="json")
    assert response.status_code == 400
    assert response.json()["error"] in (code, "malformed_request")
    assert response.json()["message"]
    assert item_named(small_release, "Regression suite green").status == ItemStatus.OPEN


def test_tick__malformed_json__is_400(small_release, people):
    item = item_named(small_release, "Rollback rehearsed")
    response = _api(people.alice).post(
        _item_url(item, "tick"), "{not json", content_type="application/json"
    )
    assert response.status_code == 400


@pytest.mark.parametrize("path", ["999999", "abc", "-1"])
def test_tick__nonexistent_item__is_404(small_release, people, path):
    response = _api(people.alice).post(f"/api/v1/checklist-items/{path}/tick/", {}, format="json")
    assert response.status_code == 404


def test_tick__item_of_another_project__is_404(small_release, people):
    item = item_named(small_release, "Rollback rehearsed")
    response = _api(people.olga).post(_item_url(item, "tick"), {}, format="json")
    assert response.status_code == 404
    assert item_named(small_release, "Rollback rehearsed").status == ItemStatus.OPEN


def test_tick__wrong_role__is_403(small_release, people):
    item = item_named(small_release, "Regression suite green")
    response = _api(people.bob).post(_item_url(item, "tick"), {"evidence": "run 1"}, format="json")
    assert response.status_code == 403


def test_untick_and_not_applicable(small_release, people):
    item = item_named(small_release, "Rollback rehearsed")
    client = _api(people.alice)
    client.post(_item_url(item, "tick"), {}, format="json")
    response = client.post(_item_url(item, "untick"), {"reason": "Wrong artifact"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "open"
    response = client.post(_item_url(item, "not-applicable"), {}, format="json")
    assert response.status_code == 400
    response = client.post(
        _item_url(item, "not-applicable"), {"reason": "Config only"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "not_applicable"
    assert response.json()["na_reason"] == "Config only"
    assert AuditEvent.objects.filter(action__startswith="checklist.item_").count() == 3


def test_untick__after_gate_passed__is_409(small_release, people, envs, checklist_gates):
    from releases.services import release_promote
    from tests.checklists.helpers import deploy

    item = item_named(small_release, "Release branch cut")
    item_tick(item=item, actor=people.alice)
    deploy(small_release, envs["dev"], people.bob)
    release_promote(release=small_release, environment=envs["staging"], actor=people.bob)
    response = _api(people.alice).post(_item_url(item, "untick"), {}, format="json")
    assert response.status_code == 409
    assert response.json()["error"] == "gate_already_passed"


def test_adhoc_item_and_step_output(small_release, people):
    step = item_named(small_release, "Rollback rehearsed").step
    client = _api(people.alice)
    response = client.post(
        f"/api/v1/checklist-steps/{step.pk}/items/",
        {"text": "Warn support", "role": "product_owner"},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["is_adhoc"] is True and response.json()["added_by"] == "alice"
    response = client.post(
        f"/api/v1/checklist-steps/{step.pk}/items/", {"text": "x", "role": "wizard"}, format="json"
    )
    assert response.status_code == 400
    response = client.post(
        f"/api/v1/checklist-steps/{step.pk}/output/",
        {"actual_output": "Rehearsed twice"},
        format="json",
    )
    assert response.status_code == 200 and response.json()["actual_output"] == "Rehearsed twice"
    assert (
        _api(people.bob)
        .post(f"/api/v1/checklist-steps/{step.pk}/items/", {"text": "no"}, format="json")
        .status_code
        == 403
    )


def test_templates__list_detail_and_version(small_template, people, project):
    client = _api(people.alice)
    response = client.get("/api/v1/checklist-templates/")
    assert response.status_code == 200
    names = {t["name"] for t in response.json()["results"]}
    assert {"Small release", "Release procedure", "Hotfix (emergency path)"} <= names
    detail = client.get(f"/api/v1/checklist-templates/{small_template.pk}/").json()
    assert detail["latest"]["number"] == 1
    assert [s["title"] for s in detail["latest"]["steps"]] == [
        "Branch ready",
        "Ready for production",
    ]
    version = client.get(f"/api/v1/checklist-templates/{small_template.pk}/versions/1/")
    assert (
        version.status_code == 200
        and version.json()["steps"][1]["items"][1]["evidence_required"] is True
    )
    assert (
        client.get(f"/api/v1/checklist-templates/{small_template.pk}/versions/9/").status_code
        == 404
    )
    assert (
        _api(people.olga).get(f"/api/v1/checklist-templates/{small_template.pk}/").status_code
        == 404
    )
    assert _token_api(project, "read").get("/api/v1/checklist-templates/").status_code == 200


def test_templates__draft_versions_only_for_admins(small_template, people):
    from checklists.services import template_draft_start

    template_draft_start(template=small_template, actor=people.adam)
    url = f"/api/v1/checklist-templates/{small_template.pk}/"
    assert [v["number"] for v in _api(people.alice).get(url).json()["versions"]] == [1]
    assert [v["number"] for v in _api(people.adam).get(url).json()["versions"]] == [2, 1]
    assert _api(people.alice).get(url + "versions/2/").status_code == 404
    assert _api(people.adam).get(url + "versions/2/").status_code == 200


def test_schema__documents_the_checklist_endpoints(people):
    response = _api(people.alice).get("/api/schema/?format=json")
    paths = response.json()["paths"]
    assert "/api/v1/releases/{release_id}/checklist/" in paths
    assert "/api/v1/checklist-items/{id}/tick/" in paths
    assert "409" in paths["/api/v1/checklist-items/{id}/untick/"]["post"]["responses"]
