"""Bad input gets a clear JSON error, changes nothing and never a 500."""

from __future__ import annotations

import secrets

import pytest

from audit.models import AuditEvent
from releases.models import Deployment, Release

pytestmark = pytest.mark.usefixtures("core_gates")

LIST = "/api/v1/releases/"


@pytest.fixture
def unchanged(db):
    """Asserts after the test that no release, deployment or audit event was added."""

    def counts():
        return Release.objects.count(), Deployment.objects.count(), AuditEvent.objects.count()

    class Snapshot:
        def take(self):
            self.before = counts()

        def check(self):
            assert counts() == self.before, "bad input changed something"

    return Snapshot()


def _is_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error", "message", "details"}
    assert body["message"]
    if code:
        assert body["error"] == code
    return body


@pytest.mark.parametrize(
    "raw",
    [
        b'{"project": "payments", "version": ',
        b"{'project': 'payments'}",
        b"\xff\xfe\x00garbage",
        b"NaN",
        b"",
    ],
)
def test_create__malformed_json__is_a_400(api, people, project, unchanged, raw):
    unchanged.take()

    response = api(people.alice).post(LIST, raw, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"] in ("malformed_request", "invalid")
    unchanged.check()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"project": "payments", "version": "1.0.0", "title": {"a": 1}}, "title"),
        ({"project": "payments", "version": ["1.0.0"], "title": "t"}, "version"),
        ({"project": "payments", "version": "1.0.0", "title": "t", "type": "gigantic"}, "type"),
        (
            {
                "project": "payments",
                "version": "1.0.0",
                "title": "t",
                "target_date": "next tuesday",
            },
            "target_date",
        ),
        (
            {"project": "payments", "version": "1.0.0", "title": "t", "release_manager": 7.5},
            "release_manager",
        ),
        ({"project": "payments", "version": "1.0.0", "title": "x" * 201}, "title"),
        ({"project": 12, "version": "1.0.0"}, "title"),
        ({"version": "1.0.0", "title": "t"}, "project"),
    ],
)
def test_create__wrong_types__name_the_field(api, people, project, unchanged, payload, field):
    unchanged.take()

    response = api(people.alice).post(LIST, payload, format="json")

    body = _is_error(response, 400, "invalid")
    assert field in body["details"]
    unchanged.check()


def test_create__nul_character__is_a_400(api, people, project, unchanged):
    unchanged.take()

    response = api(people.alice).post(
        LIST, {"project": "payments", "version": "1.0.0", "title": "a\x00b"}, format="json"
    )

    _is_error(response, 400)
    unchanged.check()


def test_create__list_instead_of_object__is_a_400(api, people, project, unchanged):
    unchanged.take()

    response = api(people.alice).post(LIST, [1, 2, 3], format="json")

    _is_error(response, 400, "invalid")
    unchanged.check()


@pytest.mark.parametrize("version", ["1.0", "01.2.3", "1.2.3.4", "banana", "", "1.2.3-", "9" * 70])
def test_create__invalid_version__is_explained(api, people, project, unchanged, version):
    unchanged.take()

    response = api(people.alice).post(
        LIST, {"project": "payments", "version": version, "title": "t"}, format="json"
    )

    body = _is_error(response, 400)
    assert "version" in body["details"]
    unchanged.check()


def test_create__duplicate_version__is_refused(api, people, release, unchanged):
    unchanged.take()

    response = api(people.alice).post(
        LIST, {"project": "payments", "version": "v2.4.0", "title": "Again"}, format="json"
    )

    body = _is_error(response, 400, "duplicate_version")
    assert "2.4.0 already exists" in body["message"]
    unchanged.check()


def test_update__to_a_duplicate_version__is_refused(api, people, project, release, unchanged):
    from releases.services import release_create

    other = release_create(project=project, version="2.5.0", title="Next", actor=people.alice)
    unchanged.take()

    response = api(people.alice).patch(f"{LIST}{other.pk}/", {"version": "2.4.0"}, format="json")

    _is_error(response, 400, "duplicate_version")
    unchanged.check()


@pytest.mark.parametrize("payload", [{}, {"target_date": 5}, {"type": None}, {"version": "x.y.z"}])
def test_update__bad_fields__are_refused(api, people, release, unchanged, payload):
    unchanged.take()

    response = api(people.alice).patch(f"{LIST}{release.pk}/", payload, format="json")

    _is_error(response, 400)
    unchanged.check()


def test_create__unknown_project__is_a_404(api, people, project, unchanged):
    unchanged.take()

    response = api(people.alice).post(
        LIST, {"project": "nope", "version": "1.0.0", "title": "t"}, format="json"
    )

    _is_error(response, 404, "not_found")
    unchanged.check()


