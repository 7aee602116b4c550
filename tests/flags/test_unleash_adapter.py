"""The Unleash adapter against a real Unleash server (npm ``unleash-server``, started here).

The set-up creates a PostgreSQL database for Unleash, starts the server with
Node.js on a free loopback port and an admin token, and creates the flag with
a gradual-rollout strategy through Unleash's Admin API. Without npm's package
(``make unleash``), Node.js or PostgreSQL the tests skip with the reason, and
fail when CI=true.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from flags.adapters import AdapterError, UnleashAdapter
from flags.choices import PlanStatus, StepStatus
from flags.models import RolloutPlan
from flags.services import flag_system_set, flags_tick, plan_create, plan_start

HERE = Path(__file__).parent / "unleash"
ADMIN_TOKEN = "*:*.shipcheck-flags-tests-admin-token"
PG_URL = os.environ.get("SHIPCHECK_UNLEASH_PG", "postgres://postgres@127.0.0.1:5432/postgres")
FLAG = "fast-checkout"


def _missing(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"Unleash adapter tests cannot run in CI: {reason}")
    pytest.skip(f"!!! Unleash adapter tests skipped: {reason}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def unleash_server():
    node = shutil.which("node")
    if node is None:
        _missing("Node.js is not installed")
    if not (HERE / "node_modules" / "unleash-server").is_dir():
        _missing("unleash-server is not installed: run `make unleash`")
    try:
        import psycopg

        admin = psycopg.connect(PG_URL, autocommit=True, connect_timeout=3)
    except Exception as exc:  # noqa: BLE001 - any failure to reach PostgreSQL means: cannot run
        _missing(f"PostgreSQL is not reachable at {PG_URL} ({exc})")
    name = f"unleash_test_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_URL.rsplit("/", 1)[0]
    port = _free_port()
    env = {
        **os.environ,
        "UNLEASH_DATABASE_URL": f"{base}/{name}",
        "UNLEASH_PORT": str(port),
        "UNLEASH_ADMIN_TOKEN": ADMIN_TOKEN,
        "NODE_ENV": "production",
    }
    process = subprocess.Popen(
        [node, "server.js"],
        cwd=HERE,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(
                    "Unleash stopped:\n" + (process.stdout.read() if process.stdout else "")
                )
            try:
                if requests.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.5)
        else:
            raise AssertionError("Unleash did not answer /health within 120 s")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


class _admin:
    """A tiny Admin API client for setting Unleash up (the code under test uses the adapter)."""

    def __init__(self, url: str):
        self.url = url
        self.session = requests.Session()
        self.session.headers["Authorization"] = ADMIN_TOKEN

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.session.close()

    def get(self, path, **kwargs):
        return self.session.get(self.url + path, timeout=10, **kwargs)

    def post(self, path, **kwargs):
        return self.session.post(self.url + path, timeout=10, **kwargs)


@pytest.fixture
def unleash_flag(unleash_server):
    """A fresh flag in Unleash's default project with a gradual rollout at 0 % in production."""
    key = f"{FLAG}-{uuid.uuid4().hex[:6]}"
    with _admin(unleash_server) as admin:
        admin.post("/api/admin/projects/default/features", json={"name": key}).raise_for_status()
        admin.post(
            f"/api/admin/projects/default/features/{key}/environments/production/strategies",
            json={
                "name": "flexibleRollout",
                "parameters": {"rollout": "0", "stickiness": "default", "groupId": key},
            },
        ).raise_for_status()
    return key


def _unleash_state(url: str, key: str) -> tuple[bool, str]:
    with _admin(url) as admin:
        feature = admin.get(f"/api/admin/projects/default/features/{key}").json()
    production = next(e for e in feature["environments"] if e["name"] == "production")
    rollout = next(s for s in production["strategies"] if s["name"] == "flexibleRollout")
    return production["enabled"], rollout["parameters"]["rollout"]


