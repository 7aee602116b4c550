"""The pipeline API's gate answer and ``shipcheck gate`` carry the freeze and the next opening."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from projects.services import api_token_create
from tests.deploycalendar.conftest import minute
from tests.integrations.conftest import Api

GATE = "/api/v1/ci/releases/2.4.0/gate/production/"


def _token(project, people) -> str:
    return api_token_create(
        project=project, name="ci", scopes=["read", "deployments"], actor=people.adam
    )[1]


@pytest.mark.django_db
def test_ci_gate__frozen__409_with_freeze_and_next_opening(staged, project, people, freeze_now):
    freeze_now()
    response = Api(_token(project, people)).get(GATE)
    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "gate_closed"
    assert "production is frozen ('Year-end freeze') until" in body["message"]
    gate = next(g for g in body["details"]["gates"] if g["code"] == "deploy_window")
    assert gate["freeze"] == "Year-end freeze"
    assert gate["next_opening"].startswith(minute(120).isoformat()[:16])


@pytest.mark.django_db
def test_ci_deploy_start__frozen__is_refused_with_the_reason(staged, project, people, freeze_now):
    freeze_now()
    response = Api(_token(project, people)).post(
        "/api/v1/ci/releases/2.4.0/deployments/", {"environment": "production", "status": "started"}
    )
    assert response.status_code == 409
    assert "frozen" in response.json()["message"]
    # Recorded, not lost: a freeze violation, audited, announced and shown on the release.
    from audit.models import AuditEvent
    from deploycalendar.models import FreezeViolation

    violation = FreezeViolation.objects.get()
    assert violation.freeze_name == "Year-end freeze" and violation.reported_by == "API token ci"
    assert AuditEvent.objects.filter(action="calendar.freeze_violation").count() == 1
    from django.test import Client

    client = Client()
    client.force_login(people.alice)
    page = client.get(staged.get_absolute_url()).content.decode()
    assert "Freeze violation in production" in page
    calendar = client.get("/calendar/?view=week").content.decode()
    assert "freeze violation" in calendar and "2.4.0 → production" in calendar


@pytest.mark.django_db
def test_ci_deploy_start__closed_only_by_a_window__is_no_violation(
    staged, project, people, window_later
):
    from deploycalendar.models import FreezeViolation

    window_later(120)
    response = Api(_token(project, people)).post(
        "/api/v1/ci/releases/2.4.0/deployments/", {"environment": "production", "status": "started"}
    )
    assert response.status_code == 409
    assert not FreezeViolation.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_shipcheck_gate__frozen__exit_1_with_sentence_and_next_opening(
    staged, project, people, freeze_now, live_server, tmp_path
):
    freeze_now()
    environment = {
        **os.environ,
        "SHIPCHECK_URL": live_server.url,
        "SHIPCHECK_TOKEN": _token(project, people),
        "SHIPCHECK_RETRIES": "0",
        "PYTHONPATH": str(Path(settings.BASE_DIR)),
    }
    environment.pop("SHIPCHECK_PROJECT", None)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "shipcheck_cli",
            "gate",
            "--version",
            "2.4.0",
            "--env",
            "production",
        ],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "production is frozen ('Year-end freeze') until" in result.stderr
    assert "next opening: " + minute(120).isoformat()[:16] in result.stderr
