"""Releases API: list, detail, create, update, cancel, with who may do what."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from releases.models import Release
from releases.services import release_cancel, release_create
from tests.factories import ReleaseFactory

LIST = "/api/v1/releases/"


def detail(release) -> str:
    return f"/api/v1/releases/{release.pk}/"


# --- List --------------------------------------------------------------------------


def test_list__member__sees_the_projects_releases_newest_first(api, people, project, release):
    release_create(project=project, version="2.5.0", title="Wishlist", actor=people.alice)

    response = api(people.quinn).get(LIST)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [r["version"] for r in body["results"]] == ["2.5.0", "2.4.0"]
    first = body["results"][1]
    assert first["project"] == "payments"
    assert first["release_manager"] == "alice"
    assert first["status"] == "planned"


def test_list__outsider__sees_nothing_of_other_projects(api, people, release):
    response = api(people.olga).get(LIST)

    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_list__anonymous__is_not_authenticated(api, release):
    response = api().get(LIST)

    assert response.status_code == 401
    assert response.json()["error"] == "not_authenticated"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=cancelled", ["2.3.9"]),
        ("type=hotfix", ["2.4.1"]),
        ("q=checkout", ["2.4.0"]),
        ("q=2.4", ["2.4.1", "2.4.0"]),
        ("project=payments&status=planned", ["2.4.1", "2.4.0"]),
        ("project=other", []),
    ],
)
def test_list__filters__narrow_the_results(api, people, project, release, query, expected):
    cancelled = release_create(
        project=project, version="2.3.9", title="Dropped", actor=people.alice
    )
    release_cancel(release=cancelled, actor=people.alice, reason="Not needed.")
    release_create(
        project=project, version="2.4.1", title="Hotfix", type="hotfix", actor=people.alice
    )

    response = api(people.alice).get(f"{LIST}?{query}")

    assert response.status_code == 200
    assert [r["version"] for r in response.json()["results"]] == expected


def test_list__unknown_status_filter__is_a_clear_400(api, people, release):
    response = api(people.alice).get(f"{LIST}?status=shipped")

    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid"
    assert "status" in body["details"]


def test_list__paginates(api, people, project):
    ReleaseFactory.create_batch(5, project=project, release_manager=people.alice)

    response = api(people.alice).get(f"{LIST}?page_size=2&page=2")

    body = response.json()
    assert body["count"] == 5
    assert len(body["results"]) == 2
    assert body["next"] and body["previous"]


def test_list__page_past_the_end__is_a_json_404(api, people, release):
    response = api(people.alice).get(f"{LIST}?page=99")

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_list__query_count_does_not_grow_with_releases(
    api, people, project, django_assert_max_num_queries
):
    client = api(people.alice)
    ReleaseFactory.create_batch(3, project=project, release_manager=people.bob)
    with django_assert_max_num_queries(8) as few:
        client.get(LIST)
    ReleaseFactory.create_batch(
        30, project=project, release_manager=people.bob, created_by=people.bob
    )
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(LIST)
    assert response.json()["count"] == 33


# --- Detail ------------------------------------------------------------------------


def test_detail__member__sees_the_pipeline(api, people, release):
    response = api(people.aud).get(detail(release))

    assert response.status_code == 200
    body = response.json()
    assert body["version"] == "2.4.0"
    assert body["rollback_plan"].startswith("Redeploy 2.3.1")
    assert [stage["environment"] for stage in body["pipeline"]] == ["dev", "staging", "production"]
    assert all(stage["deployment"] is None for stage in body["pipeline"])


@pytest.mark.parametrize("path", ["/api/v1/releases/999999/", "/api/v1/releases/abc/"])
def test_detail__missing__is_a_json_404(api, people, release, path):
    response = api(people.alice).get(path)

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_detail__outsider__gets_the_same_404_as_missing(api, people, release):
    response = api(people.olga).get(detail(release))

    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "message": "No such release.", "details": {}}


# --- Create ------------------------------------------------------------------------


def test_create__release_manager__creates_a_planned_release_with_an_audit_event(
    api, people, project
):
    response = api(people.alice).post(
        LIST,
        {
            "project": "payments",
            "version": "v3.0.0",
            "title": "Subscriptions",
            "type": "major",
            "rollback_plan": "Redeploy 2.x.",
            "target_date": "2031-05-04",
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["version"] == "3.0.0"
    assert body["status"] == "planned"
    assert body["release_manager"] == "alice"
    assert body["target_date"] == "2031-05-04"
    event = AuditEvent.objects.get(action="release.created")
    assert (event.actor_label, event.release_id) == ("alice", body["id"])


def test_create__names_another_release_manager(api, people, project):
    response = api(people.bob).post(
        LIST,
        {"project": "payments", "version": "1.0.0", "title": "First", "release_manager": "alice"},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["release_manager"] == "alice"
    assert response.json()["created_by"] == "bob"


def test_create__release_manager_outside_the_project__is_refused(api, people, project):
    response = api(people.bob).post(
        LIST,
        {"project": "payments", "version": "1.0.0", "title": "First", "release_manager": "olga"},
        format="json",
    )

    assert response.status_code == 400
    assert "release_manager" in response.json()["details"]
    assert not Release.objects.exists()


# --- Update and cancel ---------------------------------------------------------------


def test_update__changes_only_the_fields_sent(api, people, release):
    response = api(people.alice).patch(
        detail(release), {"title": "Faster, safer checkout"}, format="json"
    )

    assert response.status_code == 200
    release.refresh_from_db()
    assert release.title == "Faster, safer checkout"
    assert release.rollback_plan.startswith("Redeploy")
    event = AuditEvent.objects.get(action="release.updated")
    assert event.data["changes"]["title"] == ["Faster checkout", "Faster, safer checkout"]


def test_update__engineer_who_does_not_manage_it__is_forbidden(api, people, release):
    response = api(people.bob).patch(detail(release), {"title": "Mine now"}, format="json")

    assert response.status_code == 403
    assert response.json()["error"] == "role_not_held"
    release.refresh_from_db()
    assert release.title == "Faster checkout"


def test_update__put__is_not_allowed(api, people, release):
    response = api(people.alice).put(detail(release), {"title": "x"}, format="json")

    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"


def test_cancel__records_the_reason(api, people, release):
    response = api(people.alice).post(
        f"{detail(release)}cancel/", {"reason": "Scope moved to 2.5.0."}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    event = AuditEvent.objects.get(action="release.status_changed")
    assert (event.from_state, event.to_state, event.reason) == (
        "planned",
        "cancelled",
        "Scope moved to 2.5.0.",
    )


def test_cancel__twice__changes_nothing_the_second_time(api, people, release):
    client = api(people.alice)
    client.post(f"{detail(release)}cancel/", {"reason": "No."}, format="json")

    response = client.post(f"{detail(release)}cancel/", {"reason": "Again."}, format="json")

    assert response.status_code == 200
    assert AuditEvent.objects.filter(action="release.status_changed").count() == 1


def test_cancel__released_release__is_a_conflict(api, people, project):
    released = ReleaseFactory(project=project, release_manager=people.alice, status="released")

    response = api(people.alice).post(
        f"{detail(released)}cancel/", {"reason": "Too late."}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["error"] == "transition_not_allowed"
    released.refresh_from_db()
    assert released.status == "released"


def test_release_detail__if_none_match__answers_304_until_the_project_changes(
    token_client, release, people, django_assert_max_num_queries
):
    from releases.services import release_update

    client = token_client("read")
    url = f"/api/v1/releases/{release.pk}/"
    first = client.get(url)
    etag = first["ETag"]
    assert first.status_code == 200 and etag
    with django_assert_max_num_queries(6):
        again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and not again.content
    deployments = client.get(f"{url}deployments/")
    assert (
        client.get(f"{url}deployments/", HTTP_IF_NONE_MATCH=deployments["ETag"]).status_code == 304
    )

    release_update(release=release, actor=people.alice, title="Faster checkout, take two")
    changed = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed.json()["title"] == "Faster checkout, take two"
    assert changed["ETag"] != etag


def test_release_detail__if_none_match_for_an_invisible_release__is_404(
    token_client, release, other_project
):
    mine = token_client("read").get(f"/api/v1/releases/{release.pk}/")
    stranger = token_client("read", for_project=other_project)
    answer = stranger.get(f"/api/v1/releases/{release.pk}/", HTTP_IF_NONE_MATCH=mine["ETag"])
    assert answer.status_code == 404
