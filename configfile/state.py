"""A project's configuration as one plain structure, and the difference between two of them.

``current_state`` reads what the server holds, in the shape ``shipcheck.yml``
has (the *canonical* form: every key present, defaults filled in, secrets as
references to environment variables). ``export`` writes exactly that;
``plan`` and ``apply`` compare it with the file's desired state, normalised
to the same form (``configfile.desired``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.db.models.functions import Lower

from accounts.models import GroupRoleMapping
from approvals.models import ApprovalPolicy
from approvals.services import POLICY_FIELDS as APPROVAL_FIELDS
from checklists.models import ChecklistTemplate
from checklists.selectors import shipped_templates_ensure
from configfile.models import SecretName
from configfile.schema import FORMAT_VERSION
from monitoring.models import HealthCheck, MetricCheck
from monitoring.services.config import HEALTH_FIELDS, METRIC_FIELDS, policy_for
from projects.choices import Role
from projects.models import Environment, Membership, Project
from releases.choices import ReleaseType

MONITORING_POLICY_FIELDS = (
    "poll_interval",
    "canary_percent",
    "canary_duration",
    "post_deploy_duration",
    "auto_promote_canary",
    "tls_min_days",
    "precheck_max_age",
)
CHECK_FIELDS = {"health_checks": HEALTH_FIELDS, "metric_checks": METRIC_FIELDS}
CHECK_MODELS: dict[str, type[HealthCheck] | type[MetricCheck]] = {
    "health_checks": HealthCheck,
    "metric_checks": MetricCheck,
}
# The shipped template a release type falls back to when no template claims it
# (checklists.selectors.template_default_for).
FALLBACK_TEMPLATE = "release-procedure"


def secret_key(environment: str, *parts: str) -> str:
    """Where a secret lives: "production/rollback_hook", "production/health_checks/API/headers/X"."""
    return "/".join((environment, *parts))


def default_variable(project_slug: str, key: str) -> str:
    """An environment variable name for a secret that was never applied from a file."""
    words = f"{project_slug}_{key.replace('/headers/', '_').replace('rollback_hook', 'rollback_hook_secret')}"
    name = re.sub(r"[^A-Z0-9]+", "_", words.upper()).strip("_")
    return name if name and not name[0].isdigit() else f"SHIPCHECK_{name}"


def seconds(value: timedelta | float | int | None) -> float | int | None:
    if value is None:
        return None
    total = value.total_seconds() if isinstance(value, timedelta) else float(value)
    return int(total) if float(total).is_integer() else total


@dataclass
class State:
    """The canonical configuration plus what apply needs beside it."""

    data: dict[str, Any]
    # secret key → its stored value (current) or the value sent by the CLI (desired)
    secrets: dict[str, str] = field(default_factory=dict)
    # secret key → the environment variable that holds it
    variables: dict[str, str] = field(default_factory=dict)
    environments: dict[str, Environment] = field(default_factory=dict)
    retired: dict[str, Environment] = field(default_factory=dict)
    checks: dict[tuple[str, str, str], Any] = field(default_factory=dict)

    def fingerprint(self) -> str:
        """A digest of the whole state, secrets included (keyed, so it reveals none of them)."""
        key = settings.SECRET_KEY.encode()
        secrets = {
            name: hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
            for name, value in sorted(self.secrets.items())
        }
        text = json.dumps({"config": self.data, "secrets": secrets}, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


def _has_field(model, name: str) -> bool:
    return any(f.name == name for f in model._meta.get_fields())


def environments_of(project: Project) -> tuple[list[Environment], list[Environment]]:
    """(active environments in promotion order, retired ones)."""
    rows = list(Environment.objects.filter(project=project).order_by("order", "pk"))
    if not _has_field(Environment, "retired_at"):
        return rows, []
    return [e for e in rows if e.retired_at is None], [e for e in rows if e.retired_at is not None]


def approvals_of(policy: ApprovalPolicy) -> dict[str, Any]:
    return {name: getattr(policy, name) for name in APPROVAL_FIELDS}


def monitoring_policy_of(environment: Environment) -> dict[str, Any]:
    policy = policy_for(environment)
    return {
        name: seconds(getattr(policy, name))
        if isinstance(getattr(policy, name), timedelta)
        else getattr(policy, name)
        for name in MONITORING_POLICY_FIELDS
    }


def check_of(check, fields, variables: dict[str, str], key_prefix: str) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in fields:
        if name == "headers":
            data["headers"] = {
                header: {"secret_env": variables[f"{key_prefix}/headers/{header}"]}
                for header in sorted(check.headers or {})
            }
        else:
            data[name] = getattr(check, name)
    return data


def person_labels(users) -> dict[int, str]:
    """How the file names each person: their e-mail address when no one else has it, else username."""
    users = list(users)
    emails = {u.email.lower() for u in users if u.email}
    shared = set(
        get_user_model()
        .objects.annotate(lower_email=Lower("email"))
        .filter(lower_email__in=emails)
        .values("lower_email")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .values_list("lower_email", flat=True)
    )
    return {
        u.pk: u.email if u.email and u.email.lower() not in shared else u.get_username()
        for u in users
    }


def roles_of(project: Project) -> dict[str, list[str]]:
    memberships = list(Membership.objects.filter(project=project).select_related("user"))
    labels = person_labels({m.user_id: m.user for m in memberships}.values())
    roles: dict[str, list[str]] = {}
    for role in Role.values:
        people = sorted({labels[m.user_id] for m in memberships if m.role == role}, key=str.lower)
        if people:
            roles[role] = people
    return roles


def provider_groups_of(project: Project) -> dict[str, list[str]]:
    """The identity provider's groups mapped to each role (roles without a mapping left out)."""
    groups: dict[str, set[str]] = {}
    for group, role in GroupRoleMapping.objects.filter(project=project).values_list(
        "group", "role"
    ):
        groups.setdefault(role, set()).add(group)
    return {role: sorted(groups[role]) for role in Role.values if role in groups}