def test_create__outsider__gets_404_for_the_project(api, people, project, unchanged):
    unchanged.take()

    response = api(people.olga).post(
        LIST, {"project": "payments", "version": "1.0.0", "title": "t"}, format="json"
    )

    _is_error(response, 404, "not_found")
    unchanged.check()


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("post", "", {"project": "payments", "version": "1.0.0", "title": "t"}),
        ("patch", "{id}/", {"title": "Audited"}),
        ("post", "{id}/cancel/", {"reason": "Auditors do not cancel."}),
        ("post", "{id}/promote/", {"environment": "dev"}),
    ],
)
def test_writes__auditor__is_forbidden(api, people, release, unchanged, method, path, payload):
    unchanged.take()

    response = getattr(api(people.aud), method)(
        LIST + path.format(id=release.pk), payload, format="json"
    )

    _is_error(response, 403, "role_not_held")
    unchanged.check()


@pytest.mark.parametrize(
    "payload",
    [
        {"environment": ""},
        {"environment": None},
        {"environment": ["dev"]},
        {"environment": "dev", "strategy": "yolo"},
        {"environment": "dev", "commit_sha": "f" * 65},
        {},
    ],
)
def test_promote__bad_payload__is_a_400(api, people, release, unchanged, payload):
    unchanged.take()

    response = api(people.bob).post(f"{LIST}{release.pk}/promote/", payload, format="json")

    _is_error(response, 400, "invalid")
    unchanged.check()


@pytest.mark.parametrize(
    "environment", ["moon", "999999", "dev%00", "..", "%F0%9F%9A%80", "9" * 30, "%C2%B2", "x" * 300]
)
def test_gates__odd_environment_names__are_404(api, people, release, environment):
    response = api(people.alice).get(f"{LIST}{release.pk}/gates/{environment}/")

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


@pytest.mark.parametrize(
    "payload",
    [{"succeeded": "maybe"}, {"succeeded": None}, {}, {"succeeded": [True]}, {"status": "maybe"}],
)
def test_finish__wrong_types__are_refused(api, people, release, unchanged, payload):
    client = api(people.bob)
    deployment = client.post(
        f"{LIST}{release.pk}/promote/", {"environment": "dev"}, format="json"
    ).json()
    unchanged.take()

    response = client.post(
        f"/api/v1/deployments/{deployment['id']}/finish/", payload, format="json"
    )

    _is_error(response, 400, "invalid")
    # The old spelling's own errors name it; a body without either names "status".
    assert ("succeeded" if "succeeded" in payload else "status") in response.json()["details"]
    unchanged.check()
    assert Deployment.objects.get().status == "in_progress"


def test_unsupported_media_type__is_a_415(api, people, project, unchanged):
    unchanged.take()

    response = api(people.alice).post(LIST, "<release/>", content_type="application/xml")

    _is_error(response, 415, "unsupported_media_type")
    unchanged.check()


def test_unknown_endpoint__is_a_json_404(api, people):
    response = api(people.alice).get("/api/v1/nothing-here/")

    _is_error(response, 404, "not_found")


# --- CSRF with session authentication ----------------------------------------------------


def test_csrf__missing_token__is_refused(api, people, project, unchanged):
    unchanged.take()

    response = api(people.alice, enforce_csrf=True).post(
        LIST, {"project": "payments", "version": "1.0.0", "title": "t"}, format="json"
    )

    body = _is_error(response, 403)
    assert "CSRF" in body["message"]
    unchanged.check()


def test_csrf__forged_token__is_refused(api, people, project, unchanged):
    client = api(people.alice, enforce_csrf=True)
    client.cookies["csrftoken"] = secrets.token_hex(16)
    unchanged.take()

    response = client.post(
        LIST,
        {"project": "payments", "version": "1.0.0", "title": "t"},
        format="json",
        HTTP_X_CSRFTOKEN=secrets.token_hex(16),
    )

    body = _is_error(response, 403)
    assert "CSRF" in body["message"]
    unchanged.check()


def test_csrf__matching_token__is_accepted(api, people, project):
    client = api(people.alice, enforce_csrf=True)
    token = secrets.token_hex(16)
    client.cookies["csrftoken"] = token

    response = client.post(
        LIST,
        {"project": "payments", "version": "1.0.0", "title": "t"},
        format="json",
        HTTP_X_CSRFTOKEN=token,
    )

    assert response.status_code == 201


def test_csrf__not_needed_with_an_api_token(project, release):
    from rest_framework.test import APIClient

    from projects.services import api_token_create

    _token, plain = api_token_create(project=project, name="ci", scopes=["deployments"], actor=None)
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")

    response = client.post(f"{LIST}{release.pk}/promote/", {"environment": "dev"}, format="json")

    assert response.status_code == 201


@pytest.mark.django_db
def test_an_empty_accept_header_is_read_as_anything(client):
    """Not 406: an ``Accept:`` with no value means what no header means."""
    for accept in ("", " ", ";"):
        response = client.get("/api/v1/releases/", HTTP_ACCEPT=accept)
        assert response.status_code in (401, 403), (accept, response.status_code)
        assert response.json()["error"] in ("not_authenticated", "authentication_failed")
