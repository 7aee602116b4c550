"""The monitoring pages: what people see and what they may do, through the Django test client."""

from __future__ import annotations

from datetime import timedelta

import pytest

from audit.models import AuditEvent
from monitoring.choices import WindowKind, WindowStatus
from monitoring.models import HealthCheck, MetricCheck, MonitoringWindow
from monitoring.services import deployment_start, monitoring_tick
from releases.choices import DeploymentStrategy
from tests.monitoring.conftest import configure
from tests.monitoring.servers import Answer, by_query, prom_vector

pytestmark = pytest.mark.usefixtures("allow_loopback")


def login(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def running_window(release, envs, people, stub):
    stub.route("/healthz", Answer(200, {"status": "ok"}))
    stub.route("/api/v1/query", by_query({"error_rate": prom_vector(0.7)}))
    configure(
        envs["dev"],
        people.adam,
        canary_duration=60,
        health=[{"name": "Health", "url": stub.url("/healthz")}],
        metrics=[
            {
                "name": "Error rate",
                "url": stub.url(),
                "query": "error_rate",
                "unit": "%",
                "max_value": 5,
                "baseline_delta": 1,
            }
        ],
    )
    deployment = deployment_start(
        release=release,
        environment=envs["dev"],
        actor=people.bob,
        strategy=DeploymentStrategy.CANARY,
        canary_percent=2,
    )
    window = MonitoringWindow.objects.get(deployment=deployment, kind=WindowKind.CANARY)
    for slot in (1, 2, 3):
        monitoring_tick(
            now=window.started_at + window.poll_interval * slot + timedelta(milliseconds=5)
        )
    window.refresh_from_db()
    return window


def test_window_page__shows_countdown_charts_and_verdict(client, people, running_window):
    response = login(client, people.alice).get(f"/monitoring/windows/{running_window.pk}/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Watching" in body and "2 % of traffic" in body
    assert 'data-countdown="' in body
    assert body.count('<svg class="chart') == 2
    assert "max 5 %" in body  # the bound drawn on the chart
    assert 'hx-trigger="every 3s"' in body
    assert (
        "Abort and roll back" in body
        and "Extend the window" in body
        and "Accept and continue" in body
    )


def test_window_page__live_fragment_signals_a_status_change(client, people, running_window):
    login(client, people.alice)
    url = f"/monitoring/windows/{running_window.pk}/?part=live&seen=running:canary"
    same = client.get(url, HTTP_HX_REQUEST="true")
    assert same.status_code == 200 and "HX-Trigger" not in same
    changed = client.get(url.replace("seen=running", "seen=error"), HTTP_HX_REQUEST="true")
    assert changed["HX-Trigger"] == "windowChanged"
    assert "<html" not in changed.content.decode()


def test_window_page__auditor_reads_but_cannot_decide(client, people, running_window):
    body = (
        login(client, people.aud).get(f"/monitoring/windows/{running_window.pk}/").content.decode()
    )
    assert "Abort and roll back" not in body
    response = client.post(
        f"/monitoring/windows/{running_window.pk}/decide/",
        {"action": "accept", "reason": "looks fine"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 403
    running_window.refresh_from_db()
    assert running_window.status == WindowStatus.RUNNING


def test_window_page__outsider_gets_404(client, people, running_window):
    login(client, people.olga)
    assert client.get(f"/monitoring/windows/{running_window.pk}/").status_code == 404
    assert (
        client.post(
            f"/monitoring/windows/{running_window.pk}/decide/",
            {"action": "rollback", "reason": "x"},
        ).status_code
        == 404
    )
    assert client.get("/monitoring/windows/999999/").status_code == 404


def test_decide__rollback_by_htmx__rerenders_with_failed_banner_and_audit(
    client, people, running_window
):
    response = login(client, people.alice).post(
        f"/monitoring/windows/{running_window.pk}/decide/",
        {"action": "rollback", "reason": "Support sees checkout errors."},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Failed — rollback recommended" in body
    assert "No rollback hook is configured" in body
    assert AuditEvent.objects.filter(
        action="monitoring.decision", reason="Support sees checkout errors."
    ).exists()


def test_decide__missing_reason__shows_message_and_changes_nothing(client, people, running_window):
    response = login(client, people.alice).post(
        f"/monitoring/windows/{running_window.pk}/decide/",
        {"action": "accept", "reason": ""},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "Say why" in response.content.decode()
    running_window.refresh_from_db()
    assert running_window.status == WindowStatus.RUNNING


@pytest.mark.parametrize(
    "payload",
    [
        {"action": "explode", "reason": "x"},
        {"action": "extend", "reason": "x", "extend_minutes": "-5"},
        {"action": "extend", "reason": "x", "extend_minutes": "lots"},
        {"action": "extend", "reason": "x" * 5000},
        {},
    ],
)
def test_decide__malformed_input__never_500(client, people, running_window, payload):
    response = login(client, people.alice).post(
        f"/monitoring/windows/{running_window.pk}/decide/", payload, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    running_window.refresh_from_db()
    assert running_window.status == WindowStatus.RUNNING


def test_release_page__shows_monitoring_history_panel(client, people, running_window):
    release = running_window.deployment.release
    body = login(client, people.aud).get(f"/releases/{release.pk}/").content.decode()
    assert 'id="monitoring-panel"' in body
    assert f"/monitoring/windows/{running_window.pk}/" in body


def test_release_panel__constant_queries(
    client, people, running_window, django_assert_max_num_queries
):
    from monitoring.panels import monitoring_panel_context

    release = running_window.deployment.release
    with django_assert_max_num_queries(2):
        context = monitoring_panel_context(release, None)
        [list(w.checks.all()) for w in context["windows"]]


def test_index__lists_open_windows(client, people, running_window):
    body = login(client, people.quinn).get("/monitoring/").content.decode()
    assert "Open windows" in body and f"/monitoring/windows/{running_window.pk}/" in body


# --- Configuration pages --------------------------------------------------------------------------


def test_config_page__admin_adds_a_health_check(client, people, project, stub):
    login(client, people.adam)
    response = client.post(
        "/monitoring/projects/payments/environments/production/checks/health/new/",
        {
            "name": "API health",
            "url": stub.url("/healthz"),
            "method": "GET",
            "expected_statuses": "200",
            "timeout_seconds": "3",
            "failure_limit": "1",
            "inconclusive_limit": "3",
            "consecutive_error_limit": "4",
            "is_critical": "on",
            "enabled": "on",
            "headers": "Authorization: Bearer topsecret",
        },
    )
    assert response.status_code == 302
    check = HealthCheck.objects.get(name="API health")
    assert check.headers == {"Authorization": "Bearer topsecret"}
    page = client.get("/monitoring/projects/payments/environments/production/").content.decode()
    assert "API health" in page and "Authorization" in page
    assert "topsecret" not in page
    event = AuditEvent.objects.get(action="monitoring.check_created")
    assert "topsecret" not in str(event.data)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"url": "ftp://example.com/health"}, "Only http:// and https:// URLs"),
        ({"url": "http://169.254.169.254/latest/meta-data"}, "cloud metadata address"),
        ({"url": "http://10.0.0.5/health"}, "private address"),
        ({"url": "http://[::1]:8080/"}, "loopback address"),
        ({"json_path": "$..status", "expected_value": "ok"}, "Recursive descent"),
        ({"json_path": "$.status", "expected_value": ""}, "Say which value is expected"),
        ({"expected_statuses": "abc"}, "is not a status code"),
        ({"headers": "no colon here"}, "Name: value"),
    ],
)
def test_config_page__invalid_health_check__is_refused_with_a_message(
    client, people, project, fields, message, settings
):
    settings.SHIPCHECK_FETCH_ALLOWLIST = []
    data = {
        "name": "Bad",
        "url": "http://93.184.216.34/health",
        "method": "GET",
        "expected_statuses": "200",
        "timeout_seconds": "3",
        "failure_limit": "1",
        "inconclusive_limit": "3",
        "consecutive_error_limit": "4",
        **fields,
    }
    response = login(client, people.adam).post(
        "/monitoring/projects/payments/environments/production/checks/health/new/", data
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not HealthCheck.objects.exists()


def test_config_page__metric_min_above_max__is_refused(client, people, project):
    data = {
        "name": "CPU",
        "provider": "prometheus",
        "url": "http://93.184.216.34:9090",
        "query": "cpu",
        "direction": "higher_is_worse",
        "min_value": "90",
        "max_value": "80",
        "timeout_seconds": "3",
        "failure_limit": "1",
        "inconclusive_limit": "3",
        "consecutive_error_limit": "4",
    }
    response = login(client, people.adam).post(
        "/monitoring/projects/payments/environments/production/checks/metric/new/", data
    )
    assert response.status_code == 200
    assert "The minimum (90) is above the maximum (80)." in response.content.decode()
    assert not MetricCheck.objects.exists()


def test_config_page__engineer_reads_but_cannot_add(client, people, project):
    login(client, people.bob)
    page = client.get("/monitoring/projects/payments/environments/production/")
    assert page.status_code == 200 and "Only project admins change" in page.content.decode()
    assert (
        client.get(
            "/monitoring/projects/payments/environments/production/checks/health/new/"
        ).status_code
        == 403
    )
    assert client.get("/monitoring/projects/payments/environments/nowhere/").status_code == 404
    login(client, people.olga)
    assert client.get("/monitoring/projects/payments/environments/production/").status_code == 404


def test_test_now_button__probes_and_shows_the_verdict(client, people, envs, stub):
    stub.route("/api/v1/query", by_query({"cpu": prom_vector(93)}))
    [check] = configure(
        envs["production"],
        people.adam,
        metrics=[{"name": "CPU", "url": stub.url(), "query": "cpu", "unit": "%", "max_value": 80}],
    )
    response = login(client, people.adam).post(
        f"/monitoring/checks/metric/{check.pk}/test/", HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Fails" in body and "93 % is above the maximum 80 %" in body
    assert stub.hits["/api/v1/query"] == 1


def test_policy_form__bad_values__are_refused_in_the_form(client, people, project):
    response = login(client, people.adam).post(
        "/monitoring/projects/payments/environments/production/policy/",
        {
            "poll_interval": "30",
            "canary_percent": "5",
            "canary_minutes": "0.1",
            "post_deploy_minutes": "30",
            "tls_min_days": "14",
            "precheck_max_age_minutes": "15",
            "rollback_hook_url": "gopher://x",
        },
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Only http:// and https:// URLs" in body
    # 6 s polled every 30 s: not one measurement, let alone the three a verdict needs.
    assert "The canary must last at least 90 s" in body
    assert "give at most 0 of the 3 measurements a verdict needs" in body


def test_prechecks_button__runs_and_feeds_the_production_gate(client, people, envs, stub, release):
    from releases.gates import gate_evaluate

    stub.route("/healthz", Answer(503))
    configure(
        envs["production"], people.adam, health=[{"name": "API", "url": stub.url("/healthz")}]
    )
    report = gate_evaluate(release=release, environment=envs["production"])
    gate = next(g for g in report.gates if g.code == "monitoring_prechecks")
    assert gate.state == "closed" and "have not run yet" in gate.reason

    response = login(client, people.bob).post(
        "/monitoring/projects/payments/environments/production/prechecks/", HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "answered HTTP 503; expected 200" in response.content.decode()
    report = gate_evaluate(release=release, environment=envs["production"])
    gate = next(g for g in report.gates if g.code == "monitoring_prechecks")
    assert gate.state == "closed" and "answered HTTP 503" in gate.reason


def test_window_page__query_count_does_not_grow_with_samples(
    client, people, running_window, django_assert_max_num_queries
):
    login(client, people.alice)
    url = f"/monitoring/windows/{running_window.pk}/?part=live"
    with django_assert_max_num_queries(12):
        client.get(url, HTTP_HX_REQUEST="true")
    for slot in range(4, 20):
        monitoring_tick(
            now=running_window.started_at
            + running_window.poll_interval * slot
            + timedelta(milliseconds=5)
        )
    with django_assert_max_num_queries(12):
        assert client.get(url, HTTP_HX_REQUEST="true").status_code == 200
