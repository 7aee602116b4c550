"""Fixtures for the monitoring tests: real local HTTP servers and configured environments.

The test servers listen on 127.0.0.1, which the SSRF guard refuses by
default; tests that poll them ask for ``allow_loopback`` explicitly, and the
SSRF tests do not.
"""

from __future__ import annotations

import subprocess
from datetime import timedelta

import pytest

from monitoring.choices import CheckKind
from monitoring.services import check_create, policy_update
from tests.monitoring.servers import CountingListener, StubServer


@pytest.fixture(autouse=True)
def fast_scheduler(monkeypatch):
    """These tests drive ``monitoring_tick`` themselves: a scheduler ticking every 0.25 s
    lets their windows poll every second or faster (the limit is in services/config.py)."""
    monkeypatch.setenv("SHIPCHECK_MONITORING_TICK", "0.25")


@pytest.fixture
def stub():
    server = StubServer()
    yield server
    server.stop()


@pytest.fixture
def hook_server():
    server = StubServer()
    yield server
    server.stop()


@pytest.fixture
def listener():
    counting = CountingListener()
    yield counting
    counting.stop()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "5",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )
    return str(cert), str(key)


@pytest.fixture
def allow_loopback(settings):
    settings.SHIPCHECK_FETCH_ALLOWLIST = ["127.0.0.1"]


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """``committed(fn, ...)``: call fn and run what it queued for after commit (hook calls, baselines).

    Tests run inside a transaction that never commits, so ``on_commit`` work
    would otherwise never happen.
    """

    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


@pytest.fixture
def monitoring_gates(gates_only):
    """Reach production with the core and monitoring gates only (no approvals or checklists)."""
    gates_only("monitoring")


def configure(environment, admin, *, health=(), metrics=(), **policy):
    """Set ``environment``'s policy and checks through the services, as an admin would."""
    defaults = {"poll_interval": 1.0, "canary_duration": 5.0, "post_deploy_duration": 5.0}
    values = {**defaults, **policy}
    for key in ("poll_interval", "canary_duration", "post_deploy_duration"):
        if not isinstance(values[key], timedelta):
            values[key] = timedelta(seconds=values[key])
    policy_update(environment=environment, actor=admin, **values)
    created = []
    for spec in health:
        created.append(
            check_create(environment=environment, kind=CheckKind.HEALTH, actor=admin, **spec)
        )
    for spec in metrics:
        created.append(
            check_create(environment=environment, kind=CheckKind.METRIC, actor=admin, **spec)
        )
    return created