def templates_of(
    project: Project,
) -> tuple[dict[str, ChecklistTemplate], dict[str, ChecklistTemplate]]:
    """(the project's own templates by slug, the shipped ones by slug)."""
    shipped_templates_ensure()
    own: dict[str, ChecklistTemplate] = {}
    shipped: dict[str, ChecklistTemplate] = {}
    for template in ChecklistTemplate.objects.filter(
        Q(project=project) | Q(project__isnull=True)
    ).order_by("pk"):
        (shipped if template.project_id is None else own)[template.slug] = template
    return own, shipped


def shipped_default(release_type: str, shipped: dict[str, ChecklistTemplate]) -> str:
    for slug, template in shipped.items():
        if release_type in (template.release_types or []):
            return slug
    return FALLBACK_TEMPLATE


def checklists_of(project: Project) -> dict[str, Any]:
    own, shipped = templates_of(project)
    choice = {}
    for release_type in ReleaseType.values:
        claimed = [
            t for t in sorted(own.values(), key=lambda t: -t.pk) if release_type in t.release_types
        ]
        choice[release_type] = (
            claimed[0].slug if claimed else shipped_default(release_type, shipped)
        )
    return {"release_types": choice}


def current_state(project: Project) -> State:
    """What the server holds for ``project``, in the file's canonical form."""
    project = Project.objects.get(pk=project.pk)  # the row as committed, not a caller's copy
    active, retired = environments_of(project)
    saved_approvals = {
        p.environment_id: p for p in ApprovalPolicy.objects.filter(environment__in=active)
    }
    variables = dict(SecretName.objects.filter(project=project).values_list("key", "variable"))
    state = State(data={})
    checks_by_env: dict[int, dict[str, list]] = {
        e.pk: {k: [] for k in CHECK_MODELS} for e in active
    }
    for kind, model in CHECK_MODELS.items():
        for check in model.objects.filter(environment__in=active).order_by("name", "pk"):
            checks_by_env[check.environment_id][kind].append(check)
    environments = []
    for environment in active:
        state.environments[environment.name] = environment
        policy = policy_for(environment)
        hook = None
        hook_key = secret_key(environment.name, "rollback_hook")
        if policy.rollback_hook_url:
            hook = {"url": policy.rollback_hook_url}
            if policy.rollback_hook_secret:
                variables.setdefault(hook_key, default_variable(project.slug, hook_key))
                hook["secret_env"] = variables[hook_key]
                state.secrets[hook_key] = policy.rollback_hook_secret
        monitoring: dict[str, Any] = {
            "policy": monitoring_policy_of(environment),
            "rollback_hook": hook,
        }
        for kind, fields in CHECK_FIELDS.items():
            items = []
            for check in checks_by_env[environment.pk][kind]:
                prefix = secret_key(environment.name, kind, check.name)
                for header, value in (check.headers or {}).items():
                    key = f"{prefix}/headers/{header}"
                    variables.setdefault(key, default_variable(project.slug, key))
                    state.secrets[key] = value
                state.checks[(environment.name, kind, check.name)] = check
                items.append(check_of(check, fields, variables, prefix))
            monitoring[kind] = items
        approvals = saved_approvals.get(environment.pk) or ApprovalPolicy.default_for(environment)
        environments.append(
            {
                "name": environment.name,
                "display_name": environment.display_name,
                "tier": environment.tier,
                "approvals": approvals_of(approvals),
                "monitoring": monitoring,
            }
        )
    state.retired = {e.name: e for e in retired}
    state.variables = {key: variables[key] for key in state.secrets}
    state.data = {
        "version": FORMAT_VERSION,
        "project": {"name": project.name, "description": project.description},
        "environments": environments,
        "roles": roles_of(project),
        "provider_groups": provider_groups_of(project),
        "checklists": checklists_of(project),
    }
    return state


