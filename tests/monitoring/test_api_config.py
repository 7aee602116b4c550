"""The monitoring configuration API: policies, the rollback hook and checks, with their limits.

The page and the API call the same services: a refusal reads the same in both.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from audit.models import AuditEvent
from monitoring.choices import CheckKind, WindowKind, WindowStatus
from monitoring.models import EnvironmentPolicy, HealthCheck, MetricCheck, MonitoringWindow
from monitoring.services import check_create, monitoring_tick
from projects.services import api_token_create
from tests.monitoring.conftest import configure
from tests.monitoring.servers import Answer

pytestmark = pytest.mark.usefixtures("allow_loopback")

BASE = "/api/v1/monitoring/projects/payments/environments"


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def token(project, people, *scopes) -> APIClient:
    _token, plain = api_token_create(
        project=project, name="ci", scopes=list(scopes), actor=people.adam
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    return client


# --- Policy ----------------------------------------------------------------------------


def test_policy__read_defaults__then_admin_changes_it_and_it_is_audited(people, envs):
    url = f"{BASE}/production/policy/"
    body = api(people.aud).get(url).json()
    assert body["saved"] is False and body["canary_duration_seconds"] == 900
    assert body["limits"]["min_measurements"] == 3

    response = api(people.adam).patch(
        url, {"poll_interval_seconds": 5, "canary_duration_seconds": 60}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["saved"] is True
    assert body["poll_interval_seconds"] == 5 and body["canary_duration_seconds"] == 60
    assert body["post_deploy_duration_seconds"] == 1800  # left out: kept
    policy = EnvironmentPolicy.objects.get(environment=envs["production"])
    assert policy.poll_interval == timedelta(seconds=5)
    event = AuditEvent.objects.filter(action="monitoring.policy_updated").latest("id")
    assert event.data["changes"]["poll_interval"] == 5.0


def test_policy__issue_case__interval_under_the_scheduler_tick__refused_in_api_and_page(
    people, envs, client, monkeypatch
):
    """0.02-minute canary polled every 0.2 s under a 2-second tick: refused, with the same words."""
    monkeypatch.setenv("SHIPCHECK_MONITORING_TICK", "2")
    response = api(people.adam).patch(
        f"{BASE}/production/policy/",
        {"poll_interval_seconds": 0.2, "canary_duration_seconds": 1.2},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    sentence = (
        "Poll interval (seconds) must be at least 2: the scheduler looks for due polls every 2 s, "
        "so a window cannot be polled more often than that."
    )
    assert body["error"] == "invalid" and body["message"] == sentence
    assert body["details"]["poll_interval_seconds"] == sentence
    assert not EnvironmentPolicy.objects.filter(environment=envs["production"]).exists()

    client.force_login(people.adam)
    page = client.post(
        "/monitoring/projects/payments/environments/production/policy/",
        {
            "poll_interval": "0.2",
            "canary_percent": "5",
            "canary_minutes": "0.02",
            "post_deploy_minutes": "30",
            "tls_min_days": "14",
            "precheck_max_age_minutes": "15",
        },
        HTTP_HX_REQUEST="true",
    )
    assert page.status_code == 200
    assert sentence in page.content.decode()
    assert "At least 2 s: the scheduler looks for due polls every 2 s." in page.content.decode()
    assert not EnvironmentPolicy.objects.filter(environment=envs["production"]).exists()


def test_policy__window_too_short_for_three_measurements__refused(people, envs):
    response = api(people.adam).patch(
        f"{BASE}/dev/policy/",
        {"poll_interval_seconds": 10, "canary_duration_seconds": 25},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["details"]["canary_duration_seconds"] == (
        "The canary must last at least 30 s: polled every 10 s, 25 s give at most 2 of the 3 "
        "measurements a verdict needs."
    )


def test_policy__bad_types_and_unknown_values__400_nothing_saved(people, envs):
    for body in (
        {"poll_interval_seconds": "often"},
        {"canary_percent": 0},
        {"rollback_hook_url": "ftp://x"},
        {"poll_interval_seconds": 1e300},
        {"canary_duration_seconds": "NaN"},
        {"post_deploy_duration_seconds": -5},
        {"unknown_field": 1, "canary_percent": 200},
        [1, 2],
    ):
        response = api(people.adam).patch(f"{BASE}/dev/policy/", body, format="json")
        assert response.status_code == 400, body
        assert set(response.json()) == {"error", "message", "details"}
    assert not EnvironmentPolicy.objects.exists()


def test_policy__who_may__order_of_checks(project, people, envs):
    url = f"{BASE}/production/policy/"
    # Auditor: reads, may not change, whatever the body (even a malformed one).
    assert api(people.aud).get(url).status_code == 200
    for body in ({"canary_percent": 7}, "not json"):
        response = api(people.aud).patch(url, body, format="json")
        assert response.status_code == 403
    # Release manager: a member, not an admin.
    assert api(people.alice).patch(url, {"canary_percent": 7}, format="json").status_code == 403
    # Someone of another project, even their admin: 404 on read and write.
    assert api(people.olga).get(url).status_code == 404
    assert api(people.olga).patch(url, {"canary_percent": 7}, format="json").status_code == 404
    # A token: refused first, people only; it may read with the read scope.
    response = token(project, people, "read", "deployments").patch(
        url, {"canary_percent": 7}, format="json"
    )
    assert response.status_code == 403 and response.json()["error"] == "people_only"
    assert token(project, people, "read").get(url).status_code == 200
    assert token(project, people, "deployments").get(url).status_code == 403
    assert api().get(url).status_code in (401, 403)
    assert not EnvironmentPolicy.objects.exists()


# --- Rollback hook ----------------------------------------------------------------------


def test_rollback_hook__secret_is_write_only_and_kept_when_left_out(people, envs, hook_server):
    url = f"{BASE}/production/rollback-hook/"
    client = api(people.adam)
    response = client.patch(
        url, {"url": hook_server.url("/rollback"), "secret": "s3cret-value"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json() == {
        "project": "payments",
        "environment": "production",
        "url": hook_server.url("/rollback"),
        "secret_set": True,
    }
    assert "s3cret-value" not in client.get(url).content.decode()
    assert "s3cret-value" not in client.get(f"{BASE}/production/policy/").content.decode()

    client.patch(url, {"url": hook_server.url("/v2/rollback")}, format="json")
    policy = EnvironmentPolicy.objects.get(environment=envs["production"])
    assert policy.rollback_hook_url.endswith("/v2/rollback")
    assert policy.rollback_hook_secret == "s3cret-value"
    events = AuditEvent.objects.filter(action="monitoring.policy_updated")
    assert all("s3cret-value" not in str(e.data) for e in events)

    body = client.patch(url, {"secret": ""}, format="json").json()
    assert body["secret_set"] is False

    response = client.patch(url, {"url": "http://10.0.0.1:9/x"}, format="json")
    assert response.status_code == 400 and "url" in response.json()["details"]


# --- Checks -----------------------------------------------------------------------------


def _health(stub, **extra) -> dict:
    return {"name": "API health", "url": stub.url("/healthz"), **extra}


def test_health_check__create_read_list__headers_never_answered(people, envs, stub):
    client = api(people.adam)
    response = client.post(
        f"{BASE}/production/health-checks/",
        _health(stub, headers={"Authorization": "Bearer tok-123"}, expected_statuses="200,204"),
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "health" and body["header_names"] == ["Authorization"]
    assert "headers" not in body and "tok-123" not in response.content.decode()
    check = HealthCheck.objects.get(pk=body["id"])
    assert check.headers == {"Authorization": "Bearer tok-123"}

    listing = api(people.aud).get(f"{BASE}/production/health-checks/").json()
    assert listing["count"] == 1 and listing["results"][0]["name"] == "API health"
    assert "tok-123" not in str(listing)
    assert api(people.aud).get(f"/api/v1/monitoring/health-checks/{check.pk}/").status_code == 200
    assert api(people.olga).get(f"/api/v1/monitoring/health-checks/{check.pk}/").status_code == 404
    assert api(people.olga).get(f"{BASE}/production/health-checks/").status_code == 404


def test_health_check__edit_without_headers_keeps_them__empty_mapping_removes(people, envs, stub):
    check = check_create(
        environment=envs["production"],
        kind=CheckKind.HEALTH,
        actor=people.adam,
        **_health(stub, headers={"X-Api-Key": "k-1"}),
    )
    url = f"/api/v1/monitoring/health-checks/{check.pk}/"
    client = api(people.adam)
    response = client.patch(url, {"name": "Health (edge)", "timeout_seconds": 2}, format="json")
    assert response.status_code == 200, response.content
    check.refresh_from_db()
    assert check.name == "Health (edge)" and check.timeout_seconds == 2
    assert check.headers == {"X-Api-Key": "k-1"}
    event = AuditEvent.objects.filter(action="monitoring.check_updated").latest("id")
    assert "headers" not in event.data["changes"]

    client.patch(url, {"headers": {"X-Api-Key": "k-2"}}, format="json")
    check.refresh_from_db()
    assert check.headers == {"X-Api-Key": "k-2"}
    event = AuditEvent.objects.filter(action="monitoring.check_updated").latest("id")
    assert event.data["changes"]["headers"] == "(changed)" and "k-2" not in str(event.data)

    body = client.patch(url, {"headers": {}}, format="json").json()
    check.refresh_from_db()
    assert check.headers == {} and body["header_names"] == []


def test_health_check__page_edit_without_headers_keeps_them(client, people, envs, stub):
    """The page's edit form never shows header values, so leaving the field empty keeps them."""
    check = check_create(
        environment=envs["production"],
        kind=CheckKind.HEALTH,
        actor=people.adam,
        **_health(stub, headers={"X-Api-Key": "k-1"}),
    )
    client.force_login(people.adam)
    page = client.get(f"/monitoring/checks/health/{check.pk}/")
    assert "k-1" not in page.content.decode()
    response = client.post(
        f"/monitoring/checks/health/{check.pk}/",
        {
            "name": "Renamed",
            "url": check.url,
            "method": "GET",
            "expected_statuses": "200",
            "timeout_seconds": "5",
            "failure_limit": "1",
            "inconclusive_limit": "3",
            "consecutive_error_limit": "4",
            "is_critical": "on",
            "enabled": "on",
            "headers": "",
        },
    )
    assert response.status_code == 302
    check.refresh_from_db()
    assert check.name == "Renamed" and check.headers == {"X-Api-Key": "k-1"}


