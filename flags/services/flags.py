"""Writes of flags, SDK keys and an environment's external flag system.

Each service checks the caller's right, locks what it changes, writes its
audit event (before/after) in the same transaction and forgets the cached
flag set of the environment on commit, so the next evaluation reads the change.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import audit_record
from core.exceptions import NotFound, ValidationFailed
from core.oncommit import after_commit
from flags.choices import FlagSource, Stickiness
from flags.keys import key_generate
from flags.models import Flag, FlagSystem, SdkKey
from flags.permissions import can_edit_flags, can_manage_keys
from flags.selectors import flag_set_cache_key, sdk_key_cache_key
from projects.choices import Role, TokenScope
from projects.models import Environment
from projects.permissions import can_view_project, role_refusal

KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,99}$")
MAX_BETA_TESTERS = 500


def flag_cache_forget(environment_id: int) -> None:
    """Forget an environment's cached flag set now and again once the change commits.

    The second delete drops what a reader may have cached from the old rows
    between the two moments.
    """
    cache.delete(flag_set_cache_key(environment_id))
    after_commit(cache.delete, flag_set_cache_key(environment_id))


def flag_authorize(actor: Any, environment: Environment) -> None:
    """Raise unless ``actor`` may change flags of ``environment`` (404 when unseen, 403 without the role)."""
    if not can_view_project(actor, environment.project_id):
        raise NotFound("No such environment.")
    if not can_edit_flags(actor, environment.project_id):
        raise role_refusal(
            Role.RELEASE_MANAGER,
            Role.ENGINEER,
            Role.ADMIN,
            to="change feature flags in this project",
            token_scope=TokenScope.DEPLOYMENTS,
        )


def keys_authorize(actor: Any, environment: Environment) -> None:
    if not can_view_project(actor, environment.project_id):
        raise NotFound("No such environment.")
    if not can_manage_keys(actor, environment.project_id):
        raise role_refusal(Role.ADMIN, to="manage SDK keys and flag systems of this project")


def _snapshot(flag: Flag) -> dict[str, Any]:
    return {
        "enabled": flag.enabled,
        "rollout": flag.rollout,
        "stickiness": flag.stickiness,
        "group_id": flag.group_id,
        "beta_testers": list(flag.beta_testers or []),
        "description": flag.description,
    }


def _clean(data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """Check the editable fields of a flag; ValidationFailed names each bad one."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    if "rollout" in data or not partial:
        value = data.get("rollout", 0)
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
            errors["rollout"] = "A whole percentage from 0 to 100."
        else:
            clean["rollout"] = value
    if "enabled" in data:
        if not isinstance(data["enabled"], bool):
            errors["enabled"] = "true or false."
        else:
            clean["enabled"] = data["enabled"]
    if "stickiness" in data:
        if data["stickiness"] not in Stickiness.values:
            errors["stickiness"] = "userId or sessionId."
        else:
            clean["stickiness"] = data["stickiness"]
    if "group_id" in data:
        group = data["group_id"] if data["group_id"] is not None else ""
        if not isinstance(group, str) or len(group) > 100 or ":" in group:
            errors["group_id"] = "Up to 100 characters, without ':' (blank: the flag's key)."
        else:
            clean["group_id"] = group.strip()
    if "description" in data:
        text = data["description"] if data["description"] is not None else ""
        if not isinstance(text, str) or len(text) > 300:
            errors["description"] = "Up to 300 characters."
        else:
            clean["description"] = text.strip()
    if "beta_testers" in data:
        raw = data["beta_testers"]
        if isinstance(raw, str):
            raw = [part for part in re.split(r"[\s,]+", raw) if part]
        if (
            not isinstance(raw, list)
            or len(raw) > MAX_BETA_TESTERS
            or not all(isinstance(u, str) and 0 < len(u) <= 200 for u in raw)
        ):
            errors["beta_testers"] = (
                f"A list of up to {MAX_BETA_TESTERS} user ids (each up to 200 characters)."
            )
        else:
            clean["beta_testers"] = list(dict.fromkeys(u.strip() for u in raw))
    if errors:
        raise ValidationFailed(
            "The flag was not saved: " + "; ".join(f"{k}: {v}" for k, v in errors.items()),
            details=errors,
        )
    return clean


@transaction.atomic
def flag_create(*, environment: Environment, actor: Any, key: Any, **data: Any) -> Flag:
    """Create a flag in ``environment`` (off, 0 % unless given). Audit: ``flags.flag_created``."""
    flag_authorize(actor, environment)
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        raise ValidationFailed(
            "A flag key is 1 to 100 lowercase letters, digits, '-', '_' or '.', starting with a "
            "letter or digit.",
            details={"key": "e.g. fast-checkout"},
        )
    clean = _clean(data, partial=False)
    try:
        with transaction.atomic():
            flag = Flag.objects.create(
                project_id=environment.project_id, environment=environment, key=key, **clean
            )
    except IntegrityError:
        raise ValidationFailed(
            f"{environment.name} already has a flag '{key}'.", details={"key": "Taken."}
        ) from None
    audit_record(
        actor=actor,
        action="flags.flag_created",
        obj=flag,
        project=environment.project_id,
        data={"after": _snapshot(flag), "environment": environment.name},
    )
    flag_cache_forget(environment.pk)
    return flag


