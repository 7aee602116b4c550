"""The shipcheck command without Shipcheck: usage, configuration, retries and exit codes
against a scripted local HTTP server."""

from __future__ import annotations

import json

import pytest

from shipcheck_cli.git import git_log, split_records
from shipcheck_cli.main import main
from tests.cli.conftest import git

RELEASE = {"id": 1, "project": "payments", "version": "1.3.0", "status": "planned"}
GATE_CLOSED = {
    "error": "gate_closed",
    "message": "1.3.0 may not enter Production: Not yet deployed successfully to Staging.",
    "details": {
        "environment": "production",
        "gates": [
            {
                "code": "order",
                "title": "Promotion order",
                "state": "closed",
                "reason": "Not yet deployed successfully to Staging.",
            },
            {
                "code": "rollback_plan",
                "title": "Rollback plan",
                "state": "open",
                "reason": "A rollback plan is written.",
            },
        ],
    },
}


@pytest.fixture
def configured(server, monkeypatch):
    monkeypatch.setenv("SHIPCHECK_URL", server.url)
    monkeypatch.setenv("SHIPCHECK_TOKEN", "shp_abcdef12_secret")
    monkeypatch.setenv("SHIPCHECK_RETRIES", "2")
    monkeypatch.delenv("SHIPCHECK_RELEASE", raising=False)
    monkeypatch.delenv("SHIPCHECK_PROJECT", raising=False)
    return server


def test_no_arguments__is_usage_error_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2
    assert "usage: shipcheck" in capsys.readouterr().err


def test_missing_url__is_configuration_error_2(monkeypatch, capsys):
    monkeypatch.delenv("SHIPCHECK_URL", raising=False)
    monkeypatch.setenv("SHIPCHECK_TOKEN", "shp_x")
    assert main(["gate", "--env", "production", "--version", "1.3.0"]) == 2
    assert "Set SHIPCHECK_URL" in capsys.readouterr().err


def test_missing_token__is_configuration_error_2(monkeypatch, capsys):
    monkeypatch.setenv("SHIPCHECK_URL", "http://127.0.0.1:9")
    monkeypatch.delenv("SHIPCHECK_TOKEN", raising=False)
    assert main(["whoami"]) == 2
    assert "Set SHIPCHECK_TOKEN" in capsys.readouterr().err


def test_missing_version__is_configuration_error_2(configured, capsys):
    assert main(["gate", "--env", "production"]) == 2
    assert "--version" in capsys.readouterr().err
    assert configured.requests == []


def test_version_from_environment_variable(configured, monkeypatch):
    monkeypatch.setenv("SHIPCHECK_RELEASE", "v1.3.0")
    configured.answer(200, {"release": "1.3.0", "environment": "dev", "open": True, "gates": []})
    assert main(["gate", "--env", "dev"]) == 0
    assert configured.requests[0]["path"] == "/api/v1/ci/releases/v1.3.0/gate/dev/"


def test_release_create__sends_token_and_idempotency_key(configured, capsys):
    configured.answer(201, RELEASE)
    assert (
        main(
            [
                "release",
                "create",
                "--version",
                "1.3.0",
                "--title",
                "Saved cards",
                "--artifact",
                "img:1.3.0",
            ]
        )
        == 0
    )
    request = configured.requests[0]
    assert request["method"] == "POST"
    assert request["path"] == "/api/v1/ci/releases/"
    assert request["headers"]["Authorization"] == "Bearer shp_abcdef12_secret"
    assert len(request["headers"]["Idempotency-Key"]) == 36
    assert json.loads(request["body"]) == {
        "version": "1.3.0",
        "title": "Saved cards",
        "artifact_version": "img:1.3.0",
    }
    assert "Created release 1.3.0" in capsys.readouterr().out


def test_retry_after_503__sends_the_same_idempotency_key(configured, capsys):
    configured.answer(
        503, {"error": "unavailable", "message": "busy", "details": {}}, **{"Retry-After": "0"}
    )
    configured.answer(201, RELEASE)
    assert main(["release", "create", "--version", "1.3.0"]) == 0
    keys = [r["headers"]["Idempotency-Key"] for r in configured.requests]
    assert len(keys) == 2 and keys[0] == keys[1]


def test_retry_while_first_attempt_is_in_progress__same_key(configured):
    configured.answer(
        409,
        {"error": "idempotency_in_progress", "message": "running", "details": {}},
        **{"Retry-After": "0"},
    )
    configured.answer(201, RELEASE)
    assert main(["release", "create", "--version", "1.3.0"]) == 0
    keys = {r["headers"]["Idempotency-Key"] for r in configured.requests}
    assert len(configured.requests) == 2 and len(keys) == 1


def test_refusal__is_exit_3_with_message_and_fields(configured, capsys):
    configured.answer(
        400,
        {
            "error": "invalid_version",
            "message": "'latest' is not a semantic version.",
            "details": {"version": ["Use MAJOR.MINOR.PATCH."]},
        },
    )
    assert main(["release", "create", "--version", "latest"]) == 3
    err = capsys.readouterr().err
    assert "'latest' is not a semantic version. (HTTP 400, invalid_version)" in err
    assert "version: Use MAJOR.MINOR.PATCH." in err


