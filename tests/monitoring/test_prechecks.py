"""Pre-deployment checks and the production gate: health, CPU/memory bounds, certificate validity."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from monitoring.models import Precheck
from monitoring.services import precheck_refresh_due, precheck_run
from releases.gates import gate_evaluate
from tests.monitoring.conftest import configure
from tests.monitoring.servers import Answer, StubServer, by_query, prom_vector

pytestmark = pytest.mark.usefixtures("allow_loopback")


def _gate(release, environment):
    report = gate_evaluate(release=release, environment=environment)
    return next((g for g in report.gates if g.code == "monitoring_prechecks"), None)


def test_gate__no_checks_in_production__does_not_apply(release, envs):
    assert _gate(release, envs["production"]) is None


def test_gate__cpu_above_its_bound__closes_with_the_numbers(release, envs, people, stub):
    stub.route("/healthz", Answer(200))
    stub.route("/api/v1/query", by_query({"cpu": prom_vector(91.5), "mem": prom_vector(40)}))
    configure(
        envs["production"],
        people.adam,
        health=[{"name": "API", "url": stub.url("/healthz")}],
        metrics=[
            {
                "name": "CPU",
                "url": stub.url(),
                "query": "cpu",
                "unit": "%",
                "max_value": 80,
                "use_in_precheck": True,
            },
            {
                "name": "Memory",
                "url": stub.url(),
                "query": "mem",
                "unit": "%",
                "max_value": 70,
                "use_in_precheck": True,
            },
        ],
    )
    run = precheck_run(environment=envs["production"], actor=people.bob)
    assert not run.passed
    gate = _gate(release, envs["production"])
    assert gate.state == "closed"
    assert "CPU: 91.5 % is above the maximum 80 %." in gate.reason
    assert "Memory" not in gate.reason


def test_gate__passing_run__opens_until_it_is_too_old(release, envs, people, stub):
    stub.route("/healthz", Answer(200))
    configure(
        envs["production"], people.adam, health=[{"name": "API", "url": stub.url("/healthz")}]
    )
    precheck_run(environment=envs["production"], actor=people.bob)
    assert _gate(release, envs["production"]).state == "open"
    Precheck.objects.update(finished_at=timezone.now() - timedelta(minutes=20))
    gate = _gate(release, envs["production"])
    assert gate.state == "closed" and "must have run within 15 minutes" in gate.reason


def test_tls__certificate_expiring_within_the_policy__fails_the_precheck(
    release, envs, people, settings, certificate
):
    settings.SHIPCHECK_FETCH_CA_FILE = certificate[0]
    server = StubServer(tls=certificate)
    try:
        server.route("/healthz", Answer(200, {"status": "ok"}))
        configure(
            envs["production"], people.adam, health=[{"name": "API", "url": server.url("/healthz")}]
        )
        run = precheck_run(environment=envs["production"], actor=None)
    finally:
        server.stop()
    tls = next(r for r in run.results if r["kind"] == "tls")
    assert not tls["ok"]
    assert "at least 14 needed" in tls["reason"]
    assert "certificate" in _gate(release, envs["production"]).reason


def test_refresh__runs_stale_production_prechecks_only(envs, people, stub):
    stub.route("/healthz", Answer(200))
    configure(
        envs["production"], people.adam, health=[{"name": "API", "url": stub.url("/healthz")}]
    )
    configure(envs["staging"], people.adam, health=[{"name": "API", "url": stub.url("/healthz")}])
    assert precheck_refresh_due() == 1
    assert precheck_refresh_due() == 0  # fresh now
    assert Precheck.objects.filter(environment=envs["staging"]).count() == 0


def test_run__outsider_and_qa_are_refused(envs, people, stub):
    from core.exceptions import NotFound, PermissionDenied

    stub.route("/healthz", Answer(200))
    configure(
        envs["production"], people.adam, health=[{"name": "API", "url": stub.url("/healthz")}]
    )
    with pytest.raises(NotFound):
        precheck_run(environment=envs["production"], actor=people.olga)
    with pytest.raises(PermissionDenied):
        precheck_run(environment=envs["production"], actor=people.quinn)
