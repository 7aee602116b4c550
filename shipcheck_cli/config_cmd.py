"""``shipcheck config export | plan | apply``: a project's configuration as a file (shipcheck.yml).

The CLI never parses YAML: it sends the file's text as it is, and Shipcheck
parses it, checks it against the schema and answers with every problem and
its line. The only thing read from the file here is the names of the
environment variables it points secrets to (``secret_env: NAME``); their
values are read from this machine's environment and sent in the request
body, never written anywhere.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from shipcheck_cli.client import ApiError, Client, CliError

EXIT_OK = 0
EXIT_REFUSED = 3

_SECRET_ENV = re.compile(r"""secret_env["']?\s*:\s*["']?([A-Za-z_][A-Za-z0-9_]*)""")
PLAN_FORMAT = "shipcheck-plan/1"


def add_parsers(commands, common: argparse.ArgumentParser, parser_class) -> None:
    config = commands.add_parser(
        "config", help="Export, plan and apply a project's configuration (shipcheck.yml)."
    )
    sub = config.add_subparsers(
        dest="subcommand", metavar="SUBCOMMAND", required=True, parser_class=parser_class
    )
    export = sub.add_parser(
        "export", parents=[common], help="Write the project's whole configuration as YAML."
    )
    export.add_argument(
        "-o", "--output", type=Path, help="Write to this file instead of standard output."
    )
    for name, text in (
        ("plan", "Show what applying the file would change (changes nothing)."),
        ("apply", "Apply the file in one transaction (idempotent)."),
    ):
        command = sub.add_parser(name, parents=[common], help=text)
        command.add_argument(
            "-f",
            "--file",
            type=Path,
            default=Path("shipcheck.yml"),
            help="The configuration file ('-' for standard input; default: shipcheck.yml).",
        )
        if name == "plan":
            command.add_argument(
                "--out",
                type=Path,
                help="Save the plan (the server's fingerprint and the file's hash) for "
                "'apply --plan'.",
            )
        else:
            command.add_argument(
                "--expect",
                metavar="FINGERPRINT",
                help="Refuse unless the server is still in the state a plan saw.",
            )
            command.add_argument(
                "--plan",
                dest="plan_file",
                type=Path,
                help="Apply what a saved plan ('plan --out') showed: refused if the file or the "
                "server changed since.",
            )


def _read(path: Path) -> str:
    try:
        if str(path) == "-":
            return sys.stdin.read()
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    except UnicodeDecodeError:
        raise CliError(f"{path} is not UTF-8 text.") from None


def secret_values(text: str) -> dict[str, str]:
    """The values of the environment variables the file names, those that are set here."""
    names = dict.fromkeys(_SECRET_ENV.findall(text))
    return {name: os.environ[name] for name in names if os.environ.get(name)}


def _project(client: Client, args) -> str:
    if args.project:
        return args.project
    project = client.get("ci/whoami/").get("project")
    if not project:
        raise CliError("Name the project: --project SLUG (or set SHIPCHECK_PROJECT).")
    return project


def _path(project: str, tail: str = "") -> str:
    return f"projects/{quote(project, safe='')}/config/{tail}"


def _shown(value) -> str:
    if isinstance(value, dict | list):
        text = json.dumps(value, sort_keys=False, ensure_ascii=False)
        return text if len(text) <= 200 else text[:197] + "..."
    return json.dumps(value, ensure_ascii=False)


def format_changes(changes: list[dict]) -> list[str]:
    lines = []
    for change in changes:
        op, path = change.get("op"), change.get("path")
        if op == "add":
            lines.append(f"  + {path}: {_shown(change.get('new'))}")
        elif op == "remove":
            lines.append(f"  - {path}: {_shown(change.get('old'))}")
        else:
            lines.append(f"  ~ {path}: {_shown(change.get('old'))} → {_shown(change.get('new'))}")
    return lines


def _problems(exc: ApiError, filename: str) -> int:
    print(f"shipcheck: {exc.message.split(' First: ')[0]}", file=sys.stderr)
    for error in exc.details.get("errors") or []:
        where = f"{filename}:{error.get('line') or '?'}:{error.get('column') or '?'}"
        print(f"{where}: {error.get('message')} [{error.get('path') or '-'}]", file=sys.stderr)
    return EXIT_REFUSED


def cmd_config_export(client: Client, args) -> int:
    project = _project(client, args)
    body = client.get(_path(project))
    if args.json:
        print(json.dumps(body, indent=2, sort_keys=True))
        return EXIT_OK
    if args.output:
        try:
            args.output.write_text(body["yaml"], encoding="utf-8")
        except OSError as exc:
            raise CliError(f"Cannot write {args.output}: {exc.strerror or exc}.") from None
        print(f"Wrote the configuration of {project} to {args.output}.", file=sys.stderr)
    else:
        sys.stdout.write(body["yaml"])
    return EXIT_OK


def _send(client: Client, args, tail: str, extra: dict) -> tuple[str, dict] | int:
    text = _read(args.file)
    project = _project(client, args)
    body = {"yaml": text, "secrets": secret_values(text), **extra}
    try:
        _status, answer = client.post(_path(project, tail), body)
    except ApiError as exc:
        if exc.code == "config_invalid":
            return _problems(exc, str(args.file))
        raise
    return project, answer


def cmd_config_plan(client: Client, args) -> int:
    sent = _send(client, args, "plan/", {})
    if isinstance(sent, int):
        return sent
    project, answer = sent
    if args.json:
        print(json.dumps(answer, indent=2, sort_keys=True))
    elif answer["changes"]:
        count = len(answer["changes"])
        print(f"Applying {args.file} to {project} would make {count} change(s):")
        print("\n".join(format_changes(answer["changes"])))
    else:
        print(f"No changes: {project} already is what {args.file} describes.")
    if args.out:
        saved = {
            "format": PLAN_FORMAT,
            "project": project,
            "file": str(args.file),
            "sha256": answer["sha256"],
            "fingerprint": answer["fingerprint"],
            "changes": answer["changes"],
        }
        try:
            args.out.write_text(json.dumps(saved, indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            raise CliError(f"Cannot write {args.out}: {exc.strerror or exc}.") from None
        if not args.json:
            print(
                f"Saved the plan to {args.out}; apply it with: shipcheck config apply --plan {args.out}"
            )
    elif not args.json:
        print(
            f"Server state: {answer['fingerprint']} (apply --expect it to refuse a changed server)."
        )
    return EXIT_OK


def _saved_plan(args) -> dict:
    try:
        saved = json.loads(args.plan_file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CliError(f"Cannot read the plan {args.plan_file}: {exc.strerror or exc}.") from None
    except ValueError:
        raise CliError(
            f"{args.plan_file} is not a plan saved by 'shipcheck config plan --out'."
        ) from None
    if not isinstance(saved, dict) or saved.get("format") != PLAN_FORMAT:
        raise CliError(f"{args.plan_file} is not a plan saved by 'shipcheck config plan --out'.")
    return saved


def cmd_config_apply(client: Client, args) -> int:
    expect = args.expect
    if args.plan_file:
        saved = _saved_plan(args)
        if str(args.file) == "shipcheck.yml" and saved.get("file"):
            args.file = Path(saved["file"])
        text = _read(args.file)
        if hashlib.sha256(text.encode("utf-8")).hexdigest() != saved.get("sha256"):
            raise CliError(
                f"{args.file} changed since the plan {args.plan_file} was made: run "
                "'shipcheck config plan' again.",
                exit_code=EXIT_REFUSED,
            )
        if args.project and args.project != saved.get("project"):
            raise CliError(
                f"The plan is for the project {saved.get('project')}, not {args.project}."
            )
        args.project = saved.get("project")
        expect = saved.get("fingerprint")
    try:
        sent = _send(client, args, "apply/", {"expect": expect} if expect else {})
    except ApiError as exc:
        if exc.code == "stale_plan":
            print(f"shipcheck: {exc.message}", file=sys.stderr)
            return EXIT_REFUSED
        raise
    if isinstance(sent, int):
        return sent
    project, answer = sent
    if args.json:
        print(json.dumps(answer, indent=2, sort_keys=True))
    elif answer["changes"]:
        print(f"Applied {args.file} to {project}: {len(answer['changes'])} change(s).")
        print("\n".join(format_changes(answer["changes"])))
    else:
        print(f"No changes: {project} already is what {args.file} describes.")
    return EXIT_OK


# A subcommand's handler: the client and the parsed arguments in, the exit status out.
Command = Callable[[Client, argparse.Namespace], int]

COMMANDS: dict[tuple[str, str | None], Command] = {
    ("config", "export"): cmd_config_export,
    ("config", "plan"): cmd_config_plan,
    ("config", "apply"): cmd_config_apply,
}
