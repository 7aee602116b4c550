"""The live monitoring view in real Chromium: it refreshes itself, and a person aborts a canary.

The canary polls a real local health/metrics server; the test plays the
scheduler by calling the tick between page checks.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from audit.models import AuditEvent
from monitoring.choices import WindowKind, WindowStatus
from monitoring.models import MonitoringWindow
from monitoring.services import deployment_start, monitoring_tick
from releases.choices import DeploymentStatus, DeploymentStrategy
from tests.monitoring.conftest import configure
from tests.monitoring.servers import Answer, StubServer, by_query, prom_vector

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def metrics_server():
    server = StubServer()
    yield server
    server.stop()


def test_live_window__refreshes_then_a_person_aborts_and_rolls_back(
    login_as, people, release, envs, metrics_server, settings, monkeypatch
):
    settings.SHIPCHECK_FETCH_ALLOWLIST = ["127.0.0.1"]
    monkeypatch.setenv("SHIPCHECK_MONITORING_TICK", "0.25")  # the test ticks; polls every second
    metrics_server.route("/healthz", Answer(200, {"status": "ok"}))
    metrics_server.route("/api/v1/query", by_query({"errors": prom_vector(0.4)}))
    configure(
        envs["dev"],
        people.adam,
        canary_duration=600,
        poll_interval=1,
        health=[{"name": "Health", "url": metrics_server.url("/healthz")}],
        metrics=[
            {
                "name": "Error rate",
                "url": metrics_server.url(),
                "query": "errors",
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
    )
    window = MonitoringWindow.objects.get(deployment=deployment, kind=WindowKind.CANARY)
    monitoring_tick(now=window.started_at + timedelta(seconds=1, milliseconds=5))

    page = login_as(people.alice)
    page.goto(window.get_absolute_url())
    expect(page.locator("#verdict-heading")).to_contain_text("Watching")
    expect(page.locator("svg.chart")).to_have_count(2)
    expect(page.locator("[data-countdown]")).to_be_visible()
    expect(page.locator("#check-" + str(window.checks.get(name="Health").pk))).to_contain_text(
        "1 passed"
    )

    # A poll happens in the background; the page shows it without a reload.
    monitoring_tick(now=window.started_at + timedelta(seconds=2, milliseconds=5))
    expect(page.locator(".check-tally").first).to_contain_text("2 passed")

    page.fill("#rollback-reason", "Checkout errors reported by support.")
    page.get_by_role("button", name="Abort and roll back").click()
    expect(page.locator("#verdict-heading")).to_contain_text("Failed — rollback recommended")
    expect(page.locator(".rollback-advice")).to_contain_text("No rollback hook is configured")
    window.refresh_from_db()
    deployment.refresh_from_db()
    assert window.status == WindowStatus.FAILED
    assert deployment.status == DeploymentStatus.FAILED
    assert AuditEvent.objects.filter(
        action="monitoring.decision",
        actor_label="alice",
        reason="Checkout errors reported by support.",
    ).exists()

    # The release page carries the monitoring history and the recommendation.
    page.goto(release.get_absolute_url())
    expect(page.locator("#monitoring-panel")).to_contain_text("Rollback recommended in Development")


def test_configuration__admin_adds_a_check_and_tests_it_now(
    login_as, people, project, metrics_server, settings
):
    settings.SHIPCHECK_FETCH_ALLOWLIST = ["127.0.0.1"]
    metrics_server.route("/healthz", Answer(503, {"status": "down"}))
    page = login_as(people.adam)
    page.goto("/monitoring/projects/payments/environments/production/")
    page.get_by_role("link", name="Add a health check").click()
    page.fill("#id_name", "API health")
    page.fill("#id_url", "http://10.0.0.8/health")
    page.get_by_role("button", name="Add the check").click()
    expect(page.locator(".has-error")).to_contain_text("10.0.0.8 is a private address")

    page.fill("#id_url", metrics_server.url("/healthz"))
    page.get_by_role("button", name="Add the check").click()
    expect(page.locator("h1")).to_contain_text("What is watched in Production")
    page.get_by_role("button", name="Test this check now").click()
    expect(page.locator(".test-result")).to_contain_text("answered HTTP 503; expected 200")
