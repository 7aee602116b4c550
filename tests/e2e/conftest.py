"""Journeys across the whole product reuse the real peers of the other test packages:
the SMTP server of tests/accounts and the HTTP stub server of tests/monitoring."""

from __future__ import annotations

import pytest

from tests.accounts.conftest import smtp_server  # noqa: F401 - a fixture, used by name
from tests.monitoring.servers import Answer, StubServer


@pytest.fixture
def health_endpoint():
    """A real HTTP server on 127.0.0.1 whose ``/healthz`` answers 200 ``{"status": "ok"}``."""
    server = StubServer()
    server.route("/healthz", Answer(200, {"status": "ok"}))
    yield server
    server.stop()
