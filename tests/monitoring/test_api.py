"""The monitoring API as a pipeline uses it: start a canary, wait for `proceed`, report the outcome."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from monitoring.choices import WindowKind
from monitoring.models import MonitoringWindow
from monitoring.services import monitoring_tick
from projects.services import api_token_create
from tests.monitoring.conftest import configure
from tests.monitoring.servers import Answer, by_query, prom_vector, sequence

pytestmark = pytest.mark.usefixtures("allow_loopback")


def token_client(project, people, *scopes):
    _token, plain = api_token_create(
        project=project, name="ci", scopes=scopes or ["deployments", "read"], actor=people.adam
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    return client


@pytest.fixture
def canary_env(envs, people, stub):
    stub.route("/healthz", Answer(200))
    stub.route(
        "/api/v1/query", by_query({"latency": sequence(prom_vector(120), prom_vector("+Inf"))})
    )
    configure(
        envs["dev"],
        people.adam,
        canary_duration=3,
        health=[{"name": "Health", "url": stub.url("/healthz")}],
        metrics=[
            {
                "name": "p95",
                "url": stub.url(),
                "query": "latency",
                "unit": "ms",
                "max_value": 500,
                "failure_limit": 0,
                "is_critical": False,
            }
        ],
    )
    return envs["dev"]


def test_pipeline__starts_a_canary_reads_the_window_and_reports(
    project, people, release, canary_env
):
    ci = token_client(project, people)
    response = ci.post(
        "/api/v1/monitoring/deployments/",
        {
            "release": release.pk,
            "environment": "dev",
            "strategy": "canary",
            "canary_percent": 3,
            "artifact_version": "payments:2.4.0",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "in_progress" and body["strategy"] == "canary"
    [window] = body["windows"]
    assert (
        window["kind"] == "canary"
        and window["status"] == "running"
        and window["traffic_percent"] == 3
    )
    assert window["proceed"] is False

    refused = ci.post(
        f"/api/v1/monitoring/deployments/{body['id']}/report/", {"succeeded": True}, format="json"
    )
    assert refused.status_code == 409
    assert refused.json()["error"] == "conflict"
    assert "still being watched" in refused.json()["message"]

    row = MonitoringWindow.objects.get(pk=window["id"])
    for slot in (1, 2):
        monitoring_tick(now=row.started_at + row.poll_interval * slot + timedelta(milliseconds=5))
    detail = ci.get(f"/api/v1/monitoring/windows/{window['id']}/").json()
    assert detail["status"] == "running"
    # A non-critical check failing does not stop the window.
    assert {c["name"]: c["status"] for c in detail["checks"]} == {
        "Health": "running",
        "p95": "failed",
    }

    samples = ci.get(f"/api/v1/monitoring/windows/{window['id']}/samples/").json()
    assert samples["count"] == 4
    infinite = [s for s in samples["results"] if s["value_text"] == "+Inf"]
    assert infinite and infinite[0]["value"] is None and infinite[0]["outcome"] == "fail"

    monitoring_tick(now=row.ends_at + timedelta(milliseconds=5))
    detail = ci.get(f"/api/v1/monitoring/windows/{window['id']}/").json()
    assert detail["status"] == "inconclusive"  # a non-critical check failed: a person decides
    assert "Non-critical check 'p95' failed" in detail["verdict"]


def test_pipeline__proceed_turns_true_after_auto_promotion(project, people, release, envs, stub):
    stub.route("/healthz", Answer(200))
    configure(
        envs["dev"],
        people.adam,
        canary_duration=3,
        auto_promote_canary=True,
        health=[{"name": "Health", "url": stub.url("/healthz")}],
    )
    ci = token_client(project, people)
    body = ci.post(
        "/api/v1/monitoring/deployments/",
        {"release": release.pk, "environment": "dev", "strategy": "canary"},
        format="json",
    ).json()
    row = MonitoringWindow.objects.get(deployment_id=body["id"], kind=WindowKind.CANARY)
    for slot in (1, 2, 3):
        monitoring_tick(now=row.started_at + row.poll_interval * slot + timedelta(milliseconds=5))
    monitoring_tick(now=row.ends_at + timedelta(milliseconds=5))
    window = ci.get(f"/api/v1/monitoring/windows/{row.pk}/").json()
    assert (
        window["status"] == "passed"
        and window["rollout_state"] == "full"
        and window["proceed"] is True
    )
    finished = ci.post(
        f"/api/v1/monitoring/deployments/{body['id']}/report/", {"succeeded": True}, format="json"
    )
    assert finished.status_code == 200 and finished.json()["status"] == "succeeded"


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"release": "abc", "environment": "dev"},
        {"release": 1, "environment": "dev", "strategy": "blue_green"},
        {"release": 1, "environment": "dev", "strategy": "canary", "canary_percent": 0},
        {"release": 1, "environment": "dev", "strategy": "all_at_once", "canary_percent": 5},
        {"release": 1, "environment": "x" * 500},
    ],
)
def test_start__bad_input__is_400_and_changes_nothing(project, people, release, payload):
    from releases.models import Deployment

    payload = {k: (release.pk if k == "release" and v == 1 else v) for k, v in payload.items()}
    response = token_client(project, people).post(
        "/api/v1/monitoring/deployments/", payload, format="json"
    )
    assert response.status_code in (400, 404)
    assert set(response.json()) == {"error", "message", "details"}
    assert not Deployment.objects.exists()


def test_reads__token_of_another_project_or_without_scope(
    project, other_project, people, release, canary_env
):
    starter = token_client(project, people)
    body = starter.post(
        "/api/v1/monitoring/deployments/",
        {"release": release.pk, "environment": "dev", "strategy": "canary"},
        format="json",
    ).json()
    window_id = body["windows"][0]["id"]
    _token, plain = api_token_create(
        project=other_project, name="other", scopes=["read"], actor=None
    )
    outsider = APIClient()
    outsider.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert outsider.get(f"/api/v1/monitoring/windows/{window_id}/").status_code == 404
    assert outsider.get(f"/api/v1/monitoring/deployments/{body['id']}/").status_code == 404
    assert outsider.get("/api/v1/monitoring/windows/").json()["count"] == 0
    test_results_only = token_client(project, people, "test_results")
    assert test_results_only.get(f"/api/v1/monitoring/windows/{window_id}/").status_code == 403
    reader = token_client(project, people, "read")
    assert (
        reader.post(
            "/api/v1/monitoring/deployments/",
            {"release": release.pk, "environment": "staging"},
            format="json",
        ).status_code
        == 403
    )
    assert APIClient().get(f"/api/v1/monitoring/windows/{window_id}/").status_code in (401, 403)


def test_schema__documents_the_monitoring_endpoints(client, people):
    client.force_login(people.alice)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    for path in (
        "/api/v1/monitoring/deployments/",
        "/api/v1/monitoring/windows/{id}/samples/",
        "/api/v1/monitoring/deployments/{id}/report/",
    ):
        assert path in schema