def test_gate_closed__is_exit_1_with_reasons_on_stderr(configured, capsys):
    configured.answer(409, GATE_CLOSED)
    assert main(["gate", "--env", "production", "--version", "1.3.0"]) == 1
    captured = capsys.readouterr()
    assert "1.3.0 may not go to production now:" in captured.err
    assert "Promotion order: Not yet deployed successfully to Staging." in captured.err
    assert "Rollback plan" not in captured.err
    assert captured.out == ""


def test_gate_open__is_exit_0(configured, capsys):
    configured.answer(
        200,
        {
            "release": "1.3.0",
            "environment": "production",
            "open": True,
            "gates": [
                {
                    "code": "order",
                    "title": "Promotion order",
                    "state": "open",
                    "reason": "Deployed to Staging first.",
                }
            ],
        },
    )
    assert main(["gate", "--env", "production", "--version", "1.3.0"]) == 0
    assert "every gate is open" in capsys.readouterr().out


def test_gate__json_option_after_the_command(configured, capsys):
    configured.answer(200, {"release": "1.3.0", "environment": "dev", "open": True, "gates": []})
    assert main(["gate", "--env", "dev", "--version", "1.3.0", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["open"] is True


def test_deploy_start_refused_by_a_gate__is_exit_1(configured, capsys):
    configured.answer(409, GATE_CLOSED)
    assert main(["deploy", "start", "--env", "production", "--version", "1.3.0"]) == 1
    assert "Promotion order" in capsys.readouterr().err


def test_server_error__is_exit_4(configured, capsys):
    configured.answer(500, {"error": "server_error", "message": "oops", "details": {}})
    assert main(["whoami"]) == 4
    assert "HTTP 500" in capsys.readouterr().err


def test_not_shipcheck__html_answer__is_exit_4(configured, capsys):
    configured.answer(200, "<html>a login page</html>")
    assert main(["whoami"]) == 4
    assert "is SHIPCHECK_URL the address of Shipcheck?" in capsys.readouterr().err


def test_unreachable__is_exit_4(monkeypatch, capsys):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("SHIPCHECK_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("SHIPCHECK_TOKEN", "shp_x")
    monkeypatch.setenv("SHIPCHECK_RETRIES", "0")
    assert main(["whoami"]) == 4
    assert "Could not reach Shipcheck" in capsys.readouterr().err


def test_tests_upload__coverage_out_of_range__is_2_before_any_request(configured, tmp_path, capsys):
    report = tmp_path / "report.xml"
    report.write_text("<testsuite/>")
    assert main(["tests", "upload", str(report), "--version", "1.3.0", "--coverage", "140"]) == 2
    assert configured.requests == []


def test_tests_upload__missing_file__is_2(configured, tmp_path, capsys):
    assert main(["tests", "upload", str(tmp_path / "nope.xml"), "--version", "1.3.0"]) == 2
    assert "Cannot read the report" in capsys.readouterr().err


def test_set_commits__unknown_tag__is_git_error_5(configured, repo, capsys):
    assert (
        main(["release", "set-commits", "--repo", str(repo), "--from", "v0.9.0", "--to", "v1.3.0"])
        == 5
    )
    assert "'v0.9.0' is not a tag, branch or commit" in capsys.readouterr().err
    assert configured.requests == []


def test_set_commits__version_defaults_to_the_to_tag(configured, repo, capsys):
    configured.answer(200, {"added": 3, "total": 3})
    assert (
        main(["release", "set-commits", "--repo", str(repo), "--from", "v1.2.0", "--to", "v1.3.0"])
        == 0
    )
    request = configured.requests[0]
    assert request["path"] == "/api/v1/ci/releases/v1.3.0/commits/"
    log = json.loads(request["body"])["git_log"]
    assert log.count("\x1e") == 3
    assert "Store card tokens\n\nPAY-142: keep only the token." in log
    assert "Initial payments service" not in log


def test_git_log__matches_the_servers_format(repo):
    from integrations.gitlog import gitlog_parse

    commits = gitlog_parse(git_log(repo=str(repo), from_ref="v1.2.0", to_ref="v1.3.0"))
    assert [c["message"].splitlines()[0] for c in commits] == [
        "Fix rounding in refunds",
        "Card expiry reminder (PAY-150)",
        "Store card tokens",
    ]
    assert commits[0]["author"] == "Eli Engineer <eli@example.com>"
    assert commits[0]["sha"] == git(repo, "rev-parse", "v1.3.0").strip()


def test_split_records__keeps_every_commit_in_bounded_chunks():
    text = "".join(f"\x1e{i:040x}\x1fa\x1f2026-01-01T00:00:00Z\x1fm{i}\n" for i in range(7))
    chunks = split_records(text, 3)
    assert [c.count("\x1e") for c in chunks] == [3, 3, 1]
    assert "".join(chunks) == text