@pytest.fixture
def system(people, prod, unleash_server, allow_loopback):
    return flag_system_set(
        environment=prod,
        actor=people.adam,
        base_url=unleash_server,
        token=ADMIN_TOKEN,
        unleash_project="default",
        unleash_environment="production",
    )


def _tick_through(plan, *, health=None, bad_after=None):
    step = plan.steps.get(position=plan.current_position)
    for n in range(1, 8):
        if bad_after is not None and n > bad_after:
            health.bad = True
        flags_tick(now=step.started_at + timedelta(seconds=10 * n + 0.5))
    plan.refresh_from_db()
    return plan


def test_adapter_reads_sets_and_disables(unleash_server, unleash_flag, allow_loopback):
    adapter = UnleashAdapter(
        base_url=unleash_server, token=ADMIN_TOKEN, project="default", environment="production"
    )
    assert adapter.read_rollout(unleash_flag) == 0
    adapter.set_rollout(unleash_flag, 25)
    assert adapter.read_rollout(unleash_flag) == 25
    assert _unleash_state(unleash_server, unleash_flag) == (True, "25")
    adapter.disable(unleash_flag)
    assert _unleash_state(unleash_server, unleash_flag)[0] is False
    with pytest.raises(AdapterError, match="no such flag"):
        adapter.read_rollout("does-not-exist")
    wrong = UnleashAdapter(
        base_url=unleash_server, token="*:*.wrong", project="default", environment="production"
    )
    with pytest.raises(AdapterError, match="refused the token"):
        wrong.read_rollout(unleash_flag)


def test_plan_moves_unleash_10_to_25_then_pauses_on_a_failing_check(
    release, prod, people, system, unleash_server, unleash_flag, watched, health
):
    plan = plan_create(
        release=release,
        environment=prod,
        actor=people.alice,
        flag_key=unleash_flag,
        source="unleash",
        steps=[{"percent": p, "hold_seconds": 60} for p in (10, 25, 50, 100)],
    )
    plan = plan_start(plan=plan, actor=people.alice)
    assert plan.status == PlanStatus.RUNNING, plan.reason
    assert _unleash_state(unleash_server, unleash_flag) == (True, "10")
    plan = _tick_through(plan)
    assert plan.current_percent == 25, plan.reason
    assert _unleash_state(unleash_server, unleash_flag) == (True, "25")
    plan = _tick_through(plan, health=health, bad_after=2)
    assert plan.status == PlanStatus.PAUSED
    assert plan.steps.get(position=1).status == StepStatus.FAILED
    assert _unleash_state(unleash_server, unleash_flag) == (False, "0")


def test_a_change_made_in_unleash_is_noticed_and_pauses(
    release, prod, people, system, unleash_server, unleash_flag, watched, health
):
    plan = plan_create(
        release=release,
        environment=prod,
        actor=people.alice,
        flag_key=unleash_flag,
        source="unleash",
        steps=[{"percent": p, "hold_seconds": 60} for p in (10, 100)],
    )
    plan = plan_start(plan=plan, actor=people.alice)
    UnleashAdapter(
        base_url=unleash_server, token=ADMIN_TOKEN, project="default", environment="production"
    ).set_rollout(unleash_flag, 40)
    step = plan.steps.get(position=0)
    flags_tick(now=step.started_at + timedelta(seconds=10.5))
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PAUSED
    assert "Unleash reports 40 %" in plan.drift and "Shipcheck set 10 %" in plan.drift


def test_unreachable_or_refusing_unleash_leaves_a_recorded_paused_plan(
    release, prod, people, system, unleash_flag, health
):
    system.token = "*:*.revoked"
    system.save()
    plan = plan_create(
        release=release,
        environment=prod,
        actor=people.alice,
        flag_key=unleash_flag,
        source="unleash",
    )
    plan = plan_start(plan=plan, actor=people.alice)
    assert plan.status == PlanStatus.PAUSED
    assert "refused the token" in plan.reason
    assert plan.steps.get(position=0).applied_at is None or plan.current_percent == 0
    assert RolloutPlan.objects.get().status == PlanStatus.PAUSED
