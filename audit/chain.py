"""The hash chain, free of Django so an export can be verified offline.

Each event's hash is SHA-256 over the canonical JSON of its fields plus the
previous event's hash. Canonical JSON: keys sorted, no whitespace, UTF-8.

Besides the global chain, every event of a project links to the project's
previous event (``project_seq``, ``project_prev_hash``, ``project_hash``), and
signed checkpoints anchor the heads of both outside the database. The offline
verifier (``python -m audit.offline_verify``) imports only this module.

Size: one module of about 600 lines, because this file and offline_verify.py are all an
auditor copies to check an export on a machine without Shipcheck (docs/audit.md,
"Offline"), so everything a verifier needs (hashing, MACs, the walk, checkpoint
and seal signatures) stays here, free of Django, rather than in several files
the auditor must collect.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from json.encoder import encode_basestring as _encode_str  # the C encoder json.dumps itself uses
from typing import Any, cast

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


# --- Per-project chain -------------------------------------------------------
# Every event of a project also links to that project's previous event, so an
# export narrowed to one project (all an auditor of that project may see) can
# still prove that no row is missing without revealing other projects' rows.

# The columns of an exported event: the hashed fields, the hash, then the
# project link. ``verify_rows`` takes tuples in this order.
LINK_FIELDS = ("project_seq", "project_prev_hash", "project_hash")
ROW_FIELDS = (*HASHED_FIELDS, "hash", *LINK_FIELDS, "mac")
_I = {name: index for index, name in enumerate(ROW_FIELDS)}


def compute_project_hash(project_prev_hash: str, project_seq: int, event_hash_value: str) -> str:
    payload = f"{project_prev_hash}:{project_seq}:{event_hash_value}"
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


# --- Event MACs -------------------------------------------------------------------
# A hash chain proves consistency, not authorship: whoever can write the table
# can append a row with a correctly computed hash. So every event also carries
# ``mac``, an HMAC-SHA256 made with a key derived from the application's
# signing key (SHIPCHECK_AUDIT_SIGNING_KEY, in the environment, never in the
# database) over ``"<hash>:<project_hash>"`` (``project_hash`` is empty for an
# event without a project). ``hash`` covers every hashed field and
# ``prev_hash``, ``project_hash`` covers the project link, so the MAC covers
# them all; a row written or rewritten without the key is named at its seq.

MAC_KEY_LABEL = b"shipcheck-audit-event-mac"


def event_mac_key(signing_key: bytes) -> bytes:
    """The key event MACs are made with: HMAC-SHA256(signing key, "shipcheck-audit-event-mac")."""
    return hmac.new(signing_key, MAC_KEY_LABEL, hashlib.sha256).digest()


def mac_message(event_hash_value: str, project_hash_value: str | None) -> bytes:
    return f"{event_hash_value}:{project_hash_value or ''}".encode()


def event_mac(mac_key: bytes, event_hash_value: str, project_hash_value: str | None) -> str:
    return hmac.new(
        mac_key, mac_message(event_hash_value, project_hash_value), hashlib.sha256
    ).hexdigest()


def _mac_pads(mac_key: bytes):
    """HMAC-SHA256's inner and outer states for ``mac_key``, to copy per event (twice as fast)."""
    block = mac_key.ljust(64, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))
    return inner, outer


# --- Fast hashing ----------------------------------------------------------------
# ``row_hash`` yields the digest ``compute_hash`` yields without building a dict
# and sorting its keys per event; verification walks millions of events, and
# its loop (``_walk_rows``) writes the same spelling inline. Both are held byte
# for byte to ``compute_hash`` on awkward values by tests/audit/test_verify_spelling.py.


