"""Verify a Shipcheck audit export (JSON Lines) without the database or Django.

    python -m audit.offline_verify export.jsonl [--key-file PATH | --key-env NAME]
        [--public-key HEX] [--checkpoints PUBLISHED.jsonl] [--json]

Imports only ``audit.chain`` and the standard library (plus ``cryptography``
for Ed25519 signatures, when ``--public-key`` is given), so it runs from a copy
of the two files (audit/__init__.py may be empty) on any Python 3.11+.

Checks, in order: every event's hash against its contents (edits), its link
to the event before it in the whole chain or in its project's chain
(deletions, insertions, reordering), the signed checkpoints in the header
(the chain must reach and match the heads they vouch for: a cut-off tail),
and the seal on the last line (the file itself was not cut or rewritten).
Every event's MAC and the HMAC signatures need the signing key
(SHIPCHECK_AUDIT_SIGNING_KEY); the Ed25519 signatures of checkpoints need only
the public key (``--public-key``). Without either the chain is still checked,
but nothing is authenticated.

Exit status: 0 verified and anchored; 1 broken (the first broken sequence
number is printed); 2 unreadable or not an export; 3 intact as far as can be
told without the key, or with nothing signed to anchor it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from dataclasses import dataclass, field

from audit.chain import (
    GENESIS_HASH,
    ROW_FIELDS,
    Break,
    Walk,
    canonical_json,
    ed25519_valid,
    event_mac_key,
    key_id,
    promise,
    seal_valid,
    statement_valid,
    unmet_promises,
    verify_rows,
)

EXIT_OK, EXIT_BROKEN, EXIT_UNREADABLE, EXIT_UNANCHORED = 0, 1, 2, 3
DEFAULT_KEY_ENV = "SHIPCHECK_AUDIT_SIGNING_KEY"


class Unreadable(Exception):
    pass


@dataclass
class Result:
    status: int
    rows: int = 0
    mode: str = ""
    broken: Break | None = None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "status": {0: "verified", 1: "broken", 2: "unreadable", 3: "unanchored"}[self.status],
            "exit_code": self.status,
            "rows": self.rows,
            "mode": self.mode,
            "broken_at_seq": self.broken.seq if self.broken else None,
            "problem": str(self.broken) if self.broken else None,
            "notes": self.notes,
        }


def _rows(lines, end_holder: list):
    """Event tuples from the lines after the header; the end line is kept aside."""
    for number, raw in enumerate(lines, start=2):
        if not raw or raw.isspace():
            continue
        try:
            event = json.loads(raw)
        except ValueError:
            raise Unreadable(f"line {number} is not JSON") from None
        if not isinstance(event, dict):
            raise Unreadable(f"line {number} is not a JSON object")
        if "shipcheck_audit_export_end" in event:
            end_holder.append((number, event))
            continue
        if end_holder:
            raise Unreadable(f"line {number} follows the end line (rows appended after the seal)")
        event["data"] = canonical_json(event.get("data"))
        yield tuple(
            map(event.get, ROW_FIELDS)
        )  # a missing field reads as None, as the hash sees it


def verify_file(
    path: str,
    key: bytes | None,
    *,
    public_key: bytes | None = None,
    published: list[dict] | None = None,
) -> Result:
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        return Result(EXIT_UNREADABLE, notes=[f"cannot open {path}: {exc.strerror}"])
    with handle:
        header_bytes = handle.readline().rstrip(b"\r\n")
        try:
            header = json.loads(header_bytes)
        except ValueError:
            header = None
        if not isinstance(header, dict) or "shipcheck_audit_export" not in header:
            return Result(
                EXIT_UNREADABLE, notes=["the first line is not a Shipcheck audit export header"]
            )
        text_lines = (line.decode("utf-8", "replace") for line in handle)
        return _verify(header, header_bytes, text_lines, key, public_key, published or [])


def _covers(header: dict, statement: dict) -> bool:
    """Whether a published statement speaks about this export's rows."""
    seq = statement.get("seq")
    if not isinstance(seq, int) or seq < (header.get("first_possible_seq") or 1):
        return False
    upper = header.get("upper_bound_seq")
    if upper is not None and seq > upper:
        return False
    scope = statement.get("scope")
    if header.get("mode") == "all":
        return scope == "all"
    if header.get("mode") == "project":
        return scope in {f"project:{pid}" for pid in header.get("project_ids") or []}
    return False


