"""``shipcheck flag …`` against a live Shipcheck, as a CI job runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from flags.models import Flag, RolloutPlan
from projects.services import api_token_create


@pytest.fixture
def shipcheck(live_server, people, project):
    _token, plain = api_token_create(
        project=project, name="ci", scopes=["read", "deployments"], actor=people.adam
    )
    env = {
        **os.environ,
        "SHIPCHECK_URL": live_server.url,
        "SHIPCHECK_TOKEN": plain,
        "SHIPCHECK_PROJECT": "payments",
        "SHIPCHECK_RETRIES": "0",
        "PYTHONPATH": str(Path(settings.BASE_DIR)),
    }

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "shipcheck_cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    return run


def test_flag_commands_for_ci(shipcheck, release, flag):
    listed = shipcheck("flag", "list", "--environment", "production")
    assert listed.returncode == 0, listed.stderr
    assert "fast-checkout: on at 10 %" in listed.stdout
    changed = shipcheck(
        "flag", "set", "fast-checkout", "--environment", "production", "--rollout", "15"
    )
    assert changed.returncode == 0, changed.stderr
    assert Flag.objects.get().rollout == 15
    planned = shipcheck(
        "flag",
        "plan",
        str(release.pk),
        "--environment",
        "production",
        "--flag",
        "fast-checkout",
        "--steps",
        "10,50,100",
        "--hold",
        "2h",
        "--json",
    )
    assert planned.returncode == 0, planned.stderr
    plan_id = json.loads(planned.stdout)["id"]
    started = shipcheck("flag", "start", str(plan_id))
    assert started.returncode == 0 and "running at 10 %" in started.stdout
    assert shipcheck("flag", "advance", str(plan_id), "--reason", "CI smoke passed").returncode == 0
    assert RolloutPlan.objects.get().current_percent == 50
    status = shipcheck("flag", "plan-status", str(plan_id))
    assert "10% → 50%* → 100%" in status.stdout
    refused = shipcheck("flag", "resume", str(plan_id))
    assert refused.returncode != 0 and "paused plan" in refused.stderr
    bad = shipcheck(
        "flag", "set", "fast-checkout", "--environment", "production", "--rollout", "150"
    )
    assert bad.returncode != 0 and Flag.objects.get().rollout == 50
