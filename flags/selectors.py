"""Reads of the flags app: the cached flag set of an environment, SDK keys, plans of a release.

Evaluation never waits for a worker and, once cached, never touches the
database: the environment of an SDK key and the environment's whole flag set
are kept in Django's cache; every change of a flag or key deletes the entries
(``flags.services.flags.flag_cache_forget``, on commit).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db.models import Prefetch, QuerySet

from flags.bucketing import FlagRule
from flags.choices import StepStatus
from flags.keys import key_hash, key_prefix
from flags.models import Flag, RolloutPlan, RolloutStep, SdkKey
from projects.selectors import project_list

# Entries expire on their own too, so a lost invalidation heals within this time.
CACHE_SECONDS = 300


def flag_set_cache_key(environment_id: int) -> str:
    return f"flags:set:{environment_id}"


def sdk_key_cache_key(hashed: str) -> str:
    return f"flags:sdk:{hashed}"


@dataclass(frozen=True)
class FlagSet:
    environment_id: int
    environment_name: str
    rules: dict[str, FlagRule]
    etag: str


def _rule(flag: Flag) -> FlagRule:
    return FlagRule(
        key=flag.key,
        enabled=flag.enabled,
        rollout=flag.rollout,
        stickiness=flag.stickiness,
        group_id=flag.effective_group_id,
        beta_testers=frozenset(flag.beta_testers or ()),
    )


def flag_set_for(environment_id: int, environment_name: str = "") -> FlagSet:
    """Every flag of an environment, from the cache when it is there (then no query)."""
    cached = cache.get(flag_set_cache_key(environment_id))
    if cached is not None:
        return cached  # the cache holds the FlagSet stored below
    rules = {f.key: _rule(f) for f in Flag.objects.filter(environment_id=environment_id)}
    digest = hashlib.sha256(
        json.dumps(
            [
                [r.key, r.enabled, r.rollout, r.stickiness, r.group_id, sorted(r.beta_testers)]
                for r in sorted(rules.values(), key=lambda r: r.key)
            ]
        ).encode()
    ).hexdigest()[:32]
    flag_set = FlagSet(environment_id, environment_name, rules, f'"{digest}"')
    cache.set(flag_set_cache_key(environment_id), flag_set, CACHE_SECONDS)
    return flag_set


@dataclass(frozen=True)
class KeyOwner:
    environment_id: int
    environment_name: str
    project_id: int


def sdk_key_owner(raw: str) -> KeyOwner | None:
    """The environment an SDK key reads, or None for an unknown or revoked key."""
    if key_prefix(raw) is None:
        return None
    hashed = key_hash(raw)
    cached = cache.get(sdk_key_cache_key(hashed))
    if cached is not None:
        return cached  # the KeyOwner stored below
    row = (
        SdkKey.objects.select_related("environment")
        .filter(prefix=key_prefix(raw), revoked_at__isnull=True)
        .first()
    )
    if row is None or not hmac.compare_digest(row.key_hash, hashed):
        return None
    owner = KeyOwner(row.environment_id, row.environment.name, row.environment.project_id)
    cache.set(sdk_key_cache_key(hashed), owner, CACHE_SECONDS)
    return owner


def environment_flags(environment: Any) -> QuerySet[Flag]:
    return Flag.objects.filter(environment=environment).order_by("key")


def environment_keys(environment: Any) -> QuerySet[SdkKey]:
    return SdkKey.objects.filter(environment=environment).select_related("created_by")


def release_plans(release: Any) -> list[RolloutPlan]:
    """The plans of a release with their steps: two queries whatever their number."""
    return list(
        RolloutPlan.objects.filter(release=release)
        .select_related("environment", "flag")
        .prefetch_related(Prefetch("steps", queryset=RolloutStep.objects.order_by("position")))
        .order_by("created_at", "id")
    )


def watched_steps(*, user: Any, limit: int = 50) -> list[RolloutStep]:
    """Rollout steps being watched now, in projects ``user`` may see, the soonest to end first
    (plan, release, project and environment joined: one query)."""
    return list(
        RolloutStep.objects.filter(
            status=StepStatus.WATCHING, plan__release__project__in=project_list(user=user)
        )
        .select_related("plan__release__project", "plan__environment")
        .order_by("ends_at", "id")[:limit]
    )
