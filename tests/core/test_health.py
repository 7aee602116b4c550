"""/healthz answers while the process runs; /readyz checks the database, the broker and the worker."""

from __future__ import annotations

import socket
import time

import pytest
from django.core.cache import cache

from core.tasks import HEARTBEAT_KEY, heartbeat


@pytest.fixture
def closed_port() -> int:
    """A local port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def unreachable_broker(closed_port):
    """Point the Celery app at a Redis broker on a closed port, as a wrong REDIS_URL would."""
    from config.celery import app

    saved = app.conf.broker_url, app.conf.broker_transport_options
    app.conf.broker_url = f"redis://127.0.0.1:{closed_port}/0"
    app.conf.broker_transport_options = {}
    yield
    app.conf.broker_url, app.conf.broker_transport_options = saved


def test_healthz__answers_ok_without_touching_anything(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_readyz__database_and_broker_reachable__is_200(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["status"] == "ok"
    assert body["broker"]["status"] == "ok"


@pytest.mark.django_db
def test_readyz__broker_unreachable__is_503_and_says_which(client, unreachable_broker, settings):
    settings.CELERY_BROKER_URL = "redis://:hunter2@broker.internal:6379/0"
    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["broker"]["status"] == "error"
    assert body["database"]["status"] == "ok"
    # Anonymous callers are not told where the broker is.
    assert "url" not in body["broker"]
    assert "6379" not in response.content.decode()


@pytest.mark.django_db
def test_readyz__reports_the_worker_heartbeat(client):
    cache.delete(HEARTBEAT_KEY)
    assert client.get("/readyz").json()["worker_and_scheduler"]["status"] == "unknown"

    heartbeat.delay(time.time())  # eager in tests: runs here, as a worker would

    worker = client.get("/readyz").json()["worker_and_scheduler"]
    assert worker["status"] == "ok"
    assert worker["last_heartbeat_seconds_ago"] < 5


@pytest.mark.django_db
def test_readyz__old_heartbeat__is_stale(client):
    cache.set(HEARTBEAT_KEY, {"ran_at": time.time() - 600, "sent_at": time.time() - 600})

    assert client.get("/readyz").json()["worker_and_scheduler"]["status"] == "stale"
    cache.delete(HEARTBEAT_KEY)


@pytest.mark.django_db
def test_readyz__staff__sees_where_the_broker_is_without_its_password(client, settings):
    from tests.factories import UserFactory

    settings.CELERY_BROKER_URL = "redis://:hunter2@broker.internal:6379/0"
    client.force_login(UserFactory(username="ops", is_staff=True))

    body = client.get("/readyz").json()

    assert body["broker"]["url"] == "redis://broker.internal:6379/0"
    assert "hunter2" not in str(body)


@pytest.mark.django_db
def test_readyz__anonymous__is_not_told_the_broker_host_or_port(client, settings):
    settings.CELERY_BROKER_URL = "redis://:hunter2@broker.internal:6379/0"

    text = client.get("/readyz").content.decode()

    assert "broker.internal" not in text and "6379" not in text and "hunter2" not in text
