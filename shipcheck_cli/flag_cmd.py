"""``shipcheck flag …``: feature flags and their rollout plans, for CI (docs/flags.md).

Talks to Shipcheck's API only (``/api/v1/flags/…``); imports no server code.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable
from urllib.parse import quote

from shipcheck_cli.client import CliError

PLAN_ACTIONS = {
    "start": "Start a rollout plan (applies its first step).",
    "advance": "Move a plan to its next step now.",
    "pause": "Pause a plan (the percentage stays).",
    "resume": "Resume a paused plan.",
    "skip": "Skip a plan's next step.",
    "abort": "Abort a plan: the flag goes back to 0 %.",
    "complete": "Complete a plan: 100 %.",
}
_HOLD = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd]?)$")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def add_parsers(commands, common: argparse.ArgumentParser, parser_class) -> None:
    flag = commands.add_parser("flag", help="Feature flags and their gradual rollouts.")
    sub = flag.add_subparsers(
        dest="subcommand", metavar="SUBCOMMAND", required=True, parser_class=parser_class
    )
    listing = sub.add_parser("list", parents=[common], help="The flags of an environment.")
    listing.add_argument("--environment", required=True)
    setter = sub.add_parser("set", parents=[common], help="Change a flag's rollout or switch.")
    setter.add_argument("key")
    setter.add_argument("--environment", required=True)
    setter.add_argument("--rollout", type=int, help="Percentage from 0 to 100.")
    switch = setter.add_mutually_exclusive_group()
    switch.add_argument("--on", dest="enabled", action="store_true", default=None)
    switch.add_argument("--off", dest="enabled", action="store_false")
    setter.add_argument("--reason", default="")
    plan = sub.add_parser("plan", parents=[common], help="Plan a flag's rollout on a release.")
    plan.add_argument("release_id", type=int)
    plan.add_argument("--environment", required=True)
    plan.add_argument("--flag", required=True)
    plan.add_argument("--source", choices=("shipcheck", "unleash"), default="shipcheck")
    plan.add_argument("--steps", default="10,25,50,100", help="Rising percentages.")
    plan.add_argument("--hold", default="7d", help="Each step's hold time: 90s, 30m, 6h, 7d.")
    plan.add_argument("--manual", action="store_true", help="Wait for a person after each step.")
    status = sub.add_parser("plan-status", parents=[common], help="A plan's state and steps.")
    status.add_argument("plan_id", type=int)
    for action, text in PLAN_ACTIONS.items():
        command = sub.add_parser(action, parents=[common], help=text)
        command.add_argument("plan_id", type=int)
        command.add_argument("--reason", default="")


def _project(args) -> str:
    if not args.project:
        raise CliError("Name the project with --project or SHIPCHECK_PROJECT.")
    return quote(args.project, safe="")


def _flags_path(args) -> str:
    return f"flags/projects/{_project(args)}/environments/{quote(args.environment, safe='')}/flags/"


def _out(args, body: dict, summary: str) -> None:
    print(json.dumps(body, indent=2, sort_keys=True) if args.json else summary)


def _plan_summary(plan: dict) -> str:
    bar = " → ".join(
        f"{s['percent']}%" + ("*" if s["position"] == plan.get("current_step") else "")
        for s in plan["steps"]
    )
    return (
        f"plan {plan['id']}: {plan['flag']} in {plan['environment']} · {plan['status']} at "
        f"{plan['current_percent']} % · {bar}\n{plan['reason']}"
    )


def cmd_list(client, args) -> int:
    body = client.get(_flags_path(args))
    lines = [
        f"{f['key']}: {'on' if f['enabled'] else 'off'} at {f['rollout']} %"
        for f in body.get("results", [])
    ]
    _out(args, body, "\n".join(lines) or "No flags.")
    return 0


def cmd_set(client, args) -> int:
    changes: dict = {"reason": args.reason}
    if args.rollout is not None:
        changes["rollout"] = args.rollout
    if args.enabled is not None:
        changes["enabled"] = args.enabled
    body = client.patch(_flags_path(args) + f"{quote(args.key, safe='')}/", changes)
    _out(args, body, f"{body['key']}: {'on' if body['enabled'] else 'off'} at {body['rollout']} %")
    return 0


def _hold_seconds(text: str) -> float:
    match = _HOLD.match(text.strip().lower())
    if not match:
        raise CliError(f"'{text}' is not a hold time: write 90s, 30m, 6h or 7d.")
    return float(match.group(1)) * _UNIT[match.group(2)]


def cmd_plan(client, args) -> int:
    hold = _hold_seconds(args.hold)
    try:
        percents = [int(p) for p in args.steps.replace(" ", "").split(",") if p]
    except ValueError:
        raise CliError(f"'{args.steps}' is not a list of percentages like 10,25,50,100.") from None
    _status, body = client.post(
        f"flags/releases/{args.release_id}/plans/",
        {
            "environment": args.environment,
            "flag": args.flag,
            "flag_source": args.source,
            "steps": [{"percent": p, "hold_seconds": hold} for p in percents],
            "auto_advance": not args.manual,
        },
    )
    _out(args, body, _plan_summary(body))
    return 0


def cmd_plan_status(client, args) -> int:
    body = client.get(f"flags/plans/{args.plan_id}/")
    _out(args, body, _plan_summary(body))
    return 0


def _action(action: str) -> Callable:
    def run(client, args) -> int:
        _status, body = client.post(
            f"flags/plans/{args.plan_id}/{action}/", {"reason": args.reason}
        )
        _out(args, body, _plan_summary(body))
        return 0

    return run


COMMANDS: dict[tuple[str, str | None], Callable] = {
    ("flag", "list"): cmd_list,
    ("flag", "set"): cmd_set,
    ("flag", "plan"): cmd_plan,
    ("flag", "plan-status"): cmd_plan_status,
    **{("flag", action): _action(action) for action in PLAN_ACTIONS},
}