# --- The difference ---------------------------------------------------------------------

SECRET_SHOWN = "(secret)"  # noqa: S105 - a label shown instead of a value


def _change(changes: list, op: str, path: str, old: Any = None, new: Any = None) -> None:
    entry: dict[str, Any] = {"op": op, "path": path}
    if op in ("change", "remove"):
        entry["old"] = old
    if op in ("change", "add"):
        entry["new"] = new
    changes.append(entry)


def _fields(changes: list, path: str, old: dict, new: dict) -> None:
    for name in new:
        if name == "display_name" and new[name] is None:
            continue  # left to the service
        if name in old and old[name] != new[name]:
            _change(changes, "change", f"{path}.{name}", old[name], new[name])


def _secret(changes, path, key, current: State, desired: State) -> None:
    if (
        key in desired.secrets
        and key in current.secrets
        and desired.secrets[key] != current.secrets[key]
    ):
        _change(changes, "change", path, SECRET_SHOWN, "(a new secret value)")


def _checks(changes, path, env_name, kind, old: list, new: list, current, desired) -> None:
    old_by = {c["name"]: c for c in old}
    new_by = {c["name"]: c for c in new}
    for name, check in old_by.items():
        if name not in new_by:
            _change(changes, "remove", f"{path}[{name}]", check)
    for name, check in new_by.items():
        if name not in old_by:
            _change(changes, "add", f"{path}[{name}]", new=check)
            continue
        before = old_by[name]
        here = f"{path}[{name}]"
        _fields(
            changes,
            here,
            {k: v for k, v in before.items() if k != "headers"},
            {k: v for k, v in check.items() if k != "headers"},
        )
        old_headers, new_headers = before.get("headers", {}), check.get("headers", {})
        for header in old_headers:
            if header not in new_headers:
                _change(changes, "remove", f"{here}.headers.{header}", old_headers[header])
        for header, ref in new_headers.items():
            if header not in old_headers:
                _change(changes, "add", f"{here}.headers.{header}", new=ref)
                continue
            if old_headers[header] != ref:
                _change(changes, "change", f"{here}.headers.{header}", old_headers[header], ref)
            key = secret_key(env_name, kind, name, "headers", header)
            _secret(changes, f"{here}.headers.{header}.value", key, current, desired)


