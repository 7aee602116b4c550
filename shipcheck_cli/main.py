"""``shipcheck``: report releases, commits, deployments and test results from CI, and ask the gate.

Configured by environment variables (or the matching options):

    SHIPCHECK_URL      where Shipcheck runs, e.g. https://shipcheck.example.com
    SHIPCHECK_TOKEN    a project API token (shp_...)
    SHIPCHECK_RELEASE  the release version, when --version is not given
    SHIPCHECK_TIMEOUT  seconds to wait for each answer (30)
    SHIPCHECK_RETRIES  retries after network errors, 429 and 502-504 (3)

Exit codes: 0 done; 1 a gate is closed (``gate``, ``deploy start``);
2 usage or configuration error; 3 Shipcheck refused the request;
4 Shipcheck could not be reached or failed; 5 git failed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from shipcheck_cli import __version__, config_cmd, flag_cmd
from shipcheck_cli.client import ApiError, Client, CliError
from shipcheck_cli.git import git_log, split_records

EXIT_OK = 0
EXIT_GATE_CLOSED = 1
EXIT_USAGE = 2

# Keeps each request body far below the server's size limit, whatever the commit messages.
COMMITS_PER_REQUEST = 500
_VERSION_LIKE = re.compile(r"^v?\d+\.\d+\.\d+")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own exit code for usage errors is 2 as well
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"shipcheck: error: {message}\n")


def _common_options() -> _Parser:
    """--json and --project also after the subcommand ("shipcheck gate --env x --json")."""
    common = _Parser(add_help=False)
    common.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="Print Shipcheck's JSON answer instead of a summary.",
    )
    common.add_argument(
        "--project", default=argparse.SUPPRESS, help="Project slug (a token implies it)."
    )
    return common


def _add_version(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--version",
        dest="release_version",
        metavar="VERSION",
        help="The release's version (default: $SHIPCHECK_RELEASE).",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="shipcheck",
        description="Tell Shipcheck about releases, commits, deployments and test results, "
        "and ask whether a release may be deployed.",
        epilog="Exit codes: 0 done, 1 gate closed, 2 usage/configuration, 3 refused by Shipcheck, "
        "4 Shipcheck unreachable or failing, 5 git failed.",
    )
    parser.add_argument(
        "--url", default=None, help="Shipcheck's address (default: $SHIPCHECK_URL)."
    )
    parser.add_argument(
        "--token", default=None, help="API token (default: $SHIPCHECK_TOKEN; prefer the variable)."
    )
    parser.add_argument(
        "--project",
        default=None,
        help="Project slug (default: $SHIPCHECK_PROJECT; a token implies its project).",
    )
    parser.add_argument(
        "--json", action="store_true", help="Print Shipcheck's JSON answer instead of a summary."
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="Seconds to wait for each answer (default: $SHIPCHECK_TIMEOUT or 30).",
    )
    parser.add_argument("--cli-version", action="version", version=f"shipcheck {__version__}")
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=_Parser
    )
    common = _common_options()

    commands.add_parser(
        "whoami",
        parents=[common],
        help="Check the URL and token: show the token's project and scopes.",
    )

    release = commands.add_parser("release", help="Create a release, attach commits and tickets.")
    release_commands = release.add_subparsers(
        dest="subcommand", metavar="SUBCOMMAND", required=True, parser_class=_Parser
    )
    create = release_commands.add_parser(
        "create", parents=[common], help="Create the release (or find the existing one)."
    )
    _add_version(create)
    create.add_argument("--title", help='Default: "Release <version>".')
    create.add_argument("--type", choices=["major", "minor", "patch", "hotfix", "security", "beta"])
    create.add_argument("--notes", help="Release notes (Markdown).")
    create.add_argument("--notes-file", type=Path, help="Read the release notes from this file.")
    create.add_argument("--rollback-plan", help="How to undo the release (Markdown).")
    create.add_argument(
        "--rollback-plan-file", type=Path, help="Read the rollback plan from this file."
    )
    create.add_argument(
        "--release-manager", help="Username (default: the person who created the token)."
    )
    create.add_argument(
        "--artifact", dest="artifact_version", help="Artifact version, e.g. an image tag."
    )
    create.add_argument(
        "--commit", dest="commit_sha", help="The commit the artifact was built from."
    )

    commits = release_commands.add_parser(
        "set-commits",
        parents=[common],
        help="Attach the commits between two tags, read from the local git repository.",
    )
    _add_version(commits)
    commits.add_argument(
        "--from", dest="from_ref", help="The previous release's tag (omit for the first release)."
    )
    commits.add_argument(
        "--to", dest="to_ref", default="HEAD", help="This release's tag (default: HEAD)."
    )
    commits.add_argument(
        "--repo", default=".", help="Path of the git repository (default: the current directory)."
    )

    tickets = release_commands.add_parser(
        "add-tickets", parents=[common], help="Add tickets to the release's scope by key."
    )
    _add_version(tickets)
    tickets.add_argument("keys", nargs="+", metavar="KEY", help="Ticket keys, e.g. PAY-142.")

    deploy = commands.add_parser("deploy", help="Report a deployment started, finished or failed.")
    deploy_commands = deploy.add_subparsers(
        dest="subcommand", metavar="SUBCOMMAND", required=True, parser_class=_Parser
    )
    for name, text in (
        ("start", "A deployment starts (refused with exit 1 while a gate is closed)."),
        ("finish", "The running deployment succeeded."),
        ("fail", "The running deployment failed."),
    ):
        sub = deploy_commands.add_parser(name, parents=[common], help=text)
        _add_version(sub)
        sub.add_argument("--env", required=True, help="Environment name, e.g. staging.")
        sub.add_argument(
            "--artifact", dest="artifact_version", help="Artifact version being deployed."
        )
        sub.add_argument("--commit", dest="commit_sha", help="Commit being deployed.")
        if name == "start":
            sub.add_argument("--strategy", choices=["all_at_once", "canary"])
            sub.add_argument("--notes", help="Notes about this deployment.")
        else:
            sub.add_argument(
                "--reason", dest="reason", help="What happened (kept in the audit trail)."
            )

    tests = commands.add_parser("tests", help="Upload test results.")
    tests_commands = tests.add_subparsers(
        dest="subcommand", metavar="SUBCOMMAND", required=True, parser_class=_Parser
    )
    upload = tests_commands.add_parser(
        "upload", parents=[common], help="Upload a JUnit XML report (and coverage)."
    )
    _add_version(upload)
    upload.add_argument("report", type=Path, help="The JUnit XML file.")
    upload.add_argument("--coverage", type=float, help="Coverage percentage, 0 to 100.")
    upload.add_argument("--name", help="Name of the test run (default: the report's suite name).")
    upload.add_argument("--env", help="Environment the tests ran against, if any.")

    gate = commands.add_parser(
        "gate",
        parents=[common],
        help="May the release go to this environment now? Exit 0 yes, 1 no.",
    )
    _add_version(gate)
    gate.add_argument("--env", required=True, help="Environment name, e.g. production.")
    config_cmd.add_parsers(commands, common, _Parser)
    flag_cmd.add_parsers(commands, common, _Parser)
    return parser


# --- Commands ------------------------------------------------------------------------


def _release_path(version: str, tail: str = "") -> str:
    from urllib.parse import quote

    return f"ci/releases/{quote(version, safe='')}/{tail}"


def _with_project(args, body: dict) -> dict:
    if args.project:
        body["project"] = args.project
    return body


def _read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise CliError(f"Cannot read the {what} {path}: {exc.strerror or exc}.") from None


def _out(args, body: dict, summary: str) -> None:
    print(json.dumps(body, indent=2, sort_keys=True) if args.json else summary)


def cmd_whoami(client: Client, args) -> int:
    body = client.get("ci/whoami/")
    scopes = ", ".join(body.get("scopes") or []) or "none"
    _out(
        args,
        body,
        f"{body['kind']} {body['name']} · project {body.get('project') or '-'} · scopes: {scopes}",
    )
    return EXIT_OK


def cmd_release_create(client: Client, args) -> int:
    body = _with_project(args, {"version": args.release_version})
    for name in (
        "title",
        "type",
        "release_manager",
        "artifact_version",
        "commit_sha",
        "notes",
        "rollback_plan",
    ):
        value = getattr(args, name, None)
        if value is not None:
            body[name] = value
    if args.notes_file:
        body["notes"] = _read_text(args.notes_file, "notes file")
    if args.rollback_plan_file:
        body["rollback_plan"] = _read_text(args.rollback_plan_file, "rollback plan file")
    status, answer = client.post("ci/releases/", body)
    verb = "Created" if status == 201 else "Found existing"
    _out(
        args,
        answer,
        f"{verb} release {answer['version']} ({answer['status']}) in {answer['project']}.",
    )
    return EXIT_OK


def cmd_release_set_commits(client: Client, args) -> int:
    output = git_log(repo=args.repo, to_ref=args.to_ref, from_ref=args.from_ref)
    chunks = split_records(output, COMMITS_PER_REQUEST) or [""]
    added = total = 0
    answer: dict = {}
    for chunk in chunks:
        _status, answer = client.post(
            _release_path(args.release_version, "commits/"), _with_project(args, {"git_log": chunk})
        )
        added += answer["added"]
        total = answer["total"]
    span = f"{args.from_ref}..{args.to_ref}" if args.from_ref else args.to_ref
    _out(
        args,
        {"added": added, "total": total},
        f"Attached {added} new commit(s) from {span} to {args.release_version}; it now has {total}.",
    )
    return EXIT_OK


def cmd_release_add_tickets(client: Client, args) -> int:
    tickets = [{"key": key} for key in dict.fromkeys(args.keys)]
    _status, answer = client.post(
        _release_path(args.release_version, "tickets/"), _with_project(args, {"tickets": tickets})
    )
    keys = ", ".join(t["key"] for t in answer["tickets"])
    _out(args, answer, f"Tickets in the scope of {args.release_version}: {keys}.")
    return EXIT_OK


def _print_closed_gates(body: dict, version: str, environment: str) -> None:
    gates = (body.get("details") or {}).get("gates") or []
    closed = [g for g in gates if g.get("state") == "closed"]
    print(f"{version} may not go to {environment} now:", file=sys.stderr)
    if not closed:
        print(f"  {body.get('message', '')}", file=sys.stderr)
    for item in closed:
        print(f"  ✗ {item.get('title')}: {item.get('reason')}", file=sys.stderr)
        # A gate closed for a time (a freeze, a deploy window) says when it opens next.
        if item.get("next_opening"):
            print(f"    next opening: {item['next_opening']}", file=sys.stderr)


def cmd_deploy(client: Client, args) -> int:
    outcome = {"start": "started", "finish": "succeeded", "fail": "failed"}[args.subcommand]
    body = _with_project(args, {"environment": args.env, "status": outcome})
    for name in ("artifact_version", "commit_sha", "strategy", "notes", "reason"):
        value = getattr(args, name, None)
        if value:
            body[name] = value
    try:
        _status, answer = client.post(_release_path(args.release_version, "deployments/"), body)
    except ApiError as exc:
        if exc.code == "gate_closed":
            if args.json:
                print(json.dumps(exc.body, indent=2, sort_keys=True))
            _print_closed_gates(exc.body, args.release_version, args.env)
            return EXIT_GATE_CLOSED
        raise
    words = {"started": "started in", "succeeded": "succeeded in", "failed": "failed in"}
    _out(
        args,
        answer,
        f"Deployment #{answer['id']} of {args.release_version} {words[outcome]} {args.env}.",
    )
    return EXIT_OK


def cmd_tests_upload(client: Client, args) -> int:
    if args.coverage is not None and not (
        math.isfinite(args.coverage) and 0 <= args.coverage <= 100
    ):
        raise CliError("--coverage is a percentage between 0 and 100.")
    body = _with_project(args, {"junit_xml": _read_text(args.report, "report")})
    if args.coverage is not None:
        body["coverage_percent"] = args.coverage
    if args.name:
        body["name"] = args.name
    if args.env:
        body["environment"] = args.env
    _status, answer = client.post(_release_path(args.release_version, "test-runs/"), body)
    summary = (
        f"Test run '{answer['name']}' for {args.release_version}: {answer['passed']} passed, "
        f"{answer['failures']} failed, {answer['errors']} errors, {answer['skipped']} skipped "
        f"in {answer['duration_seconds']} s"
    )
    if answer.get("coverage_percent") is not None:
        summary += f"; coverage {answer['coverage_percent']} %"
    for name in answer.get("failing_tests") or []:
        summary += f"\n  ✗ {name}"
    _out(args, answer, summary + ("" if answer.get("failing_tests") else "."))
    return EXIT_OK


def cmd_gate(client: Client, args) -> int:
    params = {"project": args.project} if args.project else None
    try:
        answer = client.get(_release_path(args.release_version, f"gate/{args.env}/"), params=params)
    except ApiError as exc:
        if exc.code == "gate_closed":
            if args.json:
                print(json.dumps(exc.body, indent=2, sort_keys=True))
            _print_closed_gates(exc.body, args.release_version, args.env)
            return EXIT_GATE_CLOSED
        raise
    lines = [f"{args.release_version} may go to {args.env}: every gate is open."]
    for item in answer.get("gates") or []:
        mark = "~" if item.get("state") == "waived" else "✓"
        lines.append(f"  {mark} {item.get('title')}: {item.get('reason')}")
    _out(args, answer, "\n".join(lines))
    return EXIT_OK


COMMANDS: dict[tuple[str, str | None], config_cmd.Command] = {
    ("whoami", None): cmd_whoami,
    ("release", "create"): cmd_release_create,
    ("release", "set-commits"): cmd_release_set_commits,
    ("release", "add-tickets"): cmd_release_add_tickets,
    ("deploy", "start"): cmd_deploy,
    ("deploy", "finish"): cmd_deploy,
    ("deploy", "fail"): cmd_deploy,
    ("tests", "upload"): cmd_tests_upload,
    ("gate", None): cmd_gate,
    **config_cmd.COMMANDS,
    **flag_cmd.COMMANDS,
}


def _setting(value: str | None, variable: str) -> str:
    return (value if value is not None else os.environ.get(variable, "")).strip()


def _resolve_version(args) -> None:
    if not hasattr(args, "release_version"):
        return
    version = _setting(args.release_version, "SHIPCHECK_RELEASE")
    if (
        not version
        and getattr(args, "subcommand", None) == "set-commits"
        and _VERSION_LIKE.match(args.to_ref)
    ):
        version = args.to_ref  # "--to v1.3.0" names the release too
    if not version:
        raise CliError("Name the release: --version 1.3.0 (or set SHIPCHECK_RELEASE).")
    args.release_version = version


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        url = _setting(args.url, "SHIPCHECK_URL")
        token = _setting(args.token, "SHIPCHECK_TOKEN")
        args.project = _setting(args.project, "SHIPCHECK_PROJECT") or None
        if not url.startswith(("http://", "https://")):
            raise CliError(
                "Set SHIPCHECK_URL to Shipcheck's address, e.g. https://shipcheck.example.com."
            )
        if not token:
            raise CliError(
                "Set SHIPCHECK_TOKEN to a project API token (a project admin creates one in Shipcheck)."
            )
        try:
            timeout = (
                args.timeout
                if args.timeout is not None
                else float(os.environ.get("SHIPCHECK_TIMEOUT", "30"))
            )
        except ValueError:
            raise CliError("SHIPCHECK_TIMEOUT must be a number of seconds.") from None
        _resolve_version(args)
        handler = COMMANDS[(args.command, getattr(args, "subcommand", None))]
        try:
            retries = int(os.environ.get("SHIPCHECK_RETRIES", "3"))
        except ValueError:
            raise CliError("SHIPCHECK_RETRIES must be a whole number.") from None
        client = Client(url=url, token=token, timeout=timeout, retries=retries)
        try:
            return handler(client, args)
        finally:
            client.close()
    except ApiError as exc:
        print(
            f"shipcheck: {exc.message} (HTTP {exc.status}, {exc.code or 'error'})", file=sys.stderr
        )
        for name, problems in exc.details.items():
            if isinstance(problems, list):
                print(f"  {name}: {' '.join(str(p) for p in problems)}", file=sys.stderr)
        return exc.exit_code
    except CliError as exc:
        print(f"shipcheck: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
