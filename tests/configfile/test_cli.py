"""``shipcheck config export | plan | apply`` end to end: the real command against a live Shipcheck."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from audit.models import AuditEvent
from checklists.services import template_create
from monitoring.models import EnvironmentPolicy, HealthCheck
from monitoring.services.config import policy_update
from projects.services import api_token_create, project_create
from tests.configfile.conftest import EXPORTED_SECRETS, data_of

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shipcheck(live_server, tmp_path):
    """``shipcheck(token, *args, env=...)`` runs the CLI in a subprocess, in ``tmp_path``."""

    def run(token: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
        environment = {
            **os.environ,
            "SHIPCHECK_URL": live_server.url,
            "SHIPCHECK_TOKEN": token,
            "SHIPCHECK_RETRIES": "0",
            "PYTHONPATH": str(Path(settings.BASE_DIR)),
            **(env or {}),
        }
        environment.pop("SHIPCHECK_PROJECT", None)
        for name in EXPORTED_SECRETS:
            if not env or name not in env:
                environment.pop(name, None)
        return subprocess.run(
            [sys.executable, "-m", "shipcheck_cli", *args],
            cwd=tmp_path,
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
        )

    return run


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)
    return result.stdout


def _token(project, person, *scopes) -> str:
    return api_token_create(
        project=project, name="repo", scopes=scopes or ["config"], actor=person
    )[1]


def test_export_plan_apply__through_the_cli__copies_a_project(
    configured, people, shipcheck, tmp_path
):
    source = _token(configured, people.adam)
    ok(shipcheck(source, "config", "export", "-o", "shipcheck.yml"))
    text = (tmp_path / "shipcheck.yml").read_text()
    assert "secret_env: PAYMENTS_PRODUCTION_ROLLBACK_HOOK_SECRET" in text
    assert "hook-secret-1" not in text

    fresh = project_create(name="Payments EU", slug="payments-eu", admins=[people.adam])
    template_create(project=fresh, actor=people.adam, name="Payments hotfix")
    target = _token(fresh, people.adam)

    # Without the secrets on this machine, nothing is sent or applied: the missing ones are named.
    refused = shipcheck(target, "config", "plan")
    assert refused.returncode == 3
    assert "PAYMENTS_PRODUCTION_ROLLBACK_HOOK_SECRET" in refused.stderr
    assert "shipcheck.yml:" in refused.stderr

    out = ok(shipcheck(target, "config", "plan", "--out", "plan.json", env=EXPORTED_SECRETS))
    assert "would make" in out
    assert '~ project.name: "Payments EU" → "Payments"' in out
    assert "+ environments[production].monitoring.rollback_hook" in out
    assert not HealthCheck.objects.filter(environment__project=fresh).exists()
    saved = json.loads((tmp_path / "plan.json").read_text())
    assert saved["project"] == "payments-eu"

    out = ok(shipcheck(target, "config", "apply", "--plan", "plan.json", env=EXPORTED_SECRETS))
    assert out.startswith("Applied shipcheck.yml to payments-eu:")
    production = fresh.environments.get(name="production")
    assert EnvironmentPolicy.objects.get(environment=production).rollback_hook_secret == (
        "hook-secret-1"
    )
    event = AuditEvent.objects.get(action="config.applied", project_id=fresh.pk)
    assert event.data["sha256"] == saved["sha256"]

    out = ok(shipcheck(target, "config", "apply", env=EXPORTED_SECRETS))
    assert out.startswith("No changes")
    copy = ok(shipcheck(target, "config", "export"))
    assert data_of(copy) == data_of(text)


def test_apply_from_a_saved_plan__server_changed_since__is_refused(
    configured, people, envs, shipcheck, tmp_path
):
    token = _token(configured, people.adam)
    ok(shipcheck(token, "config", "export", "-o", "shipcheck.yml"))
    text = (
        (tmp_path / "shipcheck.yml").read_text().replace("canary_percent: 10", "canary_percent: 20")
    )
    (tmp_path / "shipcheck.yml").write_text(text)
    out = ok(shipcheck(token, "config", "plan", "--out", "plan.json", env=EXPORTED_SECRETS))
    assert "~ environments[production].monitoring.policy.canary_percent: 10 → 20" in out
    policy_update(environment=envs["production"], actor=people.adam, canary_percent=50)
    refused = shipcheck(token, "config", "apply", "--plan", "plan.json", env=EXPORTED_SECRETS)
    assert refused.returncode == 3
    assert "changed since this plan" in refused.stderr
    assert EnvironmentPolicy.objects.get(environment=envs["production"]).canary_percent == 50


def test_apply_from_a_saved_plan__file_edited_since__is_refused_locally(
    configured, people, shipcheck, tmp_path
):
    token = _token(configured, people.adam)
    ok(shipcheck(token, "config", "export", "-o", "shipcheck.yml"))
    ok(shipcheck(token, "config", "plan", "--out", "plan.json", env=EXPORTED_SECRETS))
    path = tmp_path / "shipcheck.yml"
    path.write_text(path.read_text().replace("canary_percent: 10", "canary_percent: 30"))
    refused = shipcheck(token, "config", "apply", "--plan", "plan.json", env=EXPORTED_SECRETS)
    assert refused.returncode == 3
    assert "changed since the plan" in refused.stderr


def test_bad_file__every_problem_with_file_line_and_column(configured, people, shipcheck, tmp_path):
    (tmp_path / "bad.yml").write_text(
        "version: 1\nenvironments:\n  - name: dev\n    tier: qa\n    colour: blue\n"
        "roles:\n  admin: [ghost]\n"
    )
    result = shipcheck(_token(configured, people.adam), "config", "apply", "-f", "bad.yml")
    assert result.returncode == 3
    lines = result.stderr.splitlines()
    assert lines[0] == "shipcheck: shipcheck.yml has 3 problems; nothing was applied."
    assert lines[1].startswith("bad.yml:4:11: 'qa' is not allowed here")
    assert lines[2].startswith("bad.yml:5:5: Unknown key 'colour'")
    assert lines[3].startswith("bad.yml:7:11: No one in Shipcheck has the username")
    assert not AuditEvent.objects.filter(action="config.applied").exists()


def test_read_token__exports_but_may_not_apply(configured, people, shipcheck, tmp_path):
    token = _token(configured, people.adam, "read")
    ok(shipcheck(token, "config", "export", "-o", "shipcheck.yml"))
    result = shipcheck(token, "config", "apply", env=EXPORTED_SECRETS)
    assert result.returncode == 3
    assert "lacks the scope 'config'" in result.stderr
