"""Request ids, JSON logs, /metrics and Sentry (docs/operations.md)."""

from __future__ import annotations

import gzip
import http.server
import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from core.tasks import heartbeat

ROOT = Path(__file__).resolve().parents[2]


# --- Request ids --------------------------------------------------------------------------


@pytest.mark.django_db
def test_request_id__on_every_answer_errors_included(client):
    page = client.get("/login/")
    error = client.get("/api/v1/releases/999999/", HTTP_AUTHORIZATION="Bearer shp_nope")

    assert re.fullmatch(r"[0-9a-f]{32}", page["X-Request-ID"])
    assert re.fullmatch(r"[0-9a-f]{32}", error["X-Request-ID"])
    assert error["X-Request-ID"] != page["X-Request-ID"]
    assert error.json()["error"] in ("authentication_failed", "not_authenticated")


@pytest.fixture
def broken_urls(settings):
    settings.ROOT_URLCONF = "tests.core.broken_urls"


@pytest.mark.django_db
def test_request_id__server_error__in_the_body_details_and_the_page(client, broken_urls):
    client.raise_request_exception = False

    api = client.get("/api/v1/broken/", HTTP_X_REQUEST_ID="support-case-0042")
    page = client.get("/broken/", HTTP_X_REQUEST_ID="support-case-0043")

    assert api.status_code == 500
    assert api.json() == {
        "error": "server_error",
        "message": "The server could not answer this request.",
        "details": {"request_id": "support-case-0042"},
    }
    assert api["X-Request-ID"] == "support-case-0042"
    assert page.status_code == 500
    assert "support-case-0043" in page.content.decode()
    assert page["X-Request-ID"] == "support-case-0043"


@pytest.mark.django_db
def test_request_id__a_sane_one_from_the_caller_is_kept_a_hostile_one_replaced(client):
    kept = client.get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a9c21-0001")
    replaced = client.get("/healthz", HTTP_X_REQUEST_ID="x\r\nSet-Cookie: a=b")

    assert kept["X-Request-ID"] == "lb-7f3a9c21-0001"
    assert re.fullmatch(r"[0-9a-f]{32}", replaced["X-Request-ID"])


def _django(tmp_path, script: str, **env: str) -> subprocess.CompletedProcess:
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "SHIPCHECK_TESTING", "LOG_FORMAT", "SENTRY_DSN")
    }
    environment.update(DJANGO_SETTINGS_MODULE="config.settings", SHIPCHECK_VAR_DIR=str(tmp_path))
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + script],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_json_logs__one_object_per_line_with_the_request_id(tmp_path):
    script = (
        "import logging\n"
        "from django.test import Client\n"
        "from django.core.management import call_command\n"
        "call_command('migrate', verbosity=0)\n"
        "response = Client().get('/no/such/page/', HTTP_X_REQUEST_ID='trace-12345678')\n"
        "logging.getLogger('shipcheck.test').warning('outside any request')\n"
    )
    result = _django(tmp_path, script, LOG_FORMAT="json")

    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    request_line = next(line for line in lines if line["logger"] == "shipcheck.request")
    assert request_line["request_id"] == "trace-12345678"
    assert request_line["status"] == 404 and request_line["path"] == "/no/such/page/"
    assert request_line["level"] == "INFO" and request_line["time"].endswith("+00:00")
    outside = next(line for line in lines if line["logger"] == "shipcheck.test")
    assert outside["message"] == "outside any request" and outside["request_id"] is None


def test_log_format__malformed__stops_start_up(tmp_path):
    result = _django(tmp_path, "", LOG_FORMAT="xml")

    assert result.returncode != 0
    assert "LOG_FORMAT must be json or plain" in result.stderr


# --- /metrics -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_metrics__without_a_token__only_the_loopback_address(client, settings):
    settings.SHIPCHECK_METRICS_TOKEN = ""

    local = client.get("/metrics")  # the test client comes from 127.0.0.1
    remote = client.get("/metrics", REMOTE_ADDR="203.0.113.9")

    assert local.status_code == 200
    assert remote.status_code == 404
    assert "shipcheck_" not in remote.content.decode()


