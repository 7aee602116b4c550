"""One JSON error shape for everything that can go wrong, and nothing changed by bad input."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from audit.models import AuditEvent
from releases.models import Release
from tests.integrations.conftest import Api

pytestmark = pytest.mark.django_db

RELEASES = "/api/v1/ci/releases/"


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error", "message", "details"}
    assert body["message"]
    if code:
        assert body["error"] == code
    return body


def test_unknown_endpoint__is_404_json(api):
    assert_error(api.get("/api/v1/ci/nothing-here/"), 404, "not_found")
    assert_error(api.post("/api/v1/ci/nothing-here/", {}), 404, "not_found")


def test_wrong_method__is_405_json(api):
    response = api.client.delete(RELEASES, headers={"Authorization": f"Bearer {api.token}"})
    assert_error(response, 405, "method_not_allowed")
    assert_error(
        api.client.put(
            f"{RELEASES}1.0.0/",
            "{}",
            content_type="application/json",
            headers={"Authorization": f"Bearer {api.token}"},
        ),
        405,
    )


def test_body_over_the_limit__is_413_json_and_nothing_created(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    body = assert_error(
        api.post(RELEASES, {"version": "1.3.0", "notes": "x" * 5000}), 413, "payload_too_large"
    )
    assert body["details"] == {"limit_bytes": 2048}
    assert not Release.objects.exists()


def test_body_over_the_limit__on_another_apps_endpoint__is_413_json(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    assert_error(api.post("/api/v1/releases/", {"notes": "x" * 5000}), 413, "payload_too_large")


def test_not_json__is_415_json(api):
    body = assert_error(
        api.post(RELEASES, raw="version=1.3.0", content_type="text/plain"),
        415,
        "unsupported_media_type",
    )
    assert "text/plain" in body["message"]
    assert not Release.objects.exists()


def test_form_encoded__is_415_on_the_pipeline_api(api):
    assert_error(
        api.post(RELEASES, raw="version=1.3.0", content_type="application/x-www-form-urlencoded"),
        415,
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ('{"version": "1.3.0"', "not valid JSON"),
        ('{"version": NaN}', "not valid JSON"),
        ("[" * 5000 + "]" * 5000, "nests deeper"),
        ('{"a":' * 40 + "1" + "}" * 40, "nests deeper"),
        ('{"version": "1.3.0", "title": "a\\u0000b"}', "NUL"),
        ('{"version": "1.3.0", "title": "\\ud800"}', "surrogate"),
        ('{"version": ' + "9" * 5000 + "}", "not valid JSON"),
        (b"\xff\xfe{", "not valid JSON"),
    ],
    ids=[
        "truncated",
        "nan",
        "deep-list",
        "deep-object",
        "nul",
        "surrogate",
        "huge-int",
        "bad-utf8",
    ],
)
def test_malformed_json__is_400_json_and_nothing_created(api, raw, message):
    body = assert_error(api.post(RELEASES, raw=raw), 400, "malformed_request")
    assert message in body["message"]
    assert not Release.objects.exists()


def test_deep_json__on_another_apps_endpoint__is_400_not_500(api):
    assert_error(
        api.post("/api/v1/releases/", raw="[" * 5000 + "]" * 5000), 400, "malformed_request"
    )


def test_unknown_field__is_refused_naming_it(api):
    body = assert_error(
        api.post(RELEASES, {"version": "1.3.0", "enviroment": "dev"}), 400, "invalid"
    )
    assert list(body["details"]) == ["enviroment"]
    assert "Accepted fields: project, version" in body["details"]["enviroment"][0]
    assert not Release.objects.exists()


def test_unknown_field_in_a_nested_item__is_refused(api, people, project):
    api.post(RELEASES, {"version": "1.3.0"})
    body = assert_error(
        api.post(f"{RELEASES}1.3.0/commits/", {"commits": [{"sha": "abcdef1", "hash": "x"}]}), 400
    )
    assert "hash" in json.dumps(body["details"])


@pytest.mark.parametrize(
    "body",
    [
        ["version", "1.3.0"],
        "1.3.0",
        42,
        None,
        {"version": ["1.3.0"]},
        {"version": {"major": 1}},
        {"version": "1.3.0", "type": "gigantic"},
        {"version": "1.3.0", "target_date": "next tuesday"},
        {"version": "1.3.0", "title": "t" * 201},
        {"version": "1.3.0", "title": 7.5, "type": ["minor"]},
    ],
    ids=[
        "list",
        "string",
        "number",
        "null",
        "version-list",
        "version-object",
        "bad-choice",
        "bad-date",
        "too-long",
        "wrong-types",
    ],
)
def test_wrong_types__are_400_and_nothing_created(api, body):
    assert_error(api.post(RELEASES, body), 400)
    assert not Release.objects.exists()
    assert not AuditEvent.objects.filter(action="release.created").exists()


def test_wrong_types__in_deployment_report__are_400(api):
    api.post(RELEASES, {"version": "1.3.0"})
    for body in (
        {"environment": 5, "status": "started"},
        {"environment": "dev", "status": True},
        {"environment": "dev", "status": "started", "commit_sha": "zz"},
        {"environment": "dev", "status": "exploded"},
    ):
        assert_error(api.post(f"{RELEASES}1.3.0/deployments/", body), 400)


def test_rate_limit__per_token__is_429_json_with_retry_after(make_token, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "3/min"},
    }
    first, second = Api(make_token(name="one")), Api(make_token(name="two"))
    for _ in range(3):
        assert first.get("/api/v1/ci/whoami/").status_code == 200
    body = assert_error(first.get("/api/v1/ci/whoami/"), 429, "rate_limited")
    assert body["details"]["retry_after_seconds"] >= 0
    assert int(first.get("/api/v1/ci/whoami/")["Retry-After"]) >= 0
    # Another token has its own budget.
    assert second.get("/api/v1/ci/whoami/").status_code == 200


def test_rate_limit__people_are_not_limited_by_it(people, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "1/min"},
    }
    client = Client()
    client.force_login(people.alice)
    for _ in range(3):
        assert client.get("/api/v1/ci/whoami/").status_code == 200


def test_version_in_url__too_long_or_odd__is_400_not_500(api):
    for version in ("1" * 500, "1.0.0%00", "..", "1.0.0+build.1"):
        response = api.get(f"{RELEASES}{version}/gate/dev/")
        assert response.status_code in (400, 404)
        assert response["Content-Type"].startswith("application/json")
