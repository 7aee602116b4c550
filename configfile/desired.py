"""The state a file asks for, in the canonical form of ``configfile.state``, with every
problem the file has (unknown people, duplicate names, missing secrets, bad values).

A section the file leaves out (``roles``, ``checklists``, ``project``, or an
environment's ``approvals`` or ``monitoring``, or one of its parts) is left as
the server has it. A section that is present is complete: what it does not
list is removed, and what it does not set takes the default.
"""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model

from approvals.models import ApprovalPolicy
from configfile.parse import Document, path_text
from configfile.schema import GROUP_MAX
from configfile.state import (
    CHECK_FIELDS,
    MONITORING_POLICY_FIELDS,
    State,
    person_labels,
    seconds,
    secret_key,
    shipped_default,
    templates_of,
)
from core.exceptions import ValidationFailed
from monitoring.models import EnvironmentPolicy
from monitoring.services.config import validate_health, validate_metric, validate_policy
from projects.choices import Role, Tier
from projects.models import Environment, Project
from releases.choices import ReleaseType

# A placeholder that passes the header checks while a secret is missing (the problem is reported).
_MISSING = "missing"


class Desired(State):
    """The desired ``State`` plus what apply needs: the people and templates it names."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.role_users: dict[str, list] = {}
        self.templates: dict[str, Any] = {}


def default_monitoring_policy(tier: str) -> dict[str, Any]:
    policy = EnvironmentPolicy()
    if tier != Tier.PRODUCTION:
        policy.post_deploy_duration = timedelta(0)
    return {
        name: seconds(getattr(policy, name))
        if isinstance(getattr(policy, name), timedelta)
        else getattr(policy, name)
        for name in MONITORING_POLICY_FIELDS
    }


def default_environment(name: str, tier: str) -> dict[str, Any]:
    policy = ApprovalPolicy.default_for(Environment(name=name, tier=tier))
    return {
        "name": name,
        # None: the file leaves it to the service (which derives one from the name).
        "display_name": None,
        "tier": tier,
        "approvals": {
            "required_approvals": policy.required_approvals,
            "approver_roles": list(policy.approver_roles),
            "requires_qa_signoff": policy.requires_qa_signoff,
            "requires_scope_approval": policy.requires_scope_approval,
            "requires_go_no_go": policy.requires_go_no_go,
            "approval_valid_hours": policy.approval_valid_hours,
        },
        "monitoring": {
            "policy": default_monitoring_policy(tier),
            "rollback_hook": None,
            "health_checks": [],
            "metric_checks": [],
        },
    }


def _is(value, kind) -> bool:
    return isinstance(value, kind) and not (kind is int and isinstance(value, bool))


def _details_problems(document: Document, base: tuple, exc: ValidationFailed, field_paths=None):
    """One problem per field a service's validation refused, at that field's line."""
    field_paths = field_paths or {}
    details = exc.details or {}
    if not details:
        document.problem(base, exc.message)
        return
    for name, message in details.items():
        text = " ".join(map(str, message)) if isinstance(message, list) else str(message)
        path = field_paths.get(name, (*base, name))
        if any(p.path == path_text(path) for p in document.problems):
            continue  # the schema already said what is wrong there
        document.problem(path, text)


class _Builder:
    def __init__(self, *, document: Document, project: Project, current: State, secrets: dict):
        self.document = document
        self.project = project
        self.current = current
        self.provided = secrets
        self.desired = Desired(data=copy.deepcopy(current.data))
        self.desired.secrets = dict(current.secrets)
        self.desired.variables = dict(current.variables)
        self._bad_people_roles: set[str] = set()

    def secret(self, path: tuple, variable: Any, what: str) -> str:
        if not isinstance(variable, str):
            return _MISSING
        value = self.provided.get(variable)
        if not isinstance(value, str) or value == "":
            self.document.problem(
                path,
                f"The environment variable {variable} (the {what}) is not set on the machine "
                "running the command: set it, or name another variable.",
            )
            return _MISSING
        return value

    def forget_secrets(self, prefix: str) -> None:
        for store in (self.desired.secrets, self.desired.variables):
            for key in [k for k in store if k == prefix or k.startswith(prefix + "/")]:
                del store[key]

    # --- sections ----------------------------------------------------------------

    def build(self) -> Desired:
        data = self.document.data
        if not isinstance(data, dict):
            if not self.document.problems:
                self.document.problem(
                    (), "The file must be a mapping with 'version' and 'environments'."
                )
            return self.desired
        if isinstance(data.get("project"), dict):
            for key in ("name", "description"):
                if _is(data["project"].get(key), str):
                    self.desired.data["project"][key] = data["project"][key].strip()
        if isinstance(data.get("environments"), list):
            self.environments(data["environments"])
        if isinstance(data.get("roles"), dict):
            self.roles(data["roles"])
        if isinstance(data.get("provider_groups"), dict):
            self.provider_groups(data["provider_groups"])
        if isinstance(data.get("checklists"), dict) and isinstance(
            data["checklists"].get("release_types"), dict
        ):
            self.checklists(data["checklists"]["release_types"])
        return self.desired

    def environments(self, items: list) -> None:
        current = {e["name"]: e for e in self.current.data["environments"]}
        seen: dict[str, int] = {}
        result: list[dict[str, Any]] = []
        for index, item in enumerate(items):
            path = ("environments", index)
            if not isinstance(item, dict) or not _is(item.get("name"), str):
                continue
            name = item["name"]
            if name in seen:
                line, _col = self.document.where(("environments", seen[name], "name"))
                self.document.problem(
                    (*path, "name"),
                    f"The environment '{name}' is listed twice (first on line {line}); "
                    "environment names are unique in a project.",
                )
                continue
            seen[name] = index
            if name in self.current.retired and name not in current:
                self.document.problem(
                    (*path, "name"),
                    f"'{name}' is the name of a retired environment, which keeps its history "
                    "under that name: choose another name.",
                )
            tier = item.get("tier") if item.get("tier") in Tier.values else None
            base = copy.deepcopy(
                current.get(name) or default_environment(name, tier or "development")
            )
            if tier is None:
                tier = base["tier"]
            env = base
            env["tier"] = tier
            if name not in current:
                # A new environment takes its tier's defaults for whatever the file leaves out.
                env.update(
                    {k: v for k, v in default_environment(name, tier).items() if k != "name"}
                )
                self.forget_secrets(name)
            if _is(item.get("display_name"), str):
                env["display_name"] = item["display_name"].strip()
            if isinstance(item.get("approvals"), dict):
                env["approvals"] = self.approvals(path, item["approvals"], tier, first=not result)
            elif env["approvals"].get("requires_qa_signoff") and not result:
                self.document.problem(
                    path,
                    f"'{name}' comes first, so there is nothing before it for QA to sign off, "
                    "but its approval policy asks for a QA sign-off: add an 'approvals' section.",
                )
            if isinstance(item.get("monitoring"), dict):
                self.monitoring((*path, "monitoring"), name, item["monitoring"], env, tier)
            result.append(env)
        self.desired.data["environments"] = result
        # Secrets of environments the file removes go with them.
        for name in current:
            if name not in seen:
                self.forget_secrets(name)

    def approvals(self, path: tuple, block: dict, tier: str, *, first: bool) -> dict:
        defaults = default_environment("x", tier)["approvals"]
        values = {**defaults, **{k: v for k, v in block.items() if k in defaults}}
        roles = values["approver_roles"]
        if isinstance(roles, list):
            values["approver_roles"] = [r for r in Role.values if r in roles]
        here = (*path, "approvals")
        if (
            _is(values["required_approvals"], int)
            and values["required_approvals"] > 0
            and isinstance(roles, list)
            and not values["approver_roles"]
        ):
            self.document.problem(
                (*here, "approver_roles") if "approver_roles" in block else here,
                "Name at least one role that may give the approvals this environment needs.",
            )
        if values["requires_qa_signoff"] is True and first:
            self.document.problem(
                (*here, "requires_qa_signoff"),
                "This is the first environment: there is nothing before it for QA to sign off.",
            )
        return values

    def monitoring(self, path: tuple, env_name: str, block: dict, env: dict, tier: str) -> None:
        monitoring = env["monitoring"]
        if isinstance(block.get("policy"), dict):
            defaults = default_monitoring_policy(tier)
            monitoring["policy"] = {
                **defaults,
                **{k: v for k, v in block["policy"].items() if k in defaults},
            }
        hook_key = secret_key(env_name, "rollback_hook")
        if "rollback_hook" in block:
            hook = block["rollback_hook"]
            self.forget_secrets(hook_key)
            if isinstance(hook, dict) and _is(hook.get("url"), str):
                monitoring["rollback_hook"] = {"url": hook["url"].strip()}
                if "secret_env" in hook:
                    value = self.secret(
                        (*path, "rollback_hook", "secret_env"),
                        hook["secret_env"],
                        "rollback hook's secret",
                    )
                    if _is(hook["secret_env"], str):
                        monitoring["rollback_hook"]["secret_env"] = hook["secret_env"]
                        self.desired.secrets[hook_key] = value
                        self.desired.variables[hook_key] = hook["secret_env"]
            elif hook is None:
                monitoring["rollback_hook"] = None
        hook = monitoring["rollback_hook"] or {}
        policy_values = {
            **monitoring["policy"],
            "rollback_hook_url": hook.get("url", ""),
            "rollback_hook_secret": self.desired.secrets.get(hook_key, ""),
        }
        try:
            validate_policy(policy_values)
        except ValidationFailed as exc:
            _details_problems(
                self.document,
                (*path, "policy"),
                exc,
                {
                    "rollback_hook_url": (*path, "rollback_hook", "url"),
                    "rollback_hook_secret": (*path, "rollback_hook", "secret_env"),
                },
            )
        for kind in CHECK_FIELDS:
            if isinstance(block.get(kind), list):
                monitoring[kind] = self.checks((*path, kind), env_name, kind, block[kind])

    def checks(self, path: tuple, env_name: str, kind: str, items: list) -> list:
        self.forget_secrets(secret_key(env_name, kind))
        validate = validate_health if kind == "health_checks" else validate_metric
        seen: dict[str, int] = {}
        result = []
        for index, item in enumerate(items):
            here = (*path, index)
            if not isinstance(item, dict):
                continue
            headers = {}
            variables = {}
            if isinstance(item.get("headers"), dict):
                for header, ref in item["headers"].items():
                    variable = ref.get("secret_env") if isinstance(ref, dict) else None
                    headers[str(header).strip()] = self.secret(
                        (*here, "headers", header, "secret_env"),
                        variable,
                        f"value of the {header} header",
                    )
                    variables[str(header).strip()] = variable
            values = {k: v for k, v in item.items() if k != "headers"}
            try:
                clean = validate({**values, "headers": headers})
            except ValidationFailed as exc:
                _details_problems(self.document, here, exc)
                continue
            name = clean["name"]
            if name in seen:
                line, _col = self.document.where((*path, seen[name], "name"))
                self.document.problem(
                    (*here, "name"),
                    f"Another check in this list is named '{name}' (line {line}); names are unique "
                    "per environment.",
                )
                continue
            seen[name] = index
            prefix = secret_key(env_name, kind, name)
            refs = {}
            for header in sorted(clean["headers"]):
                variable = variables.get(header)
                refs[header] = {"secret_env": variable}
                if isinstance(variable, str):
                    self.desired.secrets[f"{prefix}/headers/{header}"] = clean["headers"][header]
                    self.desired.variables[f"{prefix}/headers/{header}"] = variable
            check = {}
            for field_name in CHECK_FIELDS[kind]:
                check[field_name] = refs if field_name == "headers" else clean[field_name]
            result.append(check)
        return sorted(result, key=lambda c: c["name"])

    def roles(self, block: dict) -> None:
        wanted: dict[str, list] = {}
        users_by_pk = {}
        for role, people in block.items():
            if role not in Role.values or not isinstance(people, list):
                continue
            wanted[role] = []
            for index, ident in enumerate(people):
                if not _is(ident, str) or not ident.strip():
                    continue
                user = self.person((("roles", role, index)), ident.strip())
                if user is not None and user.pk not in {u.pk for u in wanted[role]}:
                    wanted[role].append(user)
                    users_by_pk[user.pk] = user
        if not wanted.get(Role.ADMIN) and "admin" not in self._bad_people_roles:
            self.document.problem(
                ("roles", "admin") if "admin" in block else ("roles",),
                "Name at least one project admin: without one, nobody could change the project.",
                key="admin" in block,
            )
        labels = person_labels(users_by_pk.values())
        self.desired.role_users = wanted
        self.desired.data["roles"] = {
            role: sorted({labels[u.pk] for u in wanted[role]}, key=str.lower)
            for role in Role.values
            if wanted.get(role)
        }

    def provider_groups(self, block: dict) -> None:
        wanted: dict[str, set[str]] = {}
        for role, groups in block.items():
            if role not in Role.values or not isinstance(groups, list):
                continue
            for group in groups:
                if _is(group, str) and group.strip() and len(group.strip()) <= GROUP_MAX:
                    wanted.setdefault(role, set()).add(group.strip())
        self.desired.data["provider_groups"] = {
            role: sorted(wanted[role]) for role in Role.values if wanted.get(role)
        }

    def person(self, path: tuple, ident: str):
        users = get_user_model().objects
        user = users.filter(username=ident).first()
        if user is not None:
            return user
        if "@" in ident:
            matches = list(users.filter(email__iexact=ident)[:2])
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                self.document.problem(
                    path,
                    f"Several people have the e-mail address {ident}: name this one by username.",
                )
                self._bad_people_roles.add(path[1])
                return None
        self.document.problem(
            path,
            f"No one in Shipcheck has the username or e-mail address '{ident[:80]}': "
            "invite them first, or correct the name.",
        )
        self._bad_people_roles.add(path[1])
        return None

    def checklists(self, block: dict) -> None:
        own, shipped = templates_of(self.project)
        choice = {}
        for release_type in ReleaseType.values:
            default = shipped_default(release_type, shipped)
            slug = block.get(release_type, default)
            path = ("checklists", "release_types", release_type)
            if not _is(slug, str):
                choice[release_type] = default
                continue
            if slug in own:
                self.desired.templates[slug] = own[slug]
            elif slug in shipped:
                if slug != default:
                    self.document.problem(
                        path,
                        f"The shipped template '{slug}' is not the one Shipcheck uses for "
                        f"{release_type} releases ('{default}'); shipped templates cannot be "
                        "reassigned: copy it into the project and name the copy.",
                    )
            else:
                names = ", ".join(sorted({*own, *shipped}))
                self.document.problem(
                    path,
                    f"No checklist template '{slug[:60]}' in this project or among the shipped "
                    f"ones (there are: {names}).",
                )
                slug = default
            choice[release_type] = slug
        self.desired.data["checklists"] = {"release_types": choice}


def desired_state(
    *, document: Document, project: Project, current: State, secrets: dict
) -> Desired:
    """The state ``document`` asks for; problems land in ``document.problems``."""
    return _Builder(document=document, project=project, current=current, secrets=secrets).build()
