"""Export a project's configuration as ``shipcheck.yml``, and plan what a file would change."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import yaml
from django.conf import settings

from configfile.desired import Desired, desired_state
from configfile.exceptions import ConfigInvalid
from configfile.parse import Document, parse_text, schema_problems
from configfile.permissions import config_read_authorize, config_write_actor
from configfile.state import State, current_state, diff
from projects.models import Project
from projects.principals import Caller

SCHEMA_PATH = "/api/v1/config/schema.json"


@dataclass
class Plan:
    sha256: str
    fingerprint: str
    changes: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "fingerprint": self.fingerprint, "changes": self.changes}


def file_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest()


# --- Export ------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Block style, keys in the file's order, multi-line texts as literal blocks."""


def _text_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text_representer)


def config_export(*, project: Project, user: Caller) -> dict[str, Any]:
    """The project's configuration as ``shipcheck.yml`` text, with the state's fingerprint."""
    config_read_authorize(user=user, project=project)
    state = current_state(project)
    base = settings.SHIPCHECK_BASE_URL.rstrip("/")
    header = (
        f"# yaml-language-server: $schema={base}{SCHEMA_PATH}\n"
        f"# Shipcheck configuration of the project '{project.slug}'.\n"
        "# Secrets are not in this file: each secret_env names the environment variable that\n"
        "# holds the value on the machine running 'shipcheck config plan' or 'apply'.\n"
    )
    body = yaml.dump(
        state.data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False
    )
    text = header + body
    return {
        "project": project.slug,
        "yaml": text,
        "sha256": file_sha256(text),
        "fingerprint": state.fingerprint(),
        "secret_variables": sorted(set(state.variables.values())),
    }


# --- Plan ----------------------------------------------------------------------------------


def plan_prepare(
    *, project: Project, text: str, secrets: dict[str, str], applying: bool = False
) -> tuple[State, Desired, Document]:
    """The current state, the state ``text`` asks for and the parsed file; ``ConfigInvalid`` if any problem."""
    document = parse_text(text)
    current = current_state(project)
    if document.data is not None:
        schema_problems(document)
    desired = desired_state(document=document, project=project, current=current, secrets=secrets)
    if document.problems:
        raise ConfigInvalid(
            sorted(document.problems, key=lambda p: (p.line or 0, p.column or 0)), applied=applying
        )
    return current, desired, document


def config_plan(
    *, project: Project, user: Caller, text: str, secrets: dict[str, str] | None = None
) -> Plan:
    """What applying ``text`` would change, change by change. Changes nothing.

    Callers: project admins, staff, ``config`` tokens. Raises ``ConfigInvalid``
    listing every problem with its line.
    """
    config_write_actor(user=user, project=project)
    current, desired, _document = plan_prepare(project=project, text=text, secrets=secrets or {})
    return Plan(
        sha256=file_sha256(text), fingerprint=current.fingerprint(), changes=diff(current, desired)
    )
