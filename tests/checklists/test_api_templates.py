"""Checklist templates through the API: create, edit the draft, publish, choose per release type."""

from __future__ import annotations

from rest_framework.test import APIClient

from audit.models import AuditEvent
from checklists.choices import VersionStatus
from checklists.models import ChecklistTemplate, TemplateVersion
from checklists.services import shipped_templates_install
from projects.services import api_token_create

URL = "/api/v1/checklist-templates/"


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def _new(client, **extra):
    return client.post(
        URL, {"project": "payments", "name": "Mobile release", **extra}, format="json"
    )


def test_template__create_edit_publish__the_whole_editor_through_the_api(people, project):
    client = api(people.adam)
    response = _new(client, description="For the app stores.", release_types=["minor"])
    assert response.status_code == 201, response.content
    template_id = response.json()["id"]
    assert response.json()["release_types"] == ["minor"]
    assert response.json()["versions"][0]["status"] == "draft"

    draft = client.get(f"{URL}{template_id}/draft/").json()
    assert draft["number"] == 1 and draft["steps"] == []

    response = client.post(
        f"{URL}{template_id}/draft/steps/",
        {"title": "Store review", "phase": "before_production"},
        format="json",
    )
    assert response.status_code == 201, response.content
    step_id = response.json()["steps"][0]["id"]
    client.post(f"{URL}{template_id}/draft/steps/", {"title": "Rollout"}, format="json")

    response = client.post(
        f"/api/v1/checklist-template-steps/{step_id}/items/",
        {"text": "Screenshots updated", "role": "product_owner", "evidence_required": True},
        format="json",
    )
    assert response.status_code == 201, response.content
    item = response.json()["steps"][0]["items"][0]
    assert item["role"] == "product_owner" and item["evidence_required"] is True

    response = client.patch(
        f"/api/v1/checklist-template-items/{item['id']}/",
        {"text": "Store screenshots updated"},
        format="json",
    )
    assert response.json()["steps"][0]["items"][0]["text"] == "Store screenshots updated"

    # A step without items: refused, with the page's sentence.
    refused = client.post(f"{URL}{template_id}/publish/", {}, format="json")
    assert refused.status_code == 400
    assert (
        refused.json()["message"] == "Every step needs at least one item; these have none: Rollout."
    )

    steps = client.get(f"{URL}{template_id}/draft/").json()["steps"]
    moved = client.post(
        f"/api/v1/checklist-template-steps/{steps[1]['id']}/move/",
        {"direction": "up"},
        format="json",
    ).json()
    assert [s["title"] for s in moved["steps"]] == ["Rollout", "Store review"]
    deleted = client.delete(f"/api/v1/checklist-template-steps/{steps[1]['id']}/")
    assert [s["title"] for s in deleted.json()["steps"]] == ["Store review"]

    published = client.post(f"{URL}{template_id}/publish/", {"change_note": "First"}, format="json")
    assert published.status_code == 200, published.content
    body = published.json()
    assert body["number"] == 1 and body["status"] == "published"
    assert body["steps"][0]["items"][0]["text"] == "Store screenshots updated"
    assert TemplateVersion.objects.get(template_id=template_id).status == VersionStatus.PUBLISHED
    actions = list(
        AuditEvent.objects.filter(action__startswith="checklist_template.").values_list(
            "action", flat=True
        )
    )
    assert actions[0] == "checklist_template.created"
    assert actions[-1] == "checklist_template.published"

    # Published versions are frozen: editing starts a new draft, a copy of version 1.
    frozen = client.patch(
        f"/api/v1/checklist-template-items/{item['id']}/", {"text": "x"}, format="json"
    )
    assert frozen.status_code == 409 and frozen.json()["error"] == "template_not_editable"
    assert client.get(f"{URL}{template_id}/draft/").status_code == 404
    draft = client.post(f"{URL}{template_id}/draft/").json()
    assert draft["number"] == 2 and draft["steps"][0]["title"] == "Store review"
    assert client.delete(f"{URL}{template_id}/draft/").status_code == 204
    assert not TemplateVersion.objects.filter(template_id=template_id, number=2).exists()