def _verify(
    header: dict,
    header_bytes: bytes,
    lines,
    key: bytes | None,
    public_key: bytes | None = None,
    published: list[dict] | None = None,
) -> Result:
    mode = header.get("mode")
    if mode not in ("all", "project", "selection"):
        return Result(EXIT_UNREADABLE, notes=[f"unknown export mode {mode!r}"])
    result = Result(EXIT_OK, mode=mode)
    notes = result.notes
    project_ids = header.get("project_ids")
    walk = Walk(mode=mode, project_ids=frozenset(project_ids) if project_ids is not None else None)

    before = header.get("before") or {}
    start_seq = start_prev = None
    if mode == "all":
        if before:
            start_seq, start_prev = before.get("seq", 0) + 1, before.get("hash")
        else:
            start_seq, start_prev = header.get("first_possible_seq") or 1, GENESIS_HASH
            if start_seq != 1:
                start_prev = None
    elif mode == "project":
        for project_id, anchor in (before.get("projects") or {}).items():
            walk.heads[int(project_id)] = (
                anchor["project_seq"],
                anchor.get("seq"),
                anchor["project_hash"],
            )

    anchored = False
    # The newest seq an Ed25519 signature (checked with the public key alone) vouches for.
    vouched_upto = 0
    statements = [dict(s, _source="header") for s in header.get("checkpoints") or []]
    statements += [
        dict(s, _source="published")
        for s in published or []
        if isinstance(s, dict) and _covers(header, s)
    ]
    for statement in statements:
        where = "in the header" if statement.pop("_source") == "header" else "published"
        if public_key is not None and statement.get("format", 1) >= 2:
            if not ed25519_valid(statement, public_key):
                result.status = EXIT_BROKEN
                result.broken = Break(
                    statement.get("seq"),
                    f"a checkpoint {where} carries an Ed25519 signature that does not verify "
                    "with the public key (forged or altered)",
                )
                return result
            anchored = True
            if statement.get("scope") == "all" or mode == "project":
                vouched_upto = max(vouched_upto, statement.get("seq") or 0)
            if key is None:
                promise(walk, statement)
                continue
        if key is None:
            promise(walk, statement)
            continue
        if statement.get("key_id") != key_id(key):
            notes.append(
                f"checkpoint {statement.get('scope')} @ {statement.get('seq')} was signed with another "
                "key; it is ignored"
            )
            continue
        if not statement_valid(statement, key):
            result.status = EXIT_BROKEN
            result.broken = Break(
                statement.get("seq"),
                f"a checkpoint {where} carries a forged or altered signature",
            )
            return result
        promise(walk, statement)
        anchored = True

    end_holder: list = []
    try:
        broken = verify_rows(
            _rows(lines, end_holder),
            walk,
            start_seq=start_seq,
            start_prev_hash=start_prev,
            mac_key=event_mac_key(key) if key is not None else None,
        )
    except Unreadable as exc:
        return Result(EXIT_UNREADABLE, rows=walk.count, mode=mode, notes=[str(exc)])
    result.rows = walk.count
    if broken is None:
        broken = unmet_promises(walk)
    if broken is None:
        broken, sealed = _check_end(end_holder, walk, header_bytes, key, notes)
        anchored = anchored or sealed
    if broken is not None:
        result.status = EXIT_BROKEN
        result.broken = broken
        return result
    if mode == "selection":
        notes.append(
            "a filtered selection: every row is checked, but rows left out by the filter cannot be "
            "told from deleted ones except through the seal"
        )
    if not header.get("checkpoints"):
        notes.append(
            "no signed checkpoint covers this export's range yet (a cut-off tail before the export "
            "would not show)"
        )
    if key is None and anchored and walk.last_seq is not None and walk.last_seq <= vouched_upto:
        notes.append(
            "no key given: event MACs and the seal were not checked, but every row is vouched "
            "for by an Ed25519-signed checkpoint verified with the public key"
        )
    elif key is None:
        notes.append(
            f"no key given: event MACs and HMAC signatures were not checked (set "
            f"{DEFAULT_KEY_ENV} or --key-file)"
            + (
                f"; Ed25519-signed checkpoints vouch for the rows up to sequence number "
                f"{vouched_upto} only"
                if anchored
                else ""
            )
        )
        result.status = EXIT_UNANCHORED
    elif not anchored:
        result.status = EXIT_UNANCHORED
    return result


