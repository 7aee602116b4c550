"""The hash chain, free of Django so an export can be verified offline.

Each event's hash is SHA-256 over the canonical JSON of its fields plus the
previous event's hash. Canonical JSON: keys sorted, no whitespace, UTF-8.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

GENESIS_HASH = "0" * 64

# The fields that the hash covers, in the export's column order.
HASHED_FIELDS = (
    "seq",
    "created_at",
    "actor_kind",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "project_id",
    "release_id",
    "from_state",
    "to_state",
    "reason",
    "data",
    "prev_hash",
)


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def compute_hash(fields: dict[str, Any]) -> str:
    payload = {name: fields.get(name) for name in HASHED_FIELDS}
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Break:
    seq: int | None
    problem: str

    def __str__(self) -> str:
        where = f"sequence number {self.seq}" if self.seq is not None else "the end of the chain"
        return f"chain broken at {where}: {self.problem}"


def verify_events(events: Iterable[dict[str, Any]], *, start_seq: int = 1,
                  start_prev_hash: str = GENESIS_HASH) -> tuple[int, Break | None]:
    """Walk events in order; return (how many verified, the first break or None)."""
    expected_seq = start_seq
    prev_hash = start_prev_hash
    count = 0
    for event in events:
        seq = event.get("seq")
        if seq != expected_seq:
            problem = (f"expected sequence number {expected_seq}, found {seq}"
                       " (a row was deleted, inserted or reordered)")
            return count, Break(expected_seq, problem)
        if event.get("prev_hash") != prev_hash:
            return count, Break(seq, "prev_hash does not match the hash of the event before it")
        if compute_hash(event) != event.get("hash"):
            return count, Break(seq, "the stored hash does not match the event's contents (edited)")
        prev_hash = event["hash"]
        expected_seq += 1
        count += 1
    return count, None
