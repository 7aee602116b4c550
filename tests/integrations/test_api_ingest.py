"""The pipeline API: releases by version, commits, tickets, deployments, test results, the gate."""

from __future__ import annotations

import pytest
from django.test import Client

from audit.models import AuditEvent
from projects.models import Membership
from releases.models import Commit, Deployment, Release, Ticket
from releases.models import TestRun as RecordedTestRun
from tests.integrations.conftest import JUNIT_FAILING, JUNIT_OK, Api

pytestmark = pytest.mark.django_db

RELEASES = "/api/v1/ci/releases/"
SHA_A = "9fceb02d0ae598e95dc970b74767f19372d61af8"
SHA_B = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
ROLLBACK = "Redeploy 1.2.0."


def url(version: str, tail: str = "") -> str:
    return f"{RELEASES}{version}/{tail}"


@pytest.fixture
def created(api):
    response = api.post(
        RELEASES, {"version": "1.3.0", "title": "Saved cards", "rollback_plan": ROLLBACK}
    )
    assert response.status_code == 201, response.json()
    return response.json()


def _deploy(api, env: str, status: str, **extra):
    return api.post(url("1.3.0", "deployments/"), {"environment": env, "status": status, **extra})


# --- Releases -------------------------------------------------------------------


def test_release_create__new_version__creates_it_managed_by_the_token_creator(api, people, project):
    response = api.post(
        RELEASES,
        {
            "version": "v1.3.0",
            "title": "Saved cards",
            "type": "minor",
            "artifact_version": "payments:1.3.0",
            "commit_sha": SHA_A,
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert body["version"] == "1.3.0"
    assert body["project"] == "payments"
    assert body["release_manager"] == "adam"
    assert body["status"] == "planned"
    release = Release.objects.get(project=project, version="1.3.0")
    assert release.artifact_version == "payments:1.3.0"
    event = AuditEvent.objects.get(action="release.created", release_id=release.pk)
    assert event.actor_kind == "token"
    assert event.actor_label == "token:pipeline"


def test_release_create__existing_version__answers_200_with_it_unchanged(api, created):
    response = api.post(RELEASES, {"version": "1.3.0", "title": "Another title"})
    assert response.status_code == 200
    assert response.json()["id"] == created["id"]
    assert response.json()["title"] == "Saved cards"
    assert Release.objects.count() == 1
    assert AuditEvent.objects.filter(action="release.created").count() == 1


def test_release_create__without_title__gets_a_default_title(api):
    response = api.post(RELEASES, {"version": "2.0.0-rc.1"})
    assert response.status_code == 201
    assert response.json()["title"] == "Release 2.0.0-rc.1"


def test_release_create__named_release_manager__is_used(api, people):
    response = api.post(RELEASES, {"version": "1.3.0", "release_manager": "alice"})
    assert response.status_code == 201
    assert response.json()["release_manager"] == "alice"


def test_release_create__outsider_as_release_manager__is_refused(api, people):
    response = api.post(RELEASES, {"version": "1.3.0", "release_manager": "olga"})
    assert response.status_code == 400
    assert "release_manager" in response.json()["details"]
    assert not Release.objects.exists()


def test_release_create__token_creator_left_the_project__asks_for_a_release_manager(api, people):
    Membership.objects.filter(user=people.adam).delete()
    response = api.post(RELEASES, {"version": "1.3.0"})
    assert response.status_code == 400
    assert "release_manager" in response.json()["message"]
    assert not Release.objects.exists()


def test_release_create__unparseable_version__is_refused(api):
    response = api.post(RELEASES, {"version": "latest"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_version"
    assert "semantic version" in response.json()["message"]


def test_release_create__person_with_session__names_the_project(people, project):
    client = Client()
    client.force_login(people.alice)
    response = Api(client=client).post(RELEASES, {"project": "payments", "version": "1.3.0"})
    assert response.status_code == 201
    assert response.json()["release_manager"] == "alice"


def test_release_create__person_without_project__is_told_to_name_it(people):
    client = Client()
    client.force_login(people.alice)
    response = Api(client=client).post(RELEASES, {"version": "1.3.0"})
    assert response.status_code == 400
    assert response.json()["details"] == {
        "project": ["This field is required when you sign in as a person."]
    }


def test_release_retrieve__by_version__answers_the_release(api, created):
    response = api.get(url("v1.3.0"))
    assert response.status_code == 200
    assert response.json()["id"] == created["id"]


def test_release_retrieve__unknown_version__is_404(api):
    response = api.get(url("9.9.9"))
    assert response.status_code == 404
    assert response.json() == {
        "error": "not_found",
        "message": "No release 9.9.9 in Payments.",
        "details": {},
    }


# --- Commits and tickets ----------------------------------------------------------


def test_commits__as_a_list__are_attached_once(api, created):
    commits = [
        {
            "sha": SHA_A,
            "message": "Store card tokens",
            "author": "Eli <eli@example.com>",
            "committed_at": "2026-03-01T16:04:11+01:00",
        },
        {"sha": SHA_B, "message": "Expiry reminder"},
    ]
    response = api.post(url("1.3.0", "commits/"), {"commits": commits})
    assert response.status_code == 200
    assert response.json() == {"added": 2, "total": 2}
    again = api.post(url("1.3.0", "commits/"), {"commits": commits})
    assert again.json() == {"added": 0, "total": 2}
    stored = Commit.objects.get(sha=SHA_A)
    assert stored.author == "Eli <eli@example.com>"
    assert stored.committed_at.isoformat() == "2026-03-01T15:04:11+00:00"


def test_commits__as_git_log_output__are_parsed_and_attached(api, created):
    log = (
        f"\x1e{SHA_A}\x1fEli <eli@example.com>\x1f2026-03-01T16:04:11+01:00\x1fStore card tokens\n\nPAY-142\n"
        f"\x1e{SHA_B}\x1fRita <rita@example.com>\x1f2026-03-02T08:00:00Z\x1fExpiry reminder\n"
    )
    response = api.post(url("1.3.0", "commits/"), {"git_log": log})
    assert response.status_code == 200
    assert response.json() == {"added": 2, "total": 2}
    assert Commit.objects.get(sha=SHA_A).message == "Store card tokens\n\nPAY-142"
    assert AuditEvent.objects.filter(action="release.commits_added").count() == 1


@pytest.mark.parametrize("body", [{}, {"commits": [], "git_log": ""}], ids=["neither", "both"])
def test_commits__neither_or_both_forms__is_refused(api, created, body):
    response = api.post(url("1.3.0", "commits/"), body)
    assert response.status_code == 400
    assert "either 'commits'" in response.json()["message"]


def test_commits__bad_hash__is_refused_and_nothing_attached(api, created):
    response = api.post(
        url("1.3.0", "commits/"), {"commits": [{"sha": SHA_A}, {"sha": "not-a-sha"}]}
    )
    assert response.status_code == 400
    assert response.json()["details"]["commits"]["1"]["sha"] == [
        "A commit hash is 7 to 64 hexadecimal digits."
    ]
    assert not Commit.objects.exists()


def test_commits__malformed_git_log__is_refused(api, created):
    response = api.post(url("1.3.0", "commits/"), {"git_log": "commit abc\nAuthor: x\n"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_git_log"
    assert "--format=" in response.json()["message"]


def test_tickets__added__change_the_scope(api, created):
    response = api.post(
        url("1.3.0", "tickets/"),
        {
            "tickets": [
                {
                    "key": "PAY-142",
                    "title": "Save cards",
                    "url": "https://jira.example.com/browse/PAY-142",
                    "status": "Done",
                    "type": "Story",
                },
                {"key": "PAY-150"},
            ]
        },
    )
    assert response.status_code == 200
    assert [t["key"] for t in response.json()["tickets"]] == ["PAY-142", "PAY-150"]
    assert [t["type"] for t in response.json()["tickets"]] == ["Story", ""]
    assert Ticket.objects.filter(release_id=created["id"]).count() == 2
    assert AuditEvent.objects.filter(action="release.scope_changed").count() == 1


def test_tickets__bad_url__is_refused(api, created):
    response = api.post(
        url("1.3.0", "tickets/"), {"tickets": [{"key": "PAY-1", "url": "javascript:alert(1)"}]}
    )
    assert response.status_code == 400
    assert not Ticket.objects.exists()


# --- Deployments ------------------------------------------------------------------


def test_deployments__started_then_succeeded__records_both(api, created):
    started = _deploy(api, "dev", "started", artifact_version="payments:1.3.0", commit_sha=SHA_A)
    assert started.status_code == 201
    assert started.json()["status"] == "in_progress"
    assert started.json()["artifact_version"] == "payments:1.3.0"
    finished = _deploy(api, "dev", "succeeded", artifact_version="payments:1.3.0")
    assert finished.status_code == 200
    assert finished.json()["status"] == "succeeded"
    assert finished.json()["id"] == started.json()["id"]
    assert list(
        AuditEvent.objects.filter(action__startswith="deployment.").values_list("action", flat=True)
    ) == ["deployment.started", "deployment.succeeded"]
    assert Release.objects.get(pk=created["id"]).status == "in_progress"


def test_deployments__failed__records_the_reason(api, created):
    _deploy(api, "dev", "started")
    response = _deploy(api, "dev", "failed", notes="Migration timed out.")
    assert response.status_code == 200
    assert response.json()["status"] == "failed"
    assert AuditEvent.objects.get(action="deployment.failed").reason == "Migration timed out."


def test_deployments__finish_without_start__is_409(api, created):
    response = _deploy(api, "dev", "succeeded")
    assert response.status_code == 409
    assert response.json()["error"] == "no_running_deployment"
    assert not Deployment.objects.exists()


def test_deployments__finish_with_another_artifact__is_409(api, created):
    _deploy(api, "dev", "started", artifact_version="payments:1.3.0")
    response = _deploy(api, "dev", "succeeded", artifact_version="payments:1.3.1")
    assert response.status_code == 409
    assert response.json()["error"] == "artifact_mismatch"
    assert Deployment.objects.get().status == "in_progress"


def test_deployments__out_of_order__is_refused_with_the_closed_gates(api, created):
    response = _deploy(api, "staging", "started")
    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "gate_closed"
    assert "Not yet deployed successfully to Development." in body["message"]
    closed = [g for g in body["details"]["gates"] if g["state"] == "closed"]
    assert [g["code"] for g in closed] == ["order"]
    assert not Deployment.objects.exists()


def test_deployments__unknown_environment__names_the_known_ones(api, created):
    response = _deploy(api, "qa-cluster", "started")
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "unknown_environment"
    assert "known environments: dev, staging, production" in body["message"]
    assert not Deployment.objects.exists()


# --- Test results -------------------------------------------------------------------


def test_test_runs__junit_report__is_summarised_and_audited(api, created):
    response = api.post(
        url("1.3.0", "test-runs/"),
        {"junit_xml": JUNIT_FAILING, "environment": "staging", "coverage_percent": 81.25},
    )
    assert response.status_code == 201
    body = response.json()
    assert {
        k: body[k]
        for k in ("name", "environment", "total", "passed", "failures", "errors", "skipped", "ok")
    } == {
        "name": "api",
        "environment": "staging",
        "total": 4,
        "passed": 1,
        "failures": 2,
        "errors": 1,
        "skipped": 0,
        "ok": False,
    }
    assert body["failing_tests"] == [
        "api.Checkout.test_refund",
        "api.Checkout.test_void",
        "test_orphan",
    ]
    assert body["coverage_percent"] == 81.25
    run = RecordedTestRun.objects.get()
    assert run.duration_seconds == 3.25
    assert run.recorded_by_label == "token:pipeline"
    event = AuditEvent.objects.get(action="test_run.recorded")
    assert event.to_state == "failed"
    assert event.data["failures"] == 2


def test_test_runs__named_run__keeps_the_name(api, created):
    response = api.post(url("1.3.0", "test-runs/"), {"junit_xml": JUNIT_OK, "name": "e2e"})
    assert response.status_code == 201
    assert response.json()["name"] == "e2e"
    assert response.json()["ok"] is True
    assert response.json()["environment"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"junit_xml": JUNIT_OK, "coverage_percent": 120}, "coverage_percent"),
        ({"junit_xml": JUNIT_OK, "coverage_percent": "most"}, "coverage_percent"),
        ({"junit_xml": JUNIT_OK, "environment": "moon"}, "environment"),
        ({}, "junit_xml"),
    ],
)
def test_test_runs__bad_fields__are_refused(api, created, body, field):
    response = api.post(url("1.3.0", "test-runs/"), body)
    assert response.status_code == 400
    assert field in response.json()["details"]
    assert not RecordedTestRun.objects.exists()


def test_test_runs__entity_expansion__is_refused_and_nothing_stored(api, created):
    from tests.integrations.test_junit import BILLION_LAUGHS

    response = api.post(url("1.3.0", "test-runs/"), {"junit_xml": BILLION_LAUGHS})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_junit"
    assert not RecordedTestRun.objects.exists()
    assert not AuditEvent.objects.filter(action="test_run.recorded").exists()


# --- The gate -------------------------------------------------------------------------


def test_gate__first_environment__is_open(api, created):
    response = api.get(url("1.3.0", "gate/dev/"))
    assert response.status_code == 200
    assert response.json()["open"] is True
    assert response.json()["environment"] == "dev"


def test_gate__production_too_early__is_409_with_every_closed_reason(api, created):
    response = api.get(url("1.3.0", "gate/production/"))
    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "gate_closed"
    assert "Not yet deployed successfully to Staging." in body["message"]
    assert all(g["reason"] for g in body["details"]["gates"])


def test_gate__same_answer_as_the_release_gate_endpoint(api, created):
    by_version = api.get(url("1.3.0", "gate/production/"))
    by_id = api.get(f"/api/v1/releases/{created['id']}/gates/production/")
    assert by_version.status_code == by_id.status_code == 409
    assert by_version.json() == by_id.json()


def test_gate__unknown_environment__is_404(api, created):
    response = api.get(url("1.3.0", "gate/moon/"))
    assert response.status_code == 404
    assert "known environments" in response.json()["message"]


def test_gate__unparseable_version__is_400(api):
    response = api.get(url("not-a-version", "gate/dev/"))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_version"


def test_whoami__token__describes_it(api):
    response = api.get("/api/v1/ci/whoami/")
    assert response.status_code == 200
    assert response.json() == {
        "kind": "token",
        "name": "pipeline",
        "project": "payments",
        "scopes": ["config", "deployments", "read", "releases", "test_results"],
        "expires_at": None,
    }
