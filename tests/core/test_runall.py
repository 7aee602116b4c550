"""`manage.py runall` starts the web server, a worker and the scheduler, and stops them all.

A real run: the children are real processes on a free port, with a database,
broker and cache of their own in a temporary folder (SQLite and the filesystem
broker, whatever the suite itself runs on).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, {}


def _wait_for(predicate, timeout: float, what: str, log: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.3)
    pytest.fail(f"{what} within {timeout:.0f}s. Output:\n{log.read_text()[-4000:]}")


def _processes_with(marker: str) -> list[int]:
    """Live processes whose environment mentions ``marker`` (our temporary folder)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes():
                stat = (entry / "stat").read_text()
                if ") Z " not in stat:  # zombies are already dead
                    pids.append(int(entry.name))
        except OSError:
            continue
    return pids


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")
def test_runall__serves_runs_the_worker_and_stops_everything_on_sigterm(tmp_path):
    port = _free_port()
    log = tmp_path / "runall.log"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_TASK_ALWAYS_EAGER", "PYTEST_XDIST_WORKER")
    }
    env.update(
        SHIPCHECK_VAR_DIR=str(tmp_path / "var"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        SHIPCHECK_PORT=str(port),
        DJANGO_SETTINGS_MODULE="config.settings",
        # The demo metrics server listens on a fixed port; parallel tests must not.
        SHIPCHECK_DEMO_METRICS="off",
    )
    with log.open("w") as out:
        runall = subprocess.Popen(
            [sys.executable, "manage.py", "runall", "--concurrency=2"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(
            lambda: _get(f"{base}/healthz")[0] == 200, 60, "the web server did not answer", log
        )

        def worker_ok():
            status, body = _get(f"{base}/readyz")
            return status == 200 and body["worker_and_scheduler"]["status"] == "ok"

        _wait_for(worker_ok, 60, "/readyz did not report the worker's heartbeat", log)
        children = _processes_with(str(tmp_path))
        assert len(children) >= 4, "expected runall, web, worker and beat"
        output = log.read_text()
        assert f"Shipcheck is running at http://127.0.0.1:{port}/" in output
        assert " web | " in output and "worker | " in output and "  beat | " in output
    finally:
        runall.send_signal(signal.SIGTERM)
        try:
            code = runall.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(runall.pid, signal.SIGKILL)
            raise
    assert code == 0, log.read_text()[-4000:]
    _wait_for(lambda: not _processes_with(str(tmp_path)), 10, "children were left running", log)
    assert "Stopped the web server, the worker and the scheduler." in log.read_text()


def test_runall__port_in_use__refuses_clearly(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env.update(SHIPCHECK_VAR_DIR=str(tmp_path), SHIPCHECK_PORT=str(port))
        result = subprocess.run(
            [sys.executable, "manage.py", "runall"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert result.returncode != 0
    assert f"127.0.0.1:{port} is already in use" in result.stderr
