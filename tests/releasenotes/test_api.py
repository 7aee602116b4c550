"""The release-notes API: reads, the order of checks on writes, versions, links, the public read."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from projects.services import api_token_create
from releasenotes.services import link_create, notes_edit, notes_publish
from tests.releasenotes.helpers import add_commits, new_release

pytestmark = pytest.mark.django_db


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


def _url(release, tail="") -> str:
    return f"/api/v1/release-notes/releases/{release.pk}/{tail}"


def test_read__state_draft_and_latest(release, people):
    add_commits(release, people.alice, "feat: search")
    data = _api(people.quinn).get(_url(release)).json()
    assert data["state"] == "none" and data["latest"] is None
    notes_publish(release=release, actor=people.alice)
    data = _api(people.quinn).get(_url(release)).json()
    assert (
        data["state"] == "published" and data["latest"]["number"] == 1 and data["changed"] is False
    )
    assert data["entries"][0]["group"] == "New"


def test_regenerate_edit_publish__as_the_release_manager(release, people):
    add_commits(release, people.alice, "fix: crash")
    api = _api(people.alice)
    assert api.post(_url(release, "regenerate/")).json()["generated"].startswith("## Fixed")
    edited = api.post(_url(release, "edit/"), {"written": "Hello."}, format="json").json()
    assert edited["written"] == "Hello." and edited["changed"] is True
    first = api.post(_url(release, "publish/"))
    assert (
        first.status_code == 201 and first.json()["repeat"] is False and first.json()["number"] == 1
    )
    again = api.post(_url(release, "publish/"))
    assert again.status_code == 200 and again.json()["repeat"] is True
    assert "<h2>Fixed</h2>" in again.json()["html"]


def test_writes__checks_come_before_the_body(release, people):
    # An auditor with a malformed body: 403, never 400.
    response = _api(people.aud).post(
        _url(release, "edit/"), "{not json", content_type="application/json"
    )
    assert response.status_code == 403 and response.json()["error"] == "role_not_held"
    assert _api(people.olga).post(_url(release, "publish/")).status_code == 404
    assert _api().post(_url(release, "publish/")).status_code in (401, 403)
    bad = _api(people.alice).post(
        _url(release, "edit/"), {"written": 5 * "x" * 10_001}, format="json"
    )
    assert bad.status_code == 400 and bad.json()["error"] == "invalid"


def test_tokens__read_scope_reads_releases_scope_writes(release, project, people):
    add_commits(release, people.alice, "feat: x")
    assert _token_api(project, "read").get(_url(release)).status_code == 200
    refused = _token_api(project, "read").post(_url(release, "publish/"))
    assert refused.status_code == 403
    assert _token_api(project, "releases").post(_url(release, "publish/")).status_code == 201


def test_versions__list_paginates_and_detail(release, people):
    add_commits(release, people.alice, "feat: x")
    notes_publish(release=release, actor=people.alice)
    notes_edit(release=release, actor=people.alice, written="More.")
    notes_publish(release=release, actor=people.alice)
    listing = _api(people.quinn).get(_url(release, "versions/")).json()
    assert listing["count"] == 2 and [v["number"] for v in listing["results"]] == [2, 1]
    one = _api(people.quinn).get(_url(release, "versions/1/")).json()
    assert "More." not in one["markdown"] and one["sha256"] == listing["results"][1]["sha256"]
    assert _api(people.quinn).get(_url(release, "versions/7/")).status_code == 404


def test_environment__accumulated_notes(release, people):
    data = _api(people.quinn).get(_url(release, "environments/production/")).json()
    assert data["since"] is None and [c["version"] for c in data["covered"]] == ["2.4.0"]
    assert _api(people.quinn).get(_url(release, "environments/mars/")).status_code == 404


def test_changelog_and_settings(project, people, release):
    add_commits(release, people.alice, "feat: x")
    notes_publish(release=release, actor=people.alice)
    md = (
        _api(people.quinn)
        .get(f"/api/v1/release-notes/projects/{project.slug}/changelog/")
        .json()["markdown"]
    )
    assert "## [2.4.0] - " in md and "### Added" in md
    url = f"/api/v1/release-notes/projects/{project.slug}/settings/"
    assert (
        _api(people.alice).put(url, {"tracker_url_template": "nope"}, format="json").status_code
        == 403
    )
    assert (
        _api(people.adam).put(url, {"tracker_url_template": "nope"}, format="json").status_code
        == 400
    )
    ok = _api(people.adam).put(
        url, {"tracker_url_template": "https://t.example.com/{key}"}, format="json"
    )
    assert ok.status_code == 200 and _api(people.quinn).get(url).json()[
        "tracker_url_template"
    ].endswith("{key}")
    assert _api(people.olga).get(url).status_code == 404


def test_links__create_shows_the_secret_once_list_hides_it_revoke_and_public_read(release, people):
    add_commits(release, people.alice, "feat: x")
    notes_publish(release=release, actor=people.alice)
    api = _api(people.alice)
    made = api.post(_url(release, "links/"), {"label": "Customers"}, format="json")
    assert made.status_code == 201
    secret = made.json()["secret"]
    assert made.json()["url"].endswith(f"/release-notes/p/{secret}/")
    listing = api.get(_url(release, "links/")).json()
    assert listing[0]["label"] == "Customers" and "secret" not in listing[0]
    assert _api(people.quinn).get(_url(release, "links/")).status_code == 403
    public = APIClient().get(f"/api/v1/release-notes/public/{secret}/")
    assert public.status_code == 200 and public.json()["number"] == 1
    api.post(_url(release, f"links/{listing[0]['id']}/revoke/"))
    assert APIClient().get(f"/api/v1/release-notes/public/{secret}/").status_code == 404


def test_public__unpublished_notes_are_not_shown(release, people):
    made = link_create(release=release, actor=people.alice)
    assert APIClient().get(f"/api/v1/release-notes/public/{made.secret}/").status_code == 404


def test_reads__constant_queries(project, people, django_assert_max_num_queries):
    def make(n):
        rel = new_release(project, people.alice, f"8.{n}.0")
        add_commits(rel, people.alice, *[f"feat: t{i}" for i in range(n)])
        for i in range(n):
            notes_edit(release=rel, actor=people.alice, written=f"e{i}")
            notes_publish(release=rel, actor=people.alice)
        return rel

    small, big = make(1), make(12)
    api = _api(people.quinn)
    for tail in ("", "versions/", "environments/production/"):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert api.get(_url(small, tail)).status_code == 200
        with django_assert_max_num_queries(len(ctx.captured_queries)):
            assert api.get(_url(big, tail)).status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        api.get(f"/api/v1/release-notes/projects/{project.slug}/changelog/")
    make(3)
    with django_assert_max_num_queries(len(ctx.captured_queries)):
        api.get(f"/api/v1/release-notes/projects/{project.slug}/changelog/")