def test_template__release_types_choose_the_template_new_releases_use(people, project):
    client = api(people.adam)
    first = _new(client, name="Standard", release_types=["minor", "patch"]).json()
    second = _new(client, name="Patch only").json()
    response = client.patch(f"{URL}{second['id']}/", {"release_types": ["patch"]}, format="json")
    assert response.status_code == 200 and response.json()["release_types"] == ["patch"]
    assert ChecklistTemplate.objects.get(pk=first["id"]).release_types == ["minor"]
    bad = client.patch(f"{URL}{second['id']}/", {"release_types": ["weekly"]}, format="json")
    assert bad.status_code == 400
    assert bad.json()["message"].startswith("Unknown release type weekly.")


def test_template__bad_name__same_sentence_in_api_and_page(people, project, client):
    response = _new(api(people.adam), name="   ")
    assert response.status_code == 400 and response.json()["message"] == "Name is required."
    client.force_login(people.adam)
    page = client.post("/checklists/templates/new/", {"project": "payments", "name": "   "})
    assert page.status_code == 200 and "Name is required." in page.content.decode()
    template = _new(api(people.adam)).json()
    page = client.post(
        f"/checklists/templates/{template['id']}/settings/",
        {"name": "x" * 121},
        HTTP_HX_REQUEST="true",
    )
    assert "Name is longer than 120 characters." in page.content.decode()
    response = api(people.adam).patch(f"{URL}{template['id']}/", {"name": "x" * 121}, format="json")
    assert response.json()["message"] == "Name is longer than 120 characters."
    assert ChecklistTemplate.objects.filter(project=project).count() == 1


def test_template__who_may__order_of_checks(people, project):
    own = _new(api(people.adam)).json()
    _token, plain = api_token_create(
        project=project, name="ci", scopes=["read", "releases"], actor=people.adam
    )
    machine = APIClient()
    machine.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    response = machine.post(URL, {"project": "payments", "name": "x"}, format="json")
    assert response.status_code == 403 and response.json()["error"] == "people_only"

    for who in (people.aud, people.alice):
        assert _new(api(who)).status_code == 403
        assert api(who).patch(f"{URL}{own['id']}/", {"name": "y"}, format="json").status_code == 403
        assert api(who).post(f"{URL}{own['id']}/publish/", {}, format="json").status_code == 403
    # An auditor is refused before a malformed body is read; a release manager learns what is wrong.
    assert api(people.aud).post(URL, "{", content_type="application/json").status_code == 403
    assert api(people.alice).post(URL, "{", content_type="application/json").status_code == 400
    assert api(people.aud).get(f"{URL}{own['id']}/draft/").status_code == 404
    # Another project's admin sees nothing of this project's templates.
    assert _new(api(people.olga)).status_code == 404
    assert api(people.olga).get(f"{URL}{own['id']}/").status_code == 404
    assert (
        api(people.olga).patch(f"{URL}{own['id']}/", {"name": "y"}, format="json").status_code
        == 404
    )
    assert (
        api(people.olga).post(f"{URL}{own['id']}/draft/steps/", {}, format="json").status_code
        == 404
    )
    assert ChecklistTemplate.objects.get(pk=own["id"]).name == "Mobile release"


def test_template__shipped_templates_are_copied_not_edited(people, project):
    shipped_templates_install()
    shipped = ChecklistTemplate.objects.filter(project__isnull=True).first()
    response = api(people.adam).post(f"{URL}{shipped.pk}/draft/", format="json")
    assert response.status_code == 409
    assert "copy one into your project" in response.json()["message"]
    assert api(people.aud).post(f"{URL}{shipped.pk}/draft/", format="json").status_code == 403
    copy = _new(api(people.adam), name="Our copy", copy_from=shipped.pk)
    assert copy.status_code == 201, copy.content
    draft = api(people.adam).get(f"{URL}{copy.json()['id']}/draft/").json()
    assert len(draft["steps"]) > 0
