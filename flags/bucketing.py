"""Unleash's gradual-rollout bucketing, so Shipcheck and every Unleash SDK agree on each user.

A user's bucket is MurmurHash3 (x86, 32 bit, seed 0) of ``"{groupId}:{userId}"``,
read unsigned, ``% 100 + 1``: a number from 1 to 100. The user is in when the
rollout is above 0 and the bucket is at most the rollout, so raising the
percentage only adds users and lowering it only removes them.
"""

from __future__ import annotations

from dataclasses import dataclass

import mmh3

# Unleash's normalisation: buckets 1..100 (its clients' ``normalized_hash``).
BUCKETS = 100


def bucket(group_id: str, identifier: str) -> int:
    return mmh3.hash(f"{group_id}:{identifier}", 0, signed=False) % BUCKETS + 1


@dataclass(frozen=True)
class FlagRule:
    """What evaluation needs of one flag, as plain data (cached, no database)."""

    key: str
    enabled: bool
    rollout: int
    stickiness: str
    group_id: str
    beta_testers: frozenset[str]


@dataclass(frozen=True)
class Outcome:
    value: bool
    reason: str  # OFREP reasons: DISABLED, TARGETING_MATCH, SPLIT


def evaluate(rule: FlagRule, identifier: str | None, user_id: str | None) -> Outcome:
    """The flag's answer for one caller; ``identifier`` is the value of the flag's stickiness."""
    if not rule.enabled:
        return Outcome(False, "DISABLED")
    if user_id is not None and user_id in rule.beta_testers:
        return Outcome(True, "TARGETING_MATCH")
    if identifier is None or rule.rollout <= 0:
        return Outcome(False, "SPLIT" if identifier is not None else "DEFAULT")
    return Outcome(bucket(rule.group_id, identifier) <= rule.rollout, "SPLIT")
