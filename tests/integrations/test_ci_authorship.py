"""Issue 12, item 3: a release a pipeline creates records its token and the token's owner,
and both the owner and the release manager count as its author for separation of duties."""

from __future__ import annotations

import pytest
from django.test import Client

from approvals.models import Approval
from audit.models import AuditEvent
from projects.choices import Role
from projects.models import Membership
from projects.permissions import forget_roles
from releases.models import Release

pytestmark = pytest.mark.django_db

RELEASES = "/api/v1/ci/releases/"


def _grant(project, user, role):
    Membership.objects.get_or_create(project=project, user=user, role=role)
    forget_roles(user)


def _decide(user, release, body):
    client = Client()
    client.force_login(user)
    return client.post(
        f"/api/v1/release-approvals/{release.pk}/approve/", body, content_type="application/json"
    )


@pytest.fixture
def ci_release(api, project, people):
    response = api.post(
        RELEASES,
        {"version": "1.3.0", "title": "Saved cards", "release_manager": "alice"},
    )
    assert response.status_code == 201, response.json()
    return Release.objects.get(project=project, version="1.3.0")


def test_ci_release__records_the_token_and_its_owner(api, ci_release, people):
    assert ci_release.created_by == people.adam
    assert ci_release.created_by_token.name == "pipeline"
    assert ci_release.created_by_token_name == "pipeline"

    body = api.get(f"{RELEASES}1.3.0/").json()
    assert body["created_by"] == "adam"
    assert body["created_by_token"] == "pipeline"
    assert body["release_manager"] == "alice"

    event = AuditEvent.objects.get(action="release.created", object_id=str(ci_release.pk))
    assert event.data["created_by"] == "adam"
    assert event.data["created_by_token"] == "pipeline"
    assert event.actor_label == "token:pipeline"


def test_person_release__has_no_token(people, project):
    client = Client()
    client.force_login(people.alice)
    response = client.post(
        "/api/v1/releases/",
        {"project": "payments", "version": "2.0.0", "title": "By hand"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["created_by"] == "alice"
    assert response.json()["created_by_token"] is None


def test_ci_release__page_shows_the_token_and_its_owner(ci_release, people):
    client = Client()
    client.force_login(people.quinn)
    page = client.get(ci_release.get_absolute_url())
    assert page.status_code == 200
    html = page.content.decode()
    assert "Created by" in html
    assert "through the API token <code>pipeline</code>" in html


def test_ci_release__token_owner_may_not_approve_it(ci_release, project, people):
    _grant(project, people.adam, Role.APPROVER)
    response = _decide(people.adam, ci_release, {"kind": "deployment", "environment": "production"})
    assert response.status_code == 403
    assert response.json()["error"] == "self_approval"
    assert "API token 'pipeline', which you own" in response.json()["message"]
    assert not Approval.objects.exists()
    assert AuditEvent.objects.filter(action="approval.denied").count() == 1


def test_ci_release__release_manager_counts_as_author_even_for_the_scope(
    ci_release, project, people
):
    _grant(project, people.alice, Role.PRODUCT_OWNER)
    response = _decide(people.alice, ci_release, {"kind": "scope"})
    assert response.status_code == 403
    assert response.json()["error"] == "self_approval"
    assert "you are its release manager" in response.json()["message"]
    assert not Approval.objects.exists()


def test_person_release__its_release_manager_may_still_approve_the_scope(people, project):
    from releases.services import release_create

    release = release_create(
        project=project,
        version="2.0.0",
        title="By hand",
        actor=people.bob,
        release_manager=people.alice,
    )
    _grant(project, people.alice, Role.PRODUCT_OWNER)
    response = _decide(people.alice, release, {"kind": "scope"})
    assert response.status_code == 201, response.json()


def test_ci_release__someone_else_may_approve(ci_release, people):
    response = _decide(people.ada, ci_release, {"kind": "deployment", "environment": "production"})
    assert response.status_code == 201, response.json()


def test_ci_release__release_record_names_the_token_and_its_owner(ci_release, people):
    client = Client()
    client.force_login(people.aud)
    response = client.get(f"/audit/releases/{ci_release.pk}/record.json")
    assert response.status_code == 200
    text = response.content.decode()
    assert '"Created through API token"' in text
    assert '"pipeline"' in text
    assert '"Created by"' in text and '"adam"' in text