def _encode(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return _encode_str(value)
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    return canonical_json(value)


def _row_payload(row: tuple, data_json: str, e, n) -> str:
    (
        seq,
        created_at,
        actor_kind,
        actor_id,
        actor_label,
        action,
        object_type,
        object_id,
        object_repr,
        project_id,
        release_id,
        from_state,
        to_state,
        reason,
        _data,
        prev_hash,
    ) = row[:16]
    return (
        f'{{"action":{e(action)},"actor_id":{n(actor_id)},"actor_kind":{e(actor_kind)}'
        f',"actor_label":{e(actor_label)},"created_at":{e(created_at)},"data":{data_json}'
        f',"from_state":{e(from_state)},"object_id":{e(object_id)},"object_repr":{e(object_repr)}'
        f',"object_type":{e(object_type)},"prev_hash":{e(prev_hash)},"project_id":{n(project_id)}'
        f',"reason":{e(reason)},"release_id":{n(release_id)},"seq":{n(seq)},"to_state":{e(to_state)}}}'
    )


def row_payload(row: tuple, data_json: str) -> str:
    """The canonical JSON an event's hash covers; ``data_json`` is ``canonical_json(data)``."""
    try:
        # Text columns hold text: encode them directly (TypeError if not).
        return _row_payload(row, data_json, _encode_str, _encode)
    except TypeError:
        return _row_payload(row, data_json, _encode, _encode)


def row_hash(row: tuple, data_json: str) -> str:
    return hashlib.sha256(row_payload(row, data_json).encode("utf-8")).hexdigest()


# --- Walking a chain ---------------------------------------------------------------


@dataclass
class Walk:
    """What a walk has seen: counts, the last event, each project's head.

    ``mode``: ``all`` (a contiguous run of the whole chain), ``project`` (all
    events of the projects in ``project_ids``: each project's chain must be
    contiguous) or ``selection`` (a filtered choice of events: each is checked
    on its own and for order, but absent rows between them cannot be noticed).
    """

    mode: str = "all"
    project_ids: frozenset | None = None
    count: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    last_hash: str | None = None
    # project_id -> (project_seq, seq, project_hash) of the last event seen
    # (or, before the walk, of the event just before the exported run).
    heads: dict = field(default_factory=dict)
    # Promises to keep: {seq: hash} and {(project_id, project_seq): (seq, project_hash)}.
    expect_seq: dict = field(default_factory=dict)
    expect_project: dict = field(default_factory=dict)
    met: set = field(default_factory=set)
    # For a walk over one stretch of a longer chain (parallel verification): what
    # its first row links back to, and where each project first shows up in it.
    first_prev_hash: str | None = None
    firsts: dict = field(default_factory=dict)


def verify_rows(
    rows: Iterable[tuple],
    walk: Walk,
    *,
    start_seq: int | None = None,
    start_prev_hash: str | None = None,
    data_cache: dict | None = None,
    mac_key: bytes | None = None,
) -> Break | None:
    """Check ``rows`` (tuples in ``ROW_FIELDS`` order) in order.

    ``mac_key`` (``event_mac_key(signing key)``): every row's ``mac`` must match;
    None leaves MACs unchecked (a verifier without the key).

    ``data`` is canonical JSON text, or, with ``data_cache``, the database's own
    JSON text, canonicalised here through that cache (events share few shapes).
    May be called again with the next rows of the same walk. ``start_seq`` and
    ``start_prev_hash`` say where a run of the whole chain must begin (1 and
    the genesis hash for the full chain; None: wherever the first row says).
    Returns the first break or None; the walk records what was seen.
    """
    expected_seq: int | None
    prev_hash: str | None
    if walk.count:
        # A walk that counted rows has seen a last one.
        expected_seq, prev_hash = cast(int, walk.last_seq) + 1, walk.last_hash
    else:
        expected_seq, prev_hash = start_seq, start_prev_hash
    # The counters live in locals while walking (it is the hot loop of audit_verify).
    state: dict[str, Any] = {
        "count": 0,
        "last_seq": walk.last_seq,
        "last_hash": walk.last_hash,
        "first": None,
    }
    try:
        return _walk_rows(
            rows, walk, expected_seq, prev_hash, start_seq, data_cache, state, mac_key
        )
    finally:
        if state["count"]:
            walk.count += state["count"]
            walk.last_seq, walk.last_hash = state["last_seq"], state["last_hash"]
            if walk.first_seq is None:
                walk.first_seq, walk.first_prev_hash = state["first"]


def _walk_rows(
    rows, walk: Walk, expected_seq, prev_hash, start_seq, data_cache, state, mac_key=None
) -> Break | None:
    """The hot loop of verification: every check of every row, first break returned.

    Per event: one canonical spelling, two SHA-256 digests and a few dictionary
    steps, all in locals (about 3 µs of the 4 µs audit_verify spends per event in
    Python; docs/audit.md, Performance). The spelling is written inline for the
    usual types and through ``_row_payload`` for anything else.
    """
    mode = walk.mode
    heads = walk.heads
    expect_seq = walk.expect_seq
    expect_project = walk.expect_project
    allowed = walk.project_ids
    # Whose chains are known to start at position 1 (no earlier events exist).
    from_genesis = mode == "project" or (mode == "all" and (walk.first_seq or start_seq) == 1)
    check_links = mode == "all"
    selection = mode == "selection"
    last_seq = state["last_seq"]
    # ``prev_hash`` is plain hex when it is the genesis hash or a stored hash that
    # matched a computed digest; a row linking to it then spells it without escaping.
    prev_is_hex = prev_hash == GENESIS_HASH
    count = 0
    first = None
    sha = hashlib.sha256
    e = _encode_str
    encode = _encode
    loads = json.loads
    int_ = int
    if mac_key is not None:
        mac_inner, mac_outer = _mac_pads(mac_key)
    try:
        for row in rows:
            (
                seq,
                created_at,
                actor_kind,
                actor_id,
                actor_label,
                action,
                object_type,
                object_id,
                object_repr,
                project_id,
                release_id,
                from_state,
                to_state,
                reason,
                data,
                row_prev,
                stored,
                project_seq,
                project_prev,
                project_hash,
                mac,
            ) = row
            if type(seq) is not int_:
                return Break(expected_seq, f"a row has no valid sequence number ({seq!r})")
            if check_links:
                if expected_seq is not None and seq != expected_seq:
                    return Break(
                        expected_seq,
                        f"expected sequence number {expected_seq}, found {seq}"
                        " (a row was deleted, inserted or reordered)",
                    )
                if prev_hash is not None and row_prev != prev_hash:
                    return Break(seq, "prev_hash does not match the hash of the event before it")
            elif last_seq is not None and seq <= last_seq:
                return Break(
                    seq,
                    f"sequence number {seq} comes after {last_seq} (rows reordered or repeated)",
                )
            if data_cache is not None:
                text = data
                data = data_cache.get(text)
                if data is None:
                    data = canonical_json(loads(text))
                    if len(data_cache) > 50_000:
                        data_cache.clear()
                    data_cache[text] = data
            try:
                if not (
                    (actor_id is None or type(actor_id) is int_)
                    and (project_id is None or type(project_id) is int_)
                    and (release_id is None or type(release_id) is int_)
                ):
                    raise TypeError("not the usual types")
                # The usual types (integers and None where numbers belong, ``e`` refuses anything but text):
                # the canonical spelling written out.
                payload = (
                    f'{{"action":{e(action)},"actor_id":{"null" if actor_id is None else actor_id}'
                    f',"actor_kind":{e(actor_kind)},"actor_label":{e(actor_label)},"created_at":{e(created_at)}'
                    f',"data":{data},"from_state":{e(from_state)},"object_id":{e(object_id)}'
                    f',"object_repr":{e(object_repr)},"object_type":{e(object_type)}'
                    f',"prev_hash":"{row_prev if check_links and prev_is_hex else e(row_prev)[1:-1]}"'
                    f',"project_id":{"null" if project_id is None else project_id},"reason":{e(reason)}'
                    f',"release_id":{"null" if release_id is None else release_id},"seq":{seq}'
                    f',"to_state":{e(to_state)}}}'
                )
            except TypeError:  # a value of an unusual type: spell it the general way
                payload = _row_payload(row, data, encode, encode)
            if sha(payload.encode()).hexdigest() != stored:
                return Break(seq, "the stored hash does not match the event's contents (edited)")
            if project_id is not None:
                if allowed is not None and project_id not in allowed:
                    return Break(
                        seq, f"an event of project {project_id}, which this export does not cover"
                    )
                if (
                    type(project_seq) is not int_
                    or type(project_prev) is not str
                    or sha(f"{project_prev}:{project_seq}:{stored}".encode()).hexdigest()
                    != project_hash
                ):
                    return Break(
                        seq, "the project link of this event does not match its contents (edited)"
                    )
                head = heads.get(project_id)
                if head is None:
                    if from_genesis:
                        head = (0, None, GENESIS_HASH)
                    else:
                        walk.firsts[project_id] = (project_seq, project_prev, seq)
                if head is not None:
                    if selection:
                        if project_seq <= head[0]:
                            return Break(
                                seq,
                                f"project position {project_seq} comes after {head[0]} "
                                "(rows reordered)",
                            )
                    elif project_seq != head[0] + 1:
                        return Break(
                            seq,
                            f"project {project_id} expected its event number {head[0] + 1}, "
                            f"found number {project_seq} (an event of the project was deleted, "
                            "inserted or reordered before this one)",
                        )
                    elif project_prev != head[2]:
                        return Break(
                            seq, "project_prev_hash does not match the project's event before it"
                        )
                heads[project_id] = (project_seq, seq, project_hash)
                if expect_project:
                    promised = expect_project.get((project_id, project_seq))
                    if promised is not None:
                        if promised[1] != project_hash or promised[0] != seq:
                            return Break(
                                seq,
                                "this event differs from the one a signed checkpoint vouches for",
                            )
                        walk.met.add(("project", project_id, project_seq))
            elif mode == "project":
                return Break(seq, "an event without a project in a project export")
            if mac_key is not None:
                inner = mac_inner.copy()
                inner.update(f"{stored}:{project_hash or ''}".encode())
                outer = mac_outer.copy()
                outer.update(inner.digest())
                if outer.hexdigest() != mac:
                    return Break(
                        seq,
                        "the event's MAC does not match: it was not written by Shipcheck with the "
                        "application's key (forged, or rewritten after it was written)",
                    )
            if expect_seq:
                promised_hash = expect_seq.get(seq)
                if promised_hash is not None:
                    if promised_hash != stored:
                        return Break(
                            seq, "this event differs from the one a signed checkpoint vouches for"
                        )
                    walk.met.add(("all", seq))
            if first is None:
                first = (seq, row_prev)
            count += 1
            last_seq = seq
            prev_hash = stored
            prev_is_hex = True  # it matched a digest
            expected_seq = seq + 1
    finally:
        state["count"] = count
        state["first"] = first
        state["last_seq"] = last_seq
        state["last_hash"] = prev_hash if count else state["last_hash"]
    return None


def unmet_promises(walk: Walk) -> Break | None:
    """After a walk: a checkpoint vouches for an event the walk never reached (a truncated tail).

    A selection leaves rows out on purpose, so only the rows it holds are held to checkpoints.
    """
    if walk.mode == "selection":
        return None
    for seq in sorted(walk.expect_seq):
        if ("all", seq) not in walk.met and (walk.last_seq is None or seq > walk.last_seq):
            first_missing = (walk.last_seq or 0) + 1
            return Break(
                first_missing,
                f"the chain ends at sequence number {walk.last_seq or 0} but a signed "
                f"checkpoint vouches for events up to {seq} (the tail was cut off)",
            )
    for (project_id, project_seq), (seq, _hash) in sorted(walk.expect_project.items()):
        if ("project", project_id, project_seq) in walk.met:
            continue
        head = walk.heads.get(project_id)
        if head is None or head[0] < project_seq:
            reached = head[0] if head else 0
            return Break(
                seq,
                f"project {project_id}'s chain ends at position {reached} but a signed "
                f"checkpoint vouches for position {project_seq}, sequence number {seq} "
                "(the tail was cut off)",
            )
    return None


# --- Signed checkpoints --------------------------------------------------------------
# A checkpoint states "the chain (or one project's chain) had this head at
# this time", signed with HMAC-SHA256 under a key that only the application's
# environment holds. Whoever can rewrite the database cannot forge one, so a
# rewritten or truncated chain stops matching the latest checkpoint.

STATEMENT_FIELDS = ("scope", "seq", "hash", "project_seq", "created_at", "key_id")


def key_id(key: bytes) -> str:
    """A short fingerprint naming the key, so a verifier can tell a wrong key from tampering."""
    return hashlib.sha256(b"shipcheck-audit-key-id:" + key).hexdigest()[:16]


def statement_payload(statement: dict[str, Any]) -> str:
    return canonical_json({name: statement.get(name) for name in STATEMENT_FIELDS})


def statement_sign(statement: dict[str, Any], key: bytes) -> str:
    return hmac.new(key, statement_payload(statement).encode("utf-8"), hashlib.sha256).hexdigest()


def statement_valid(statement: dict[str, Any], key: bytes) -> bool:
    signature = statement.get("signature")
    if not isinstance(signature, str):
        return False
    return hmac.compare_digest(statement_sign(statement, key), signature)


def head_hash(statement: dict[str, Any]) -> str | None:
    """The head a statement vouches for (``head_hash``; ``hash`` in statements before format 2)."""
    return statement.get("head_hash") or statement.get("hash")


def promise(walk: Walk, statement: dict[str, Any]) -> None:
    """Make the walk hold the chain to a checkpoint statement."""
    if statement.get("scope") == "all":
        walk.expect_seq[statement["seq"]] = head_hash(statement)
    else:
        project_id = int(str(statement["scope"]).removeprefix("project:"))
        walk.expect_project[(project_id, statement["project_seq"])] = (
            statement["seq"],
            head_hash(statement),
        )


# --- Ed25519 checkpoint signatures -------------------------------------------------
# HMAC proves a statement to whoever holds the key, and whoever holds it can
# sign. From format 2 on every checkpoint also carries an Ed25519 signature:
# the application signs with a private key only its environment holds; an
# auditor verifies with the public key (``manage.py audit_checkpoint
# --public-key``) and cannot sign. Needs the ``cryptography`` package.

STATEMENT_FORMAT = 2
ED25519_FIELDS = (
    "format",
    "scope",
    "seq",
    "project_seq",
    "head_hash",
    "created_at",
    "public_key_id",
)


def public_key_id(public_key: bytes) -> str:
    """A short fingerprint of a raw 32-byte Ed25519 public key."""
    return hashlib.sha256(b"shipcheck-audit-public-key-id:" + public_key).hexdigest()[:16]


def ed25519_payload(statement: dict[str, Any]) -> bytes:
    return canonical_json({name: statement.get(name) for name in ED25519_FIELDS}).encode("utf-8")


def ed25519_valid(statement: dict[str, Any], public_key: bytes) -> bool:
    """Whether the statement's ``ed25519_signature`` (hex) verifies under ``public_key`` (raw)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    signature = statement.get("ed25519_signature")
    if not isinstance(signature, str) or statement.get("public_key_id") != public_key_id(
        public_key
    ):
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            bytes.fromhex(signature), ed25519_payload(statement)
        )
    except (InvalidSignature, ValueError):
        return False
    return True


# An export's seal: signed when the export is written, never stored.
SEAL_FIELDS = (
    "kind",
    "scope",
    "rows",
    "first_seq",
    "last_seq",
    "last_hash",
    "header_sha256",
    "generated_at",
    "key_id",
)


def seal_sign(seal: dict[str, Any], key: bytes) -> str:
    payload = canonical_json({name: seal.get(name) for name in SEAL_FIELDS})
    return hmac.new(key, payload.encode("utf-8"), hashlib.sha256).hexdigest()


def seal_valid(seal: dict[str, Any], key: bytes) -> bool:
    signature = seal.get("signature")
    return isinstance(signature, str) and hmac.compare_digest(seal_sign(seal, key), signature)
