"""Apply ``shipcheck.yml``: make a project's configuration what the file says.

``config_apply`` writes nothing itself but its own bookkeeping: every change
goes through the service that owns it (projects, approvals, checklists,
monitoring), inside one transaction, so each writes its own audit event and
checks its own rules; ``config.applied`` then records the change set as a
whole with the file's SHA-256. Any refusal rolls everything back.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, cast

from django.contrib.auth.models import User
from django.db import transaction

from accounts.models import GroupRoleMapping
from accounts.services import group_mapping_add, group_mapping_remove
from approvals.models import ApprovalPolicy
from approvals.services import approval_policy_update
from audit.services import audit_record
from checklists.models import ChecklistTemplate
from checklists.services import template_update
from configfile.desired import Desired
from configfile.exceptions import ConfigInvalid, StalePlan
from configfile.models import SecretName
from configfile.parse import Document, Path, Problem, path_text
from configfile.permissions import config_write_actor
from configfile.services.plan import Plan, file_sha256, plan_prepare
from configfile.state import (
    CHECK_FIELDS,
    CHECK_MODELS,
    State,
    approvals_of,
    current_state,
    diff,
    environments_of,
    monitoring_policy_of,
    secret_key,
)
from core.exceptions import DomainError
from monitoring.choices import CheckKind
from monitoring.services.config import (
    check_create,
    check_delete,
    check_update,
    policy_for,
    policy_update,
)
from projects import services as project_services
from projects.choices import Role
from projects.models import Environment, Membership, Project
from projects.permissions import forget_roles
from projects.principals import Caller, TokenPrincipal, is_token
from releases.choices import ReleaseType

APPLY_REASON = "Applied from shipcheck.yml (shipcheck config apply)."


class _Run:
    """One apply: calls the services, collecting their refusals with the file's lines."""

    def __init__(
        self,
        *,
        project: Project,
        actor: User,
        document: Document,
        current: State,
        desired: Desired,
    ) -> None:
        self.project = project
        self.actor = actor
        self.document = document
        self.current = current
        self.desired = desired
        self.problems: list[Problem] = []
        self.env_index = {
            e["name"]: i
            for i, e in enumerate(document.data.get("environments") or [])
            if isinstance(e, dict)
        }

    def refuse(self, path: Path, message: str) -> None:
        line, column = self.document.where(path)
        self.problems.append(
            Problem(message=message, line=line, column=column, path=path_text(path))
        )

    def call(self, path: Path, service: Callable[..., Any], **kwargs: Any) -> Any:
        try:
            with transaction.atomic():
                return service(**kwargs)
        except DomainError as exc:
            details = exc.details or {}
            message = exc.message
            extra = [v for v in details.values() if isinstance(v, str) and " " in v]
            if extra and all(e not in message for e in extra):
                message = f"{message} ({'; '.join(extra)})"
            self.refuse(path, message)
            return None

    def env_path(self, name: str, *rest: Any) -> Path:
        index = self.env_index.get(name)
        return ("environments",) if index is None else ("environments", index, *rest)

    def service(self, name: str, path: Path) -> Callable[..., Any] | None:
        found = getattr(project_services, name, None)
        if found is None:
            self.refuse(
                path,
                f"This Shipcheck cannot apply this change from a file (projects.services.{name} "
                "is missing).",
            )
        return found

    # --- sections ---------------------------------------------------------------------

    def project_fields(self) -> None:
        old, new = self.current.data["project"], self.desired.data["project"]
        changed = {k: new[k] for k in ("name", "description") if old[k] != new[k]}
        if changed:
            update = self.service("project_update", ("project",))
            if update:
                self.call(("project",), update, project=self.project, actor=self.actor, **changed)

    def environments(self) -> dict[str, Environment]:
        desired = self.desired.data["environments"]
        wanted = [e["name"] for e in desired]
        current = dict(self.current.environments)
        for name, environment in current.items():
            if name not in wanted:
                retire = self.service("environment_retire", ("environments",))
                if retire:
                    self.call(
                        ("environments",),
                        retire,
                        environment=environment,
                        actor=self.actor,
                        reason=APPLY_REASON,
                    )
        for env in desired:
            name = env["name"]
            path = self.env_path(name)
            if name not in current:
                create = self.service("environment_create", path)
                if create:
                    self.call(
                        path,
                        create,
                        project=self.project,
                        name=name,
                        tier=env["tier"],
                        actor=self.actor,
                        display_name=env["display_name"] or "",
                    )
                continue
            environment = current[name]
            changed: dict[str, str] = {}
            if env["display_name"] is not None and env["display_name"] != environment.display_name:
                changed["display_name"] = env["display_name"]
            if env["tier"] != environment.tier:
                changed["tier"] = env["tier"]
            if changed:
                update = self.service("environment_update", path)
                if update:
                    self.call(path, update, environment=environment, actor=self.actor, **changed)
        active, _retired = environments_of(self.project)
        if [e.name for e in active] != wanted and not self.problems:
            reorder = self.service("environment_reorder", ("environments",))
            if reorder:
                self.call(
                    ("environments",), reorder, project=self.project, names=wanted, actor=self.actor
                )
        active, _retired = environments_of(self.project)
        return {e.name: e for e in active}

    def approvals(self, environments: dict[str, Environment]) -> None:
        saved = {
            p.environment_id: p
            for p in ApprovalPolicy.objects.filter(environment__in=environments.values())
        }
        for env in self.desired.data["environments"]:
            environment = environments.get(env["name"])
            if environment is None:
                continue
            now = approvals_of(saved.get(environment.pk) or ApprovalPolicy.default_for(environment))
            if now != env["approvals"]:
                self.call(
                    self.env_path(env["name"], "approvals"),
                    approval_policy_update,
                    environment=environment,
                    actor=self.actor,
                    **env["approvals"],
                )

    def monitoring(self, environments: dict[str, Environment]) -> None:
        for env in self.desired.data["environments"]:
            environment = environments.get(env["name"])
            if environment is None:
                continue
            name = env["name"]
            monitoring = env["monitoring"]
            path = self.env_path(name, "monitoring")
            hook = monitoring["rollback_hook"] or {}
            hook_key = secret_key(name, "rollback_hook")
            wanted_secret = self.desired.secrets.get(hook_key, "")
            policy = policy_for(environment)
            if (
                monitoring_policy_of(environment) != monitoring["policy"]
                or policy.rollback_hook_url != hook.get("url", "")
                or policy.rollback_hook_secret != wanted_secret
            ):
                self.call(
                    path,
                    policy_update,
                    environment=environment,
                    actor=self.actor,
                    **monitoring["policy"],
                    rollback_hook_url=hook.get("url", ""),
                    rollback_hook_secret=wanted_secret,
                )
            for kind, fields in CHECK_FIELDS.items():
                self.checks(path, environment, name, kind, fields, monitoring[kind])

    def checks(
        self,
        path: Path,
        environment: Environment,
        env_name: str,
        kind: str,
        fields: tuple[str, ...],
        wanted: list[dict[str, Any]],
    ) -> None:
        model = CHECK_MODELS[kind]
        existing = {c.name: c for c in model.objects.filter(environment=environment)}
        wanted_names = {c["name"] for c in wanted}
        for check_name, gone in existing.items():
            if check_name not in wanted_names:
                self.call((*path, kind), check_delete, check=gone, actor=self.actor)
        for index, item in enumerate(wanted):
            prefix = secret_key(env_name, kind, item["name"])
            headers = {
                header: self.desired.secrets.get(f"{prefix}/headers/{header}", "")
                for header in item["headers"]
            }
            values = {k: v for k, v in item.items() if k != "headers"}
            here = self._check_path(path, kind, item["name"], index)
            check = existing.get(item["name"])
            if check is None:
                self.call(
                    here,
                    check_create,
                    environment=environment,
                    kind=CheckKind.HEALTH if kind == "health_checks" else CheckKind.METRIC,
                    actor=self.actor,
                    **values,
                    headers=headers,
                )
                continue
            now = {f: getattr(check, f) for f in fields if f != "headers"}
            if now != values or (check.headers or {}) != headers:
                self.call(
                    here,
                    check_update,
                    check=check,
                    actor=self.actor,
                    keep_headers=False,
                    **values,
                    headers=headers,
                )

    def _check_path(self, path: Path, kind: str, name: str, index: int) -> Path:
        items = self.document.data
        for part in (*path, kind):
            items = (
                items.get(part)
                if isinstance(items, dict)
                else (
                    items[part]
                    if isinstance(items, list) and isinstance(part, int) and part < len(items)
                    else None
                )
            )
        if isinstance(items, list):
            for position, item in enumerate(items):
                if isinstance(item, dict) and str(item.get("name", "")).strip() == name:
                    return (*path, kind, position)
        return (*path, kind)

    def _held(self) -> dict[str, dict[int, User]]:
        held: dict[str, dict[int, User]] = {}
        for membership in Membership.objects.filter(project=self.project).select_related("user"):
            held.setdefault(membership.role, {})[membership.user_id] = membership.user
        return held

    def _membership(self, service: Callable[..., Any], path: Path, **kwargs: Any) -> None:
        if "reason" in inspect.signature(service).parameters:
            kwargs["reason"] = APPLY_REASON
        self.call(path, service, project=self.project, actor=self.actor, **kwargs)

    def grants(self) -> None:
        """New roles first: a staff administrator who names themselves admin may then change
        what only admins may (approval policies, monitoring)."""
        if not self.desired.role_users:
            return
        held = self._held()
        for role, users in self.desired.role_users.items():
            for user in users:
                if user.pk not in held.get(role, {}):
                    self._membership(
                        project_services.membership_grant, ("roles", role), user=user, role=role
                    )
        forget_roles(self.actor)

    def revokes(self) -> None:
        """Roles the file leaves out, last, so the actor keeps their rights while applying."""
        if not self.desired.role_users:
            return
        for role, holders in self._held().items():
            keep = {u.pk for u in self.desired.role_users.get(role, [])}
            for user_id, user in holders.items():
                if user_id not in keep:
                    path = ("roles", role) if role in self.desired.role_users else ("roles",)
                    self._membership(project_services.membership_revoke, path, user=user, role=role)
        forget_roles(self.actor)

    def provider_groups(self) -> None:
        """Group mappings through the accounts services (their checks and audit events)."""
        old = self.current.data["provider_groups"]
        new = self.desired.data["provider_groups"]
        if old == new:
            return
        for role in Role.values:
            path = ("provider_groups", role) if role in new else ("provider_groups",)
            for group in new.get(role, []):
                if group not in old.get(role, []):
                    self.call(
                        path,
                        group_mapping_add,
                        project=self.project,
                        group=group,
                        role=role,
                        actor=self.actor,
                    )
            for group in old.get(role, []):
                if group not in new.get(role, []):
                    for mapping in GroupRoleMapping.objects.filter(
                        project=self.project, group=group, role=role
                    ):
                        self.call(path, group_mapping_remove, mapping=mapping, actor=self.actor)

    def checklists(self) -> None:
        wanted = self.desired.data["checklists"]["release_types"]
        if wanted == self.current.data["checklists"]["release_types"]:
            return
        own = {t.slug: t for t in ChecklistTemplate.objects.filter(project=self.project)}
        targets = {slug: [t for t in ReleaseType.values if wanted.get(t) == slug] for slug in own}
        # Templates that give types away first, so none is taken from a template changed later.
        order = sorted(
            own.values(), key=lambda t: len(targets[t.slug]) >= len(t.release_types or [])
        )
        for template in order:
            template.refresh_from_db()
            if sorted(template.release_types or []) != sorted(targets[template.slug]):
                self.call(
                    ("checklists", "release_types"),
                    template_update,
                    template=template,
                    actor=self.actor,
                    release_types=targets[template.slug],
                )

    def secret_names(self) -> None:
        wanted = self.desired.variables
        SecretName.objects.filter(project=self.project).exclude(key__in=list(wanted)).delete()
        for key, variable in wanted.items():
            SecretName.objects.update_or_create(
                project=self.project, key=key, defaults={"variable": variable}
            )


