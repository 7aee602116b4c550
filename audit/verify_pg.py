"""A fast walk of the whole chain on PostgreSQL, for ``audit_verify``.

What the hash covers is canonical JSON: keys sorted, text escaped exactly as
Python's ``json.dumps(..., ensure_ascii=False)`` escapes it. PostgreSQL's
``to_json(text)`` escapes text the same way (the two short-escape the same
five controls, write other controls as lowercase \\u00XX and leave everything
else as is), so the database spells every field except ``data`` into the
payload, on its own core, and streams the rows with COPY while Python only
canonicalises ``data`` (cached: most events share a handful of shapes),
hashes and checks the links. Should the two spellings ever differ for a row,
its hash fails here and the row is checked again field by field in Python
(audit.chain.compute_hash) before anything is reported: a difference in
spelling can cause a second look, never a false "intact".
"""

from __future__ import annotations

import hashlib
import json

from django.db import connection

from audit.chain import (
    GENESIS_HASH,
    Break,
    Walk,
    canonical_json,
    compute_hash,
    compute_project_hash,
)

_TIMESTAMP = "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
# The hashed fields in canonical (sorted) order, split around "data".
_BEFORE_DATA = (("action", "text"), ("actor_id", "int"), ("actor_kind", "text"), ("actor_label", "text"),
                ("created_at", "time"))
_AFTER_DATA = (("from_state", "text"), ("object_id", "text"), ("object_repr", "text"), ("object_type", "text"),
               ("prev_hash", "text"), ("project_id", "int"), ("reason", "text"), ("release_id", "int"),
               ("seq", "int"), ("to_state", "text"))


def _value(name: str, kind: str) -> str:
    if kind == "int":
        return f"coalesce({name}::text, 'null')"
    if kind == "time":
        return f"to_json({_TIMESTAMP})::text"
    return f"to_json({name})::text"


def _spell(fields, *, opening: str, closing: str) -> str:
    parts = [f"'{opening if i == 0 else ','}\"{name}\":' || {_value(name, kind)}" for i, (name, kind) in
             enumerate(fields)]
    return " || ".join(parts) + (f" || '{closing}'" if closing else "")


PREFIX = _spell(_BEFORE_DATA, opening="{", closing=',"data":')
SUFFIX = _spell(_AFTER_DATA, opening=",", closing="}")
# Built from this module's constants only.
QUERY = (
    f"SELECT seq, {PREFIX}, data::text, {SUFFIX}, prev_hash, hash, coalesce(project_id::text, ''), "  # noqa: S608
    "coalesce(project_seq::text, ''), project_prev_hash, project_hash FROM audit_auditevent ORDER BY seq"
)
BACKSLASH = b"\\"


def _unescape(field: bytes) -> bytes:
    # COPY's text format doubles backslashes; JSON text holds no raw tab or newline to undo.
    return field.replace(BACKSLASH * 2, BACKSLASH) if BACKSLASH in field else field


def _second_look(seq: int) -> bool:
    """Does the row at ``seq`` verify when every field is spelled in Python?"""
    from audit.models import AuditEvent

    event = AuditEvent.objects.filter(seq=seq).first()
    return event is not None and compute_hash(event.hashed_fields()) == event.hash


class _Stop(Exception):  # noqa: N818 - a signal, not an error
    """Leaves the COPY block with an exception, so that psycopg cancels the rest of the stream."""


# More rows than this whose database spelling does not hash right, and the
# spellings differ systematically: the caller walks the generic way instead.
MAX_SUSPECTS = 100
FALLBACK = object()


def verify_chain_pg(walk: Walk, cache: dict):
    """Walk every event from seq 1 (``walk.mode`` "all") by the rules of audit.chain.verify_rows.

    Returns the first break, None, or ``FALLBACK`` when the database spells
    too many rows differently from Python (then nothing can be concluded here).
    """
    suspects: list[int] = []
    broken = None
    try:
        with connection.cursor() as cursor, cursor.cursor.copy(f"COPY ({QUERY}) TO STDOUT") as copy:
            broken = _walk(copy, walk, cache, suspects)
            if broken is not None or len(suspects) > MAX_SUSPECTS:
                raise _Stop()
    except _Stop:
        pass
    if len(suspects) > MAX_SUSPECTS:
        return FALLBACK
    # A second look (field by field, in Python) at rows whose hash did not match,
    # now that the stream is closed and the connection free again.
    for seq in suspects:
        if broken is not None and seq >= broken.seq:
            break
        if not _second_look(seq):
            return Break(seq, "the stored hash does not match the event's contents (edited)")
    return broken


def _walk(copy, walk: Walk, cache: dict, suspects: list) -> Break | None:
    heads = walk.heads
    expect_seq, expect_project, met = walk.expect_seq, walk.expect_project, walk.met
    sha = hashlib.sha256
    expected, prev_hash = 1, GENESIS_HASH.encode()
    genesis = GENESIS_HASH
    count = 0
    last_seq = None
    try:
        for block in copy:
            (seq_b, prefix, data_b, suffix, prev_b, hash_b, project_b, pseq_b, pprev_b,
             phash_b) = bytes(block)[:-1].split(b"\t")
            seq = int(seq_b)
            if seq != expected:
                return Break(expected, f"expected sequence number {expected}, found {seq}"
                                       " (a row was deleted, inserted or reordered)")
            if prev_b != prev_hash:
                return Break(seq, "prev_hash does not match the hash of the event before it")
            data = cache.get(data_b)
            if data is None:
                data = canonical_json(json.loads(_unescape(data_b))).encode("utf-8")
                if len(cache) > 50_000:
                    cache.clear()
                cache[data_b] = data
            payload = _unescape(prefix) + data + _unescape(suffix)
            if sha(payload).hexdigest().encode() != hash_b:
                suspects.append(seq)
                if len(suspects) > MAX_SUSPECTS:
                    return None
            if project_b:
                project_id, project_seq = int(project_b), int(pseq_b)
                stored = hash_b.decode()
                project_prev, project_hash = pprev_b.decode(), phash_b.decode()
                if compute_project_hash(project_prev, project_seq, stored) != project_hash:
                    return Break(seq, "the project link of this event does not match its contents (edited)")
                head = heads.get(project_id) or (0, None, genesis)
                if project_seq != head[0] + 1:
                    return Break(seq, f"project {project_id} expected its event number {head[0] + 1}, found "
                                      f"number {project_seq} (an event of the project was deleted, inserted "
                                      "or reordered before this one)")
                if project_prev != head[2]:
                    return Break(seq, "project_prev_hash does not match the project's event before it")
                heads[project_id] = (project_seq, seq, project_hash)
                if expect_project:
                    promised = expect_project.get((project_id, project_seq))
                    if promised is not None:
                        if promised[1] != project_hash or promised[0] != seq:
                            return Break(seq, "this event differs from the one a signed checkpoint vouches for")
                        met.add(("project", project_id, project_seq))
            if expect_seq:
                promised_hash = expect_seq.get(seq)
                if promised_hash is not None:
                    if promised_hash.encode() != hash_b:
                        return Break(seq, "this event differs from the one a signed checkpoint vouches for")
                    met.add(("all", seq))
            count += 1
            last_seq = seq
            prev_hash = hash_b
            expected = seq + 1
    finally:
        walk.count += count
        if count:
            walk.first_seq = walk.first_seq or 1
            walk.last_seq = last_seq
            walk.last_hash = prev_hash.decode()
    return None
