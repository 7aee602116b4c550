"""Issue 12, item 6: one vocabulary for recording deployments, old spellings deprecated.

Finishing is ``{"status": "succeeded" | "failed", "reason": ...}`` on the releases API,
the monitoring report and the pipeline API; who deployed is ``deployed_by`` everywhere.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from audit.models import AuditEvent
from projects.choices import TokenScope
from releases.models import Deployment
from releases.services import release_promote


@pytest.fixture
def running(release, envs, people, core_gates):
    return release_promote(release=release, environment=envs["dev"], actor=people.bob)


def _post(client, path, body):
    return client.post(path, json.dumps(body), content_type="application/json")


@pytest.fixture
def bob(people):
    client = Client()
    client.force_login(people.bob)
    return client


def _finished_event(deployment):
    return AuditEvent.objects.filter(
        action__in=["deployment.succeeded", "deployment.failed"], object_id=str(deployment.pk)
    ).get()


# --- POST /api/v1/deployments/{id}/finish/ ------------------------------------------------


def test_finish__status_and_reason__200_without_deprecation(bob, running):
    response = _post(
        bob, f"/api/v1/deployments/{running.pk}/finish/", {"status": "failed", "reason": "OOM."}
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "failed"
    assert response.json()["deployed_by"] == "bob"
    assert "Deprecation" not in response.headers
    assert _finished_event(running).reason == "OOM."


def test_finish__old_succeeded_flag__still_works_and_says_it_is_deprecated(bob, running):
    response = _post(bob, f"/api/v1/deployments/{running.pk}/finish/", {"succeeded": True})
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "succeeded"
    assert response.headers["Deprecation"].startswith("@")
    assert response.headers["Sunset"] == "Tue, 01 Jun 2027 00:00:00 GMT"
    assert '"status": "succeeded"' in response.headers["Shipcheck-Deprecated"]


def test_finish__contradicting_old_and_new__400_nothing_changes(bob, running):
    response = _post(
        bob, f"/api/v1/deployments/{running.pk}/finish/", {"status": "failed", "succeeded": True}
    )
    assert response.status_code == 400
    assert "succeeded" in response.json()["details"]
    assert Deployment.objects.get(pk=running.pk).status == "in_progress"


def test_finish__without_status__400_naming_it(bob, running):
    response = _post(bob, f"/api/v1/deployments/{running.pk}/finish/", {"reason": "?"})
    assert response.status_code == 400
    assert "status" in response.json()["details"]
    assert Deployment.objects.get(pk=running.pk).status == "in_progress"


# --- POST /api/v1/monitoring/deployments/{id}/report/ ------------------------------------


def test_monitoring_report__same_words_and_deployed_by(bob, running):
    response = _post(
        bob,
        f"/api/v1/monitoring/deployments/{running.pk}/report/",
        {"status": "succeeded", "reason": "Rolled out."},
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "succeeded"
    assert body["deployed_by"] == "bob"
    assert body["deployed_by_label"] == "bob"  # deprecated, still there until the sunset
    assert "Deprecation" not in response.headers
    assert _finished_event(running).reason == "Rolled out."


def test_monitoring_report__old_succeeded_flag__deprecated(bob, running):
    response = _post(
        bob, f"/api/v1/monitoring/deployments/{running.pk}/report/", {"succeeded": False}
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "failed"
    assert "Deprecation" in response.headers


# --- POST /api/v1/ci/releases/{version}/deployments/ -------------------------------------


@pytest.fixture
def pipeline(token_client):
    return token_client(TokenScope.READ, TokenScope.DEPLOYMENTS)


def test_ci_finish__reason__kept_in_the_audit_trail(pipeline, release, running):
    response = pipeline.post(
        f"/api/v1/ci/releases/{release.version}/deployments/",
        {"environment": "dev", "status": "failed", "reason": "deploy.sh exited 1"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "failed"
    assert "Deprecation" not in response.headers
    assert _finished_event(running).reason == "deploy.sh exited 1"


def test_ci_finish__old_notes__become_the_reason_with_a_deprecation(pipeline, release, running):
    response = pipeline.post(
        f"/api/v1/ci/releases/{release.version}/deployments/",
        {"environment": "dev", "status": "succeeded", "notes": "All green."},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert '"reason"' in response.headers["Shipcheck-Deprecated"]
    assert "Sunset" in response.headers
    assert _finished_event(running).reason == "All green."


def test_ci_finish__notes_and_reason__400(pipeline, release, running):
    response = pipeline.post(
        f"/api/v1/ci/releases/{release.version}/deployments/",
        {"environment": "dev", "status": "succeeded", "notes": "a", "reason": "b"},
        format="json",
    )
    assert response.status_code == 400
    assert "notes" in response.json()["details"]
    assert Deployment.objects.get(pk=running.pk).status == "in_progress"


def test_ci_start__reason__400_and_nothing_starts(pipeline, release, core_gates):
    response = pipeline.post(
        f"/api/v1/ci/releases/{release.version}/deployments/",
        {"environment": "dev", "status": "started", "reason": "why"},
        format="json",
    )
    assert response.status_code == 400
    assert "reason" in response.json()["details"]
    assert not Deployment.objects.exists()


def test_deployed_by__one_name_in_every_answer(bob, running, pipeline, release):
    releases_api = bob.get(f"/api/v1/releases/{release.pk}/deployments/").json()["results"][0]
    monitoring = bob.get(f"/api/v1/monitoring/deployments/{running.pk}/").json()
    assert releases_api["deployed_by"] == monitoring["deployed_by"] == "bob"