def diff(current: State, desired: State) -> list[dict[str, Any]]:
    """Every difference from ``current`` to ``desired``, in the file's order, as
    ``{"op": "add"|"change"|"remove", "path", "old", "new"}``."""
    changes: list[dict[str, Any]] = []
    old, new = current.data, desired.data
    _fields(changes, "project", old["project"], new["project"])

    old_envs = {e["name"]: e for e in old["environments"]}
    new_envs = {e["name"]: e for e in new["environments"]}
    for name, env in old_envs.items():
        if name not in new_envs:
            _change(changes, "remove", f"environments[{name}]", {"tier": env["tier"]})
    kept_old = [e["name"] for e in old["environments"] if e["name"] in new_envs]
    kept_new = [e["name"] for e in new["environments"] if e["name"] in old_envs]
    if kept_old != kept_new:
        _change(changes, "change", "environments (order)", kept_old, kept_new)
    for env in new["environments"]:
        name = env["name"]
        path = f"environments[{name}]"
        if name not in old_envs:
            _change(changes, "add", path, new=env)
            continue
        before = old_envs[name]
        _fields(
            changes,
            path,
            {"display_name": before["display_name"], "tier": before["tier"]},
            {"display_name": env["display_name"], "tier": env["tier"]},
        )
        _fields(changes, f"{path}.approvals", before["approvals"], env["approvals"])
        mon_old, mon_new = before["monitoring"], env["monitoring"]
        _fields(changes, f"{path}.monitoring.policy", mon_old["policy"], mon_new["policy"])
        hook_old, hook_new = mon_old["rollback_hook"], mon_new["rollback_hook"]
        hook_path = f"{path}.monitoring.rollback_hook"
        if hook_old is None and hook_new is not None:
            _change(changes, "add", hook_path, new=hook_new)
        elif hook_old is not None and hook_new is None:
            _change(changes, "remove", hook_path, hook_old)
        elif hook_old is not None and hook_new is not None:
            for key in ("url", "secret_env"):
                if hook_old.get(key) != hook_new.get(key):
                    op = (
                        "add"
                        if key not in hook_old
                        else "remove"
                        if key not in hook_new
                        else "change"
                    )
                    _change(changes, op, f"{hook_path}.{key}", hook_old.get(key), hook_new.get(key))
            _secret(
                changes,
                f"{hook_path}.secret",
                secret_key(name, "rollback_hook"),
                current,
                desired,
            )
        for kind in CHECK_FIELDS:
            _checks(
                changes,
                f"{path}.monitoring.{kind}",
                name,
                kind,
                mon_old[kind],
                mon_new[kind],
                current,
                desired,
            )

    old_roles, new_roles = old["roles"], new["roles"]
    for role in Role.values:
        before, after = old_roles.get(role, []), new_roles.get(role, [])
        before_keys = {p.lower() for p in before}
        after_keys = {p.lower() for p in after}
        for person in after:
            if person.lower() not in before_keys:
                _change(changes, "add", f"roles.{role}", new=person)
        for person in before:
            if person.lower() not in after_keys:
                _change(changes, "remove", f"roles.{role}", person)

    old_groups, new_groups = old["provider_groups"], new["provider_groups"]
    for role in Role.values:
        before, after = old_groups.get(role, []), new_groups.get(role, [])
        for group in after:
            if group not in before:
                _change(changes, "add", f"provider_groups.{role}", new=group)
        for group in before:
            if group not in after:
                _change(changes, "remove", f"provider_groups.{role}", group)

    _fields(
        changes,
        "checklists.release_types",
        old["checklists"]["release_types"],
        new["checklists"]["release_types"],
    )
    return changes
