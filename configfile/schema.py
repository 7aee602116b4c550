"""The JSON Schema of ``shipcheck.yml``, built from the product's own choices.

Served at ``GET /api/v1/config/schema.json`` and committed as
``docs/shipcheck.schema.json`` (a test keeps the two equal; regenerate the
file with ``manage.py config_schema --write``). Editors that speak the YAML
language server read it from the comment line at the top of an export.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from approvals.choices import MAX_REQUIRED_APPROVALS
from approvals.services import MAX_VALID_HOURS
from monitoring import fetch
from monitoring.choices import Direction, HttpMethod, MetricProvider
from monitoring.services.config import LIMIT_MAX, MAX_HEADERS
from projects.choices import Role, Tier
from releases.choices import ReleaseType

FORMAT_VERSION = 1
# Environment names are slugs (projects.Environment.name: SlugField, 40 characters).
ENVIRONMENT_NAME = r"^[-a-zA-Z0-9_]{1,40}$"
# What a shell accepts as a variable name.
VARIABLE_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"
# accounts.GroupRoleMapping.group: 150 characters.
GROUP_MAX = 150


def _obj(properties: dict[str, Any], *, required: tuple[str, ...] = (), **extra) -> dict:
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
        **({"required": list(required)} if required else {}),
        **extra,
    }


def _text(max_length: int, description: str = "", **extra) -> dict:
    return {
        "type": "string",
        "maxLength": max_length,
        **({"description": description} if description else {}),
        **extra,
    }


def _int(minimum: int, maximum: int, description: str = "") -> dict:
    return {
        "type": "integer",
        "minimum": minimum,
        "maximum": maximum,
        **({"description": description} if description else {}),
    }


def _number(description: str, **bounds) -> dict:
    return {"type": "number", "description": description, **bounds}


def _nullable_number(description: str, **bounds) -> dict:
    return {"type": ["number", "null"], "description": description, **bounds}


SECRET_REF = _obj(
    {
        "secret_env": {
            "type": "string",
            "pattern": VARIABLE_NAME,
            "description": "Name of the environment variable that holds the secret on the machine "
            "running `shipcheck config plan|apply`. The value never appears in the file.",
        }
    },
    required=("secret_env",),
)


def _check_common() -> dict[str, Any]:
    return {
        "name": _text(80, "Unique within the environment and kind.", minLength=1),
        "url": _text(500, "http(s) URL Shipcheck polls.", minLength=1),
        "timeout_seconds": _number(
            "Seconds to wait for an answer.", minimum=0.1, maximum=fetch.MAX_TIMEOUT_SECONDS
        ),
        "headers": {
            "type": "object",
            "description": "Request headers. Their values are secrets: each names an environment "
            "variable.",
            "maxProperties": MAX_HEADERS,
            "additionalProperties": {"$ref": "#/$defs/secret_ref"},
        },
        "failure_limit": _int(0, LIMIT_MAX, "Failed measurements a window tolerates."),
        "inconclusive_limit": _int(0, LIMIT_MAX, "Inconclusive measurements a window tolerates."),
        "consecutive_error_limit": _int(0, LIMIT_MAX, "Errors in a row before the window errs."),
        "is_critical": {"type": "boolean", "description": "A failure fails the window."},
        "enabled": {"type": "boolean"},
    }


def _build() -> dict[str, Any]:
    health = _obj(
        {
            **_check_common(),
            "method": {"enum": list(HttpMethod.values)},
            "expected_statuses": _text(
                60, 'Statuses that count as healthy, e.g. "200" or "200-204".'
            ),
            "json_path": _text(200, "Where the expected value is, e.g. $.status."),
            "expected_value": _text(200, "The value expected at json_path."),
        },
        required=("name", "url"),
    )
    metric = _obj(
        {
            **_check_common(),
            "provider": {"enum": list(MetricProvider.values)},
            "query": _text(2000, "PromQL instant query (provider prometheus)."),
            "json_path": _text(200, "Path to the number (provider json)."),
            "unit": _text(16),
            "direction": {"enum": list(Direction.values)},
            "min_value": _nullable_number("Absolute lower bound."),
            "max_value": _nullable_number("Absolute upper bound."),
            "baseline_delta": _nullable_number("Allowed change from the baseline.", minimum=0),
            "baseline_ratio": _nullable_number("Allowed ratio to the baseline.", minimum=1),
            "noise_floor": _nullable_number("Changes below this are noise (relative bounds)."),
            "use_in_precheck": {
                "type": "boolean",
                "description": "Its absolute bounds must hold before a production deployment.",
            },
        },
        required=("name", "url"),
    )
    policy = _obj(
        {
            "poll_interval": _number("Seconds between polls.", minimum=0.2, maximum=600),
            "canary_percent": _int(1, 100, "Share of traffic the canary gets."),
            "canary_duration": _number("Seconds the canary is watched.", minimum=1, maximum=86400),
            "post_deploy_duration": _number(
                "Seconds watched after a full rollout (0: none).", minimum=0, maximum=86400
            ),
            "auto_promote_canary": {"type": "boolean"},
            "tls_min_days": _int(0, 365, "Least days of certificate validity left."),
            "precheck_max_age": _number(
                "Seconds a pre-deployment check stays fresh.", minimum=60, maximum=86400
            ),
        }
    )
    rollback_hook = _obj(
        {
            "url": _text(500, "Called when a window fails and asks for a rollback.", minLength=1),
            "secret_env": SECRET_REF["properties"]["secret_env"],
        },
        required=("url",),
        description="Omit (or null) for no hook.",
    )
    approvals = _obj(
        {
            "required_approvals": _int(
                0, MAX_REQUIRED_APPROVALS, "Deployment approvals from different people."
            ),
            "approver_roles": {
                "type": "array",
                "uniqueItems": True,
                "items": {"enum": [r for r in Role.values if r != Role.AUDITOR]},
            },
            "requires_qa_signoff": {"type": "boolean"},
            "requires_scope_approval": {"type": "boolean"},
            "requires_go_no_go": {"type": "boolean"},
            "approval_valid_hours": {
                "type": ["integer", "null"],
                "minimum": 1,
                "maximum": MAX_VALID_HOURS,
                "description": "Approvals older than this stop counting (null: never).",
            },
        }
    )
    monitoring = _obj(
        {
            "policy": policy,
            "rollback_hook": {"anyOf": [{"type": "null"}, rollback_hook]},
            "health_checks": {"type": "array", "items": health},
            "metric_checks": {"type": "array", "items": metric},
        }
    )
    environment = _obj(
        {
            "name": {"type": "string", "pattern": ENVIRONMENT_NAME},
            "display_name": _text(80),
            "tier": {"enum": list(Tier.values)},
            "approvals": approvals,
            "monitoring": monitoring,
        },
        required=("name", "tier"),
    )
    person = _text(254, "A username or an e-mail address.", minLength=1)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Shipcheck project configuration (shipcheck.yml)",
        "description": "One project's environments, roles, approval policies, checklist choice "
        "and monitoring, as written by `shipcheck config export` and read by "
        "`shipcheck config plan|apply`.",
        "type": "object",
        "additionalProperties": False,
        "required": ["version", "environments"],
        "properties": {
            "version": {"const": FORMAT_VERSION, "description": "The file format's version."},
            "project": _obj(
                {"name": _text(120, minLength=1), "description": _text(5000)},
                description="The project's name and description (its slug is chosen on the "
                "command line).",
            ),
            "environments": {
                "type": "array",
                "minItems": 1,
                "description": "In promotion order, first to last.",
                "items": environment,
            },
            "roles": {
                "type": "object",
                "additionalProperties": False,
                "description": "Who holds which role. People not listed under a role lose it.",
                "properties": {
                    role: {"type": "array", "items": person, "uniqueItems": True}
                    for role in Role.values
                },
            },
            "provider_groups": {
                "type": "object",
                "additionalProperties": False,
                "description": "The identity provider's groups whose members hold each role "
                "(synced at each sign-in through the provider). Mappings not listed are removed.",
                "properties": {
                    role: {
                        "type": "array",
                        "items": _text(
                            GROUP_MAX,
                            "A group's name, exactly as the provider sends it.",
                            minLength=1,
                            pattern=r"\S",
                        ),
                        "uniqueItems": True,
                    }
                    for role in Role.values
                },
            },
            "checklists": _obj(
                {
                    "release_types": _obj(
                        {t: {"type": "string", "minLength": 1} for t in ReleaseType.values},
                        description="The checklist template (its slug) each release type starts "
                        "from: one of the project's own templates or a shipped one.",
                    )
                }
            ),
        },
        "$defs": {"secret_ref": SECRET_REF},
    }


@cache
def config_schema() -> dict[str, Any]:
    return _build()


def config_schema_text() -> str:
    """The schema as committed in docs/shipcheck.schema.json."""
    return json.dumps(config_schema(), indent=2, sort_keys=True) + "\n"