def test_check__delete__audited_and_gone__page_and_api(client, people, envs, stub):
    checks = [
        check_create(
            environment=envs["production"],
            kind=CheckKind.HEALTH,
            actor=people.adam,
            **_health(stub, name=f"Health {n}"),
        )
        for n in (1, 2)
    ]
    assert (
        api(people.aud).delete(f"/api/v1/monitoring/health-checks/{checks[0].pk}/").status_code
        == 403
    )
    response = api(people.adam).delete(f"/api/v1/monitoring/health-checks/{checks[0].pk}/")
    assert response.status_code == 204
    client.force_login(people.adam)
    assert client.post(f"/monitoring/checks/health/{checks[1].pk}/delete/").status_code == 302
    assert not HealthCheck.objects.exists()
    deleted = AuditEvent.objects.filter(action="monitoring.check_deleted")
    assert sorted(e.data["name"] for e in deleted) == ["Health 1", "Health 2"]
    assert (
        api(people.adam).delete(f"/api/v1/monitoring/health-checks/{checks[0].pk}/").status_code
        == 404
    )


def test_metric_check__create_needs_a_bound__same_sentence_as_the_page(people, envs, stub):
    client = api(people.adam)
    response = client.post(
        f"{BASE}/production/metric-checks/",
        {"name": "Error rate", "url": stub.url("/"), "query": "rate(errors[5m])"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["details"]["max_value"] == (
        "Set at least one bound: a minimum, a maximum, or a change from the baseline."
    )
    response = client.post(
        f"{BASE}/production/metric-checks/",
        {
            "name": "Error rate",
            "url": stub.url("/"),
            "query": "rate(errors[5m])",
            "max_value": 2,
            "unit": "%",
            "headers": {"Authorization": "Bearer prom"},
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["max_value"] == 2 and body["header_names"] == ["Authorization"]
    again = client.post(
        f"{BASE}/production/metric-checks/",
        {"name": "Error rate", "url": stub.url("/"), "query": "x", "max_value": 1},
        format="json",
    )
    assert again.status_code == 400 and "already has a check named" in again.json()["message"]
    edited = client.patch(
        f"/api/v1/monitoring/metric-checks/{body['id']}/", {"max_value": 3}, format="json"
    )
    assert edited.status_code == 200 and edited.json()["max_value"] == 3
    assert MetricCheck.objects.get().headers == {"Authorization": "Bearer prom"}


def test_checks__member_without_admin_and_token__refused_before_the_body(project, people, envs):
    url = f"{BASE}/production/health-checks/"
    assert api(people.alice).post(url, {}, format="json").status_code == 403
    assert api(people.aud).post(url, "{", content_type="application/json").status_code == 403
    assert api(people.olga).post(url, {}, format="json").status_code == 404
    response = token(project, people, "read", "deployments").post(url, {}, format="json")
    assert response.status_code == 403 and response.json()["error"] == "people_only"
    assert api(people.adam).post(url, {}, format="json").status_code == 400
    assert not HealthCheck.objects.exists()


# --- A window needs its measurements ---------------------------------------------------------


def test_window__too_few_measurements__ends_inconclusive_with_the_reason(
    release, envs, people, stub
):
    """Three slots planned, a worker outage lost one: two good readings are not a verdict."""
    from monitoring.services import deployment_start

    stub.route("/healthz", Answer(200))
    configure(
        envs["dev"],
        people.adam,
        poll_interval=1.0,
        canary_duration=3.0,
        health=[{"name": "Health", "url": stub.url("/healthz")}],
    )
    deployment_start(release=release, environment=envs["dev"], actor=people.bob, strategy="canary")
    window = MonitoringWindow.objects.get(kind=WindowKind.CANARY)
    monitoring_tick(now=window.started_at + window.poll_interval + timedelta(milliseconds=5))
    monitoring_tick(now=window.ends_at + timedelta(milliseconds=5))
    window.refresh_from_db()
    assert window.status == WindowStatus.INCONCLUSIVE
    assert window.reason == (
        "Health has only 2 usable measurements in this window, fewer than the 3 a verdict needs "
        "(2 passed, 0 failed). A person decides."
    )
    body = api(people.aud).get(f"/api/v1/monitoring/windows/{window.pk}/").json()
    assert body["status"] == "inconclusive" and "fewer than the 3" in body["verdict"]


def test_check_lists__query_count_does_not_grow_with_the_checks(
    people, envs, stub, django_assert_max_num_queries
):
    client = api(people.aud)
    url = f"{BASE}/production/health-checks/"

    def add(n):
        for i in range(n):
            check_create(
                environment=envs["production"],
                kind=CheckKind.HEALTH,
                actor=people.adam,
                **_health(stub, name=f"Health {HealthCheck.objects.count()} {i}"),
            )

    add(1)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).json()["count"] == 1
    baseline = len(one.captured_queries)  # read now: every request resets the query log
    assert baseline <= 8
    add(6)
    with django_assert_max_num_queries(baseline):
        assert client.get(url).json()["count"] == 7


def test_window__a_policy_saved_before_the_limit__is_polled_at_the_tick(
    release, envs, people, stub, monkeypatch
):
    """A row written before the limit held (0.2 s) opens a window that polls every tick."""
    from monitoring.services import deployment_start

    stub.route("/healthz", Answer(200))
    configure(envs["dev"], people.adam, health=[{"name": "Health", "url": stub.url("/healthz")}])
    EnvironmentPolicy.objects.filter(environment=envs["dev"]).update(
        poll_interval=timedelta(seconds=0.2), canary_duration=timedelta(seconds=1.2)
    )
    monkeypatch.setenv("SHIPCHECK_MONITORING_TICK", "2")
    deployment_start(release=release, environment=envs["dev"], actor=people.bob, strategy="canary")
    window = MonitoringWindow.objects.get(kind=WindowKind.CANARY)
    assert window.poll_interval == timedelta(seconds=2)
    assert window.next_poll_at == window.started_at + timedelta(seconds=2)