def _check_end(
    end_holder, walk: Walk, header_bytes: bytes, key, notes
) -> tuple[Break | None, bool]:
    if not end_holder:
        return Break(
            (walk.last_seq or 0) + 1, "the file ends without its end line (cut short)"
        ), False
    _number, end = end_holder[-1]
    if end.get("rows") != walk.count or end.get("last_seq") != walk.last_seq:
        return Break(
            (walk.last_seq or 0) + 1,
            f"the end line counts {end.get('rows')} rows up to sequence "
            f"number {end.get('last_seq')}, the file holds {walk.count} "
            f"up to {walk.last_seq}",
        ), False
    seal = end.get("seal") or {}
    if key is None:
        return None, False
    if seal.get("key_id") != key_id(key):
        notes.append("the seal was signed with another key; it is ignored")
        return None, False
    if not seal_valid(seal, key):
        return Break(
            walk.last_seq, "the seal's signature does not match (the file was altered)"
        ), False
    if (
        seal.get("rows") != walk.count
        or seal.get("last_seq") != walk.last_seq
        or seal.get("first_seq") != walk.first_seq
        or seal.get("last_hash") != walk.last_hash
    ):
        return Break(
            (walk.last_seq or 0) + 1, "the rows differ from the ones the seal vouches for"
        ), False
    if seal.get("header_sha256") != hashlib.sha256(header_bytes).hexdigest():
        return Break(walk.first_seq, "the header differs from the one the seal vouches for"), False
    return None, True


def _key_from(args) -> bytes | None:
    if args.key_file:
        with open(args.key_file, "rb") as handle:
            return handle.read().strip()
    value = os.environ.get(args.key_env)
    return value.encode("utf-8") if value else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m audit.offline_verify",
        description="Verify a Shipcheck audit export (JSON Lines) offline.",
    )
    parser.add_argument("export", help="the .jsonl file downloaded from Shipcheck")
    parser.add_argument("--key-file", help="a file holding the signing key")
    parser.add_argument(
        "--key-env",
        default=DEFAULT_KEY_ENV,
        help=f"environment variable holding the key (default {DEFAULT_KEY_ENV})",
    )
    parser.add_argument(
        "--public-key",
        help="the installation's Ed25519 public key, 64 hex digits "
        "(manage.py audit_checkpoint --public-key)",
    )
    parser.add_argument(
        "--checkpoints",
        metavar="PUBLISHED",
        help="the checkpoints published outside the database (audit-checkpoints.jsonl)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    try:
        key = _key_from(args)
    except OSError as exc:
        print(f"cannot read the key file: {exc.strerror}", file=sys.stderr)
        return EXIT_UNREADABLE
    public = None
    if args.public_key:
        try:
            public = bytes.fromhex(args.public_key.strip())
        except ValueError:
            public = b""
        if len(public) != 32:
            print("--public-key takes 64 hex digits", file=sys.stderr)
            return EXIT_UNREADABLE
    published = []
    if args.checkpoints:
        try:
            with open(args.checkpoints, encoding="utf-8") as handle:
                published = [json.loads(line) for line in handle if line.strip()]
        except (OSError, ValueError) as exc:
            print(f"cannot read the published checkpoints: {exc}", file=sys.stderr)
            return EXIT_UNREADABLE
    result = verify_file(args.export, key, public_key=public, published=published)
    if args.json:
        print(json.dumps(result.as_dict(), indent=2))
        return result.status
    if result.status == EXIT_BROKEN:
        print(f"BROKEN: {result.broken}. {result.rows} events verified before it.")
    elif result.status == EXIT_UNREADABLE:
        print("UNREADABLE: " + "; ".join(result.notes))
    elif result.status == EXIT_UNANCHORED:
        print(f"INTACT BUT NOT ANCHORED: {result.rows} events ({result.mode}) verified.")
    else:
        print(
            f"VERIFIED: {result.rows} events ({result.mode}), anchored by signed checkpoints and seal."
        )
    if result.status != EXIT_UNREADABLE:
        for note in result.notes:
            print(f"  note: {note}")
    return result.status


if __name__ == "__main__":
    sys.exit(main())