@transaction.atomic
def flag_update(*, flag: Flag, actor: Any, reason: str = "", **data: Any) -> Flag:
    """Change a flag's switch, rollout, stickiness, group or beta testers. Audit: ``flags.flag_changed``."""
    flag_authorize(actor, flag.environment)
    clean = _clean(data, partial=True)
    locked = Flag.objects.select_for_update().get(pk=flag.pk)
    before = _snapshot(locked)
    for name, value in clean.items():
        setattr(locked, name, value)
    after = _snapshot(locked)
    if before == after:
        return locked
    locked.save()
    audit_record(
        actor=actor,
        action="flags.flag_changed",
        obj=locked,
        project=locked.project_id,
        reason=reason,
        data={"before": before, "after": after, "environment": flag.environment.name},
    )
    flag_cache_forget(locked.environment_id)
    return locked


def flag_set_rollout(
    *, flag: Flag, percent: int, actor: Any, reason: str, plan: Any = None
) -> Flag:
    """Set a flag's percentage for a rollout plan (inside the plan's transaction; no right check:
    the plan's service checked its caller). Audit: ``flags.flag_changed``."""
    locked = Flag.objects.select_for_update().get(pk=flag.pk)
    before = _snapshot(locked)
    locked.rollout = percent
    if percent > 0:
        locked.enabled = True
    locked.save()
    audit_record(
        actor=actor,
        action="flags.flag_changed",
        obj=locked,
        project=locked.project_id,
        release=getattr(plan, "release_id", None),
        reason=reason,
        data={
            "before": before,
            "after": _snapshot(locked),
            "environment": flag.environment.name,
            "plan": getattr(plan, "pk", None),
        },
    )
    flag_cache_forget(locked.environment_id)
    return locked


@transaction.atomic
def sdk_key_create(*, environment: Environment, actor: Any, name: Any) -> tuple[SdkKey, str]:
    """Create an SDK key for ``environment``; the key is returned once. Audit: ``flags.sdk_key_created``."""
    keys_authorize(actor, environment)
    if not isinstance(name, str) or not name.strip() or len(name) > 80:
        raise ValidationFailed("Name the key (up to 80 characters).", details={"name": "Required."})
    raw, prefix, hashed = key_generate()
    row = SdkKey.objects.create(
        environment=environment, name=name.strip(), prefix=prefix, key_hash=hashed, created_by=actor
    )
    audit_record(
        actor=actor,
        action="flags.sdk_key_created",
        obj=row,
        project=environment.project_id,
        data={"environment": environment.name, "prefix": prefix},
    )
    return row, raw


@transaction.atomic
def sdk_key_revoke(*, key: SdkKey, actor: Any) -> SdkKey:
    """Revoke an SDK key at once (its cached owner is forgotten). Audit: ``flags.sdk_key_revoked``."""
    keys_authorize(actor, key.environment)
    locked = SdkKey.objects.select_for_update().get(pk=key.pk)
    if locked.revoked_at is not None:
        return locked
    locked.revoked_at = timezone.now()
    locked.save(update_fields=["revoked_at"])
    audit_record(
        actor=actor,
        action="flags.sdk_key_revoked",
        obj=locked,
        project=key.environment.project_id,
        data={"environment": key.environment.name, "prefix": locked.prefix},
    )
    hashed = locked.key_hash
    cache.delete(sdk_key_cache_key(hashed))
    after_commit(cache.delete, sdk_key_cache_key(hashed))
    return locked


@transaction.atomic
def flag_system_set(
    *,
    environment: Environment,
    actor: Any,
    base_url: Any,
    token: Any = None,
    unleash_project: Any = "default",
    unleash_environment: Any = None,
) -> FlagSystem:
    """Configure the environment's Unleash (Admin API URL and token). Audit: ``flags.system_set``.

    A blank ``token`` keeps the stored one; the token is never shown or audited.
    """
    keys_authorize(actor, environment)
    errors = {}
    if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
        errors["base_url"] = "An http(s) URL, e.g. https://unleash.example.com"
    if not isinstance(unleash_project, str) or not unleash_project.strip():
        errors["unleash_project"] = "The Unleash project (usually 'default')."
    if unleash_environment is not None and (
        not isinstance(unleash_environment, str) or not unleash_environment.strip()
    ):
        errors["unleash_environment"] = "The environment's name in Unleash."
    if token is not None and not isinstance(token, str):
        errors["token"] = "A text token."  # noqa: S105 - an error message, not a secret
    if errors:
        raise ValidationFailed("The flag system was not saved.", details=errors)
    system = FlagSystem.objects.select_for_update().filter(environment=environment).first()
    before = None
    if system is None:
        system = FlagSystem(environment=environment, kind=FlagSource.UNLEASH)
    else:
        before = {"base_url": system.base_url, "unleash_project": system.unleash_project}
    system.base_url = base_url.rstrip("/")
    system.unleash_project = unleash_project.strip()
    system.unleash_environment = (unleash_environment or environment.name).strip()
    if token:
        system.token = token.strip()
    system.save()
    audit_record(
        actor=actor,
        action="flags.system_set",
        obj=system,
        project=environment.project_id,
        data={
            "before": before,
            "after": {"base_url": system.base_url, "unleash_project": system.unleash_project},
            "environment": environment.name,
            "token_set": bool(system.token),
        },
    )
    return system