@pytest.mark.django_db
def test_metrics__with_a_token__needs_the_bearer_token(client, settings):
    settings.SHIPCHECK_METRICS_TOKEN = "metrics-token-0123456789"  # noqa: S105

    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    answer = client.get(
        "/metrics",
        REMOTE_ADDR="203.0.113.9",
        HTTP_AUTHORIZATION="Bearer metrics-token-0123456789",
    )
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/plain")


def _sample(text: str, name: str, **labels: str) -> float | None:
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        metric, _, value = line.rpartition(" ")
        if metric.split("{")[0] == name and all(f'{k}="{v}"' in metric for k, v in labels.items()):
            return float(value)
    return None


@pytest.mark.django_db
def test_metrics__requests_latencies_task_runs_poll_lag_and_queue_depth(client, settings):
    settings.SHIPCHECK_METRICS_TOKEN = ""
    client.get("/healthz")
    before = (
        _sample(
            client.get("/metrics").content.decode(),
            "shipcheck_task_runs_total",
            task="core.tasks.heartbeat",
            outcome="succeeded",
        )
        or 0
    )

    heartbeat.delay(0)  # eager in tests: runs here and is counted as a worker would count it
    heartbeat.delay(0)
    text = client.get("/metrics").content.decode()

    assert _sample(text, "shipcheck_http_requests_total", route="healthz", status="200") >= 1
    assert _sample(text, "shipcheck_http_request_duration_seconds_count", route="healthz") >= 1
    assert (
        _sample(text, "shipcheck_task_runs_total", task="core.tasks.heartbeat", outcome="succeeded")
        == before + 2
    )
    assert _sample(text, "shipcheck_monitoring_poll_lag_seconds") == 0.0
    assert _sample(text, "shipcheck_queue_depth", queue="celery") is not None
    assert _sample(text, "shipcheck_queue_depth", queue="monitoring") is not None
    assert _sample(text, "shipcheck_worker_heartbeat_age_seconds") is not None


# --- Sentry -----------------------------------------------------------------------------------


class _Collector(http.server.BaseHTTPRequestHandler):
    received: list[tuple[str, bytes]] = []

    def do_POST(self):  # noqa: N802 - http.server's name
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        type(self).received.append((self.path, body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def sentry_server():
    _Collector.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_sentry__reports_errors_when_sentry_dsn_is_set(tmp_path, sentry_server):
    port = sentry_server.server_address[1]
    script = (
        "import sentry_sdk\n"
        "assert sentry_sdk.get_client().is_active()\n"
        "sentry_sdk.capture_message('shipcheck sentry check')\n"
        "sentry_sdk.flush(timeout=10)\n"
    )
    result = _django(tmp_path, script, SENTRY_DSN=f"http://publickey@127.0.0.1:{port}/42")

    assert result.returncode == 0, result.stderr
    assert any(path.startswith("/api/42/") for path, _ in _Collector.received)
    assert any(b"shipcheck sentry check" in body for _, body in _Collector.received)


def test_sentry__not_initialised_without_sentry_dsn(tmp_path):
    result = _django(tmp_path, "import sentry_sdk\nprint(sentry_sdk.get_client().is_active())\n")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_metrics__multiprocess_mode__sums_what_every_process_wrote(tmp_path):
    """With PROMETHEUS_MULTIPROC_DIR (the image sets it) /metrics adds up every gunicorn worker."""
    folder = tmp_path / "metrics"
    script = (
        "import multiprocessing\n"
        "from django.test import Client\n"
        "def hit():\n"
        "    Client().get('/healthz')\n"
        "for _ in range(2):\n"
        "    p = multiprocessing.get_context('fork').Process(target=hit); p.start(); p.join()\n"
        "print(Client().get('/metrics').content.decode())\n"
    )
    result = _django(tmp_path, script, PROMETHEUS_MULTIPROC_DIR=str(folder))

    assert result.returncode == 0, result.stderr
    assert _sample(result.stdout, "shipcheck_http_requests_total", route="healthz") == 2.0
    assert list(folder.glob("*.db"))