@transaction.atomic
def config_apply(
    *,
    project: Project,
    user: Caller,
    text: str,
    secrets: dict[str, str] | None = None,
    expect: str | None = None,
) -> Plan:
    """Make the project's configuration what ``text`` says, in one transaction.

    Callers: project admins, staff, ``config`` tokens (acting for their
    creator). Every change goes through its own service (and its audit
    event); when anything changed, ``config.applied`` records the file's
    SHA-256 and the list of changes. ``expect``: the fingerprint a plan
    returned; a server that changed since answers ``StalePlan`` (409).
    Raises ``ConfigInvalid`` (nothing applied) for any problem.
    """
    actor = config_write_actor(user=user, project=project)
    project = Project.objects.select_for_update().get(pk=project.pk)
    current, desired, document = plan_prepare(
        project=project, text=text, secrets=secrets or {}, applying=True
    )
    before = current.fingerprint()
    if expect and expect != before:
        raise StalePlan(expected=expect, actual=before)
    sha256 = file_sha256(text)
    changes = diff(current, desired)
    if not changes:
        if desired.variables != current.variables:
            _Run(
                project=project, actor=actor, document=document, current=current, desired=desired
            ).secret_names()
        return Plan(sha256=sha256, fingerprint=before, changes=[])
    run = _Run(project=project, actor=actor, document=document, current=current, desired=desired)
    run.project_fields()
    environments = run.environments()
    if not run.problems:
        run.grants()
        run.approvals(environments)
        run.monitoring(environments)
        run.provider_groups()
        run.checklists()
        run.revokes()
    if run.problems:
        raise ConfigInvalid(run.problems, applied=True)
    run.secret_names()
    after = current_state(project).fingerprint()
    audit_record(
        actor=actor,
        action="config.applied",
        obj=project,
        project=project,
        data={
            "sha256": sha256,
            "changes": changes,
            "fingerprint_before": before,
            "fingerprint_after": after,
            "token": cast(TokenPrincipal, user).api_token.prefix if is_token(user) else None,
        },
    )
    return Plan(sha256=sha256, fingerprint=after, changes=changes)
