"""The whole pipeline through the real ``shipcheck`` command against a live Shipcheck.

A CI job creates the release, attaches the commits between two tags of a
real git repository, deploys to dev and staging, uploads test results, is
stopped by the production gate with its reasons, and gets through after
the people involved approve. Gates of the checklists and monitoring apps are
left out (``gates_only``): this journey is about pipelines and approvals.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from approvals.choices import ApprovalKind, Decision
from approvals.services import approval_decide, meeting_decide, meeting_schedule
from audit.models import AuditEvent
from projects.services import api_token_create
from releases.models import Commit, Deployment, Release, Ticket
from releases.models import TestRun as RecordedTestRun
from tests.cli.conftest import git
from tests.integrations.conftest import JUNIT_OK

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shipcheck(live_server, people, project, repo, monkeypatch):
    """``shipcheck(*args)`` runs the CLI in a subprocess, in the repository, with a fresh token."""
    _token, plain = api_token_create(
        project=project,
        name="github-actions",
        scopes=["read", "releases", "deployments", "test_results"],
        actor=people.adam,
    )
    env = {
        **os.environ,
        "SHIPCHECK_URL": live_server.url,
        "SHIPCHECK_TOKEN": plain,
        "SHIPCHECK_RETRIES": "0",
        "PYTHONPATH": str(Path(settings.BASE_DIR)),
    }
    env.pop("SHIPCHECK_RELEASE", None)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "shipcheck_cli", *args],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    return run


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)
    return result.stdout


def test_pipeline__from_tag_to_production_through_the_cli(
    shipcheck, repo, people, envs, gates_only, tmp_path
):
    gates_only("releases", "approvals")
    head = git(repo, "rev-parse", "v1.3.0").strip()

    out = ok(
        shipcheck(
            "release",
            "create",
            "--version",
            "v1.3.0",
            "--title",
            "Saved cards",
            "--rollback-plan",
            "Redeploy 1.2.0; the new column is nullable.",
            "--artifact",
            "registry.example.com/payments:1.3.0",
            "--commit",
            head,
        )
    )
    assert "Created release 1.3.0 (planned) in payments." in out
    # A re-run of the job finds the release instead of failing.
    assert "Found existing release 1.3.0" in ok(
        shipcheck("release", "create", "--version", "1.3.0")
    )
    release = Release.objects.get(version="1.3.0")
    assert (release.artifact_version, release.commit_sha, release.release_manager) == (
        "registry.example.com/payments:1.3.0",
        head,
        people.adam,
    )

    out = ok(shipcheck("release", "set-commits", "--from", "v1.2.0", "--to", "v1.3.0"))
    assert "Attached 3 new commit(s) from v1.2.0..v1.3.0 to v1.3.0" in out
    expected = git(repo, "log", "--format=%H", "v1.2.0..v1.3.0").split()
    assert set(Commit.objects.filter(release=release).values_list("sha", flat=True)) == set(
        expected
    )
    assert (
        Commit.objects.get(sha=expected[-1]).message
        == "Store card tokens\n\nPAY-142: keep only the token."
    )
    ok(shipcheck("release", "add-tickets", "--version", "1.3.0", "PAY-142", "PAY-150"))
    assert sorted(Ticket.objects.filter(release=release).values_list("key", flat=True)) == [
        "PAY-142",
        "PAY-150",
    ]

    for env in ("dev", "staging"):
        assert f"started in {env}" in ok(
            shipcheck("deploy", "start", "--env", env, "--version", "1.3.0")
        )
        assert f"succeeded in {env}" in ok(
            shipcheck("deploy", "finish", "--env", env, "--version", "1.3.0")
        )

    report = tmp_path / "junit.xml"
    report.write_text(JUNIT_OK)
    out = ok(
        shipcheck(
            "tests",
            "upload",
            str(report),
            "--version",
            "1.3.0",
            "--coverage",
            "87.5",
            "--env",
            "staging",
        )
    )
    assert "2 passed, 0 failed, 0 errors, 1 skipped" in out
    run = RecordedTestRun.objects.get(release=release)
    assert (run.total, run.skipped, run.coverage_percent, run.environment) == (
        3,
        1,
        87.5,
        envs["staging"],
    )

    # Production: the gate stops the pipeline and says why.
    gate = shipcheck("gate", "--env", "production", "--version", "1.3.0")
    assert gate.returncode == 1
    assert gate.stdout == ""
    assert "1.3.0 may not go to production now:" in gate.stderr
    for reason in (
        "QA sign-off for staging missing.",
        "Scope not approved by the product owner.",
        "0 of 2 production approvals",
        "Go/no-go not decided.",
    ):
        assert reason in gate.stderr
    blocked = shipcheck("deploy", "start", "--env", "production", "--version", "1.3.0")
    assert blocked.returncode == 1
    assert not Deployment.objects.filter(release=release, environment=envs["production"]).exists()

    # The people decide (tokens never can).
    approval_decide(
        release=release,
        kind=ApprovalKind.QA_SIGNOFF,
        decision=Decision.APPROVE,
        environment=envs["staging"],
        actor=people.quinn,
    )
    approval_decide(
        release=release, kind=ApprovalKind.SCOPE, decision=Decision.APPROVE, actor=people.pat
    )
    for approver in (people.ada, people.abe):
        approval_decide(
            release=release,
            kind=ApprovalKind.DEPLOYMENT,
            decision=Decision.APPROVE,
            environment=envs["production"],
            actor=approver,
        )
    meeting = meeting_schedule(
        release=release,
        environment=envs["production"],
        scheduled_for=timezone.now(),
        actor=people.alice,
    )
    meeting_decide(
        meeting=meeting,
        decision="go",
        reason="Tests green, approvals in, rollback rehearsed.",
        actor=people.alice,
    )

    out = ok(shipcheck("gate", "--env", "production", "--version", "1.3.0"))
    assert "1.3.0 may go to production: every gate is open." in out
    ok(shipcheck("deploy", "start", "--env", "production", "--version", "1.3.0", "--commit", head))
    ok(
        shipcheck(
            "deploy",
            "finish",
            "--env",
            "production",
            "--version",
            "1.3.0",
            "--reason",
            "Smoke tests passed.",
        )
    )

    production = Deployment.objects.get(release=release, environment=envs["production"])
    assert production.status == "succeeded"
    assert production.commit_sha == head
    assert production.deployed_by_label == "token:github-actions"
    token_actions = set(
        AuditEvent.objects.filter(release_id=release.pk, actor_kind="token").values_list(
            "action", flat=True
        )
    )
    assert {
        "release.created",
        "release.commits_added",
        "release.scope_changed",
        "deployment.started",
        "deployment.succeeded",
        "test_run.recorded",
    } <= token_actions
    assert not AuditEvent.objects.filter(
        actor_kind="token", action__startswith="approval."
    ).exists()


def test_pipeline__bad_report_and_unknown_environment__are_refused_with_exit_3(
    shipcheck, tmp_path, gates_only
):
    gates_only("releases")
    ok(shipcheck("release", "create", "--version", "2.0.0"))
    report = tmp_path / "evil.xml"
    report.write_text(
        '<?xml version="1.0"?><!DOCTYPE t [<!ENTITY a "aaaa">]><testsuite name="&a;"/>'
    )
    result = shipcheck("tests", "upload", str(report), "--version", "2.0.0")
    assert result.returncode == 3
    assert "declares a DTD or entities" in result.stderr
    result = shipcheck("deploy", "start", "--env", "qa-cluster", "--version", "2.0.0")
    assert result.returncode == 3
    assert "known environments: dev, staging, production" in result.stderr
    assert not Deployment.objects.exists()
    assert not RecordedTestRun.objects.exists()
