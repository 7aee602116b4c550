"""Verify a long chain on several cores: each process walks one stretch, the parent stitches them.

Every event stores its own hash and the hash it links to, so stretches can be
checked independently: within a stretch each hash is recomputed and every
link followed (audit.chain.verify_rows); at the seams the parent checks that
each stretch's first row links to the previous stretch's last one, and that
every project's first event in a stretch continues that project's chain.
Used by ``audit_verify`` on PostgreSQL for chains of PARALLEL_THRESHOLD events
or more (each process opens its own connection, so it only sees committed rows).
Each process streams its stretch (audit.rows.stream_rows) and so keeps
about one core busy in Python and a third of one in its database backend:
on two cores, two processes are as fast as more (docs/audit.md, Performance).
"""

from __future__ import annotations

import multiprocessing
import os
from contextlib import closing
from typing import cast

from audit.chain import GENESIS_HASH, Break, Walk, verify_rows
from audit.models import AuditEvent
from audit.rows import data_mismatch, first_break, stream_rows

# Below this many events one process is as quick as starting several.
PARALLEL_THRESHOLD = 200_000
MAX_WORKERS = 8  # chosen by core count
MAX_EXPLICIT_WORKERS = 32  # asked for (audit_verify --workers)


def worker_count() -> int:
    return max(1, min(os.cpu_count() or 1, MAX_WORKERS))


def _walk_stretch(args) -> dict:
    """In a worker: walk events ``low..high`` (inclusive) with the promises of the checkpoints."""
    low, high, expect_seq, expect_project, mac_key = args
    walk = Walk(mode="all", expect_seq=expect_seq, expect_project=expect_project)
    queryset = AuditEvent.objects.filter(seq__gte=low, seq__lte=high)
    with closing(stream_rows(queryset, canonical_data=True)) as rows:
        broken = verify_rows(
            rows,
            walk,
            start_seq=low,
            start_prev_hash=GENESIS_HASH if low == 1 else None,
            mac_key=mac_key,
        )
    broken = first_break(broken, data_mismatch(low, high))
    if broken is None and walk.last_seq != high:
        expected = (walk.last_seq or low - 1) + 1
        broken = Break(
            expected, f"expected sequence number {expected}, found none (a row was deleted)"
        )
    return {
        "low": low,
        "broken": (broken.seq, broken.problem) if broken else None,
        "count": walk.count,
        "first_prev_hash": walk.first_prev_hash,
        "last_hash": walk.last_hash,
        "last_seq": walk.last_seq,
        "heads": walk.heads,
        "firsts": walk.firsts,
        "met": walk.met,
    }


def verify_parallel(
    walk: Walk, head_seq: int, workers: int, *, mac_key: bytes | None = None
) -> Break | None:
    """Walk seq 1..head_seq in ``workers`` stretches; fill ``walk`` as a single walk would."""
    from django.db import connections

    if head_seq < 1:
        return None  # nothing to walk
    size = -(-head_seq // workers)
    stretches = [
        (low, min(low + size - 1, head_seq), walk.expect_seq, walk.expect_project, mac_key)
        for low in range(1, head_seq + 1, size)
    ]
    connections.close_all()  # the children must open their own connections, not share ours
    with multiprocessing.get_context("fork").Pool(len(stretches)) as pool:
        results = pool.map(_walk_stretch, stretches)

    breaks = [Break(*r["broken"]) for r in results if r["broken"]]
    previous = None
    heads: dict = {}
    for result in results:
        if (
            previous is not None
            and result["count"]
            and result["first_prev_hash"] != previous["last_hash"]
        ):
            breaks.append(
                Break(result["low"], "prev_hash does not match the hash of the event before it")
            )
        for project_id, (project_seq, project_prev, seq) in result["firsts"].items():
            before = heads.get(project_id, (0, None, GENESIS_HASH))
            if project_seq != before[0] + 1:
                breaks.append(
                    Break(
                        seq,
                        f"project {project_id} expected its event number {before[0] + 1}, found "
                        f"number {project_seq} (an event of the project was deleted, inserted "
                        "or reordered before this one)",
                    )
                )
            elif project_prev != before[2]:
                breaks.append(
                    Break(seq, "project_prev_hash does not match the project's event before it")
                )
        heads.update(result["heads"])
        walk.met |= result["met"]
        walk.count += result["count"]
        previous = result
    walk.heads.update(heads)
    walk.first_seq = 1 if walk.count else None
    last = next((r for r in reversed(results) if r["count"]), None)
    walk.last_seq = last["last_seq"] if last else None
    walk.last_hash = last["last_hash"] if last else None
    if breaks:
        # Every stretch starts at a known sequence number, so each break names one.
        first = min(breaks, key=lambda b: cast(int, b.seq))
        walk.count = cast(int, first.seq) - 1  # verified before it, as a single walk counts
        return first
    return None
