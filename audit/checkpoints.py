"""Signed checkpoints: anchor the heads of the audit chain outside the database.

Beat calls ``audit_checkpoint_take`` every ``SHIPCHECK_AUDIT_CHECKPOINT_SECONDS``
(audit/tasks.py); ``manage.py audit_checkpoint`` does it by hand. Before
signing, the events since the previous checkpoint are verified (hashes, links
and MACs): a forged row is refused, never vouched for. Each checkpoint is
signed with HMAC-SHA256 and Ed25519 and published outside the database after
the commit: the log, ``SHIPCHECK_AUDIT_CHECKPOINT_DIR/audit-checkpoints.jsonl``
and ``SHIPCHECK_AUDIT_CHECKPOINT_WEBHOOK``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from contextlib import closing
from pathlib import Path
from typing import cast

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.chain import (
    STATEMENT_FORMAT,
    Break,
    Walk,
    ed25519_payload,
    ed25519_valid,
    event_mac_key,
    key_id,
    public_key_id,
    seal_sign,
    statement_sign,
    statement_valid,
    verify_rows,
)
from audit.models import AuditCheckpoint, AuditEvent, format_timestamp
from audit.rows import data_mismatch, first_break, stream_rows

logger = logging.getLogger("shipcheck.audit.checkpoint")
PUBLISHED_FILE = "audit-checkpoints.jsonl"


class AuditTampered(Exception):
    """The events a checkpoint would vouch for do not verify: nothing was signed."""


def signing_key() -> bytes:
    return settings.SHIPCHECK_AUDIT_SIGNING_KEY.encode("utf-8")


def mac_key() -> bytes:
    return event_mac_key(signing_key())


def _ed25519_seed() -> bytes:
    configured = settings.SHIPCHECK_AUDIT_ED25519_PRIVATE_KEY.strip()
    if configured:
        seed = bytes.fromhex(configured)
        if len(seed) != 32:
            raise ValueError("SHIPCHECK_AUDIT_ED25519_PRIVATE_KEY must be 64 hex digits")
        return seed
    return hmac.new(signing_key(), b"shipcheck-audit-ed25519-seed", hashlib.sha256).digest()


def ed25519_private_key():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.from_private_bytes(_ed25519_seed())


def public_key() -> bytes:
    """The raw 32-byte Ed25519 public key auditors verify checkpoints with."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return ed25519_private_key().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def checkpoint_problem(statement: dict, key: bytes, public: bytes | None = None) -> str | None:
    """Why a checkpoint statement cannot be trusted with ``key``, or None when it can.

    A format 2 statement must also carry a valid Ed25519 signature under ``public``
    (default: this installation's public key).
    """
    if statement.get("format", 1) >= 2:
        public = public or public_key()
        if not ed25519_valid(statement, public):
            return "the Ed25519 signature does not verify with the public key (forged or altered)"
    if statement.get("key_id") != key_id(key):
        return (
            f"signed with another key (key id {statement.get('key_id')!r}, this key is "
            f"{key_id(key)!r})"
        )
    if not statement_valid(statement, key):
        return "the signature does not match the statement (forged or altered)"
    return None


def _signed(
    *, created_at, project_id, seq, project_seq, head_hash, key: bytes, private
) -> AuditCheckpoint:
    checkpoint = AuditCheckpoint(
        created_at=created_at,
        project_id=project_id,
        seq=seq,
        project_seq=project_seq,
        hash=head_hash,
        key_id=key_id(key),
        public_key_id=public_key_id(public_key()),
    )
    statement = checkpoint.statement()
    statement["format"] = STATEMENT_FORMAT
    checkpoint.signature = statement_sign(statement, key)
    checkpoint.ed25519_signature = private.sign(ed25519_payload(statement)).hex()
    return checkpoint


def _verify_since(last: AuditCheckpoint | None, head_seq: int) -> None:
    """Verify events after the last checkpoint up to ``head_seq``: raise AuditTampered if any fails."""
    low = last.seq + 1 if last else 1
    walk = Walk(mode="all")
    queryset = AuditEvent.objects.filter(seq__gte=low, seq__lte=head_seq)
    with closing(stream_rows(queryset, canonical_data=True)) as rows:
        broken = verify_rows(
            rows,
            walk,
            start_seq=low,
            start_prev_hash=last.hash if last else "0" * 64,
            mac_key=mac_key(),
        )
    problem: Break | str | None = first_break(broken, data_mismatch(low, head_seq))
    if problem is None and walk.last_seq != head_seq:
        problem = f"sequence number {(walk.last_seq or low - 1) + 1} is missing"
    if problem is not None:
        raise AuditTampered(f"No checkpoint signed: {problem}")


def audit_checkpoint_take(*, now=None) -> list[AuditCheckpoint]:
    """Sign the chain's head and the head of every project that moved since the last checkpoint.

    Callers: the beat task and ``manage.py audit_checkpoint``; nobody in the
    browser. Writes AuditCheckpoint rows (not audit events: a checkpoint must
    not move the head it describes) and logs each statement. Does nothing when
    no event was written since the last checkpoint, so it is safe to run twice.
    """
    key = signing_key()
    private = ed25519_private_key()
    created_at = now or timezone.now()
    with transaction.atomic():
        head = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
        if head is None:
            return []
        latest = (
            AuditCheckpoint.objects.filter(project_id__isnull=True).order_by("-seq", "-id").first()
        )
        if latest is not None and latest.seq >= head[0] and latest.ed25519_signature:
            return []
        # A checkpoint vouches for everything up to its head: check what is new first
        # (from the start when the last checkpoint is not one this installation signed).
        trusted = (
            latest
            if latest is not None
            and latest.seq < head[0]
            and checkpoint_problem(latest.statement(), key) is None
            else None
        )
        _verify_since(trusted, head[0])
        last = latest.seq if latest is not None and latest.seq < head[0] else 0
        checkpoints = [
            _signed(
                created_at=created_at,
                project_id=None,
                seq=head[0],
                project_seq=None,
                head_hash=head[1],
                key=key,
                private=private,
            )
        ]
        moved = (
            AuditEvent.objects.filter(seq__gt=last, seq__lte=head[0], project_id__isnull=False)
            .values_list("project_id", flat=True)
            .distinct()
            .order_by("project_id")
        )
        for project_id in moved:
            # The project has an event in (last, head]: its newest one up to the head exists.
            seq, project_seq, project_hash = cast(
                "tuple[int, int, str]",
                AuditEvent.objects.filter(project_id=project_id, seq__lte=head[0])
                .order_by("-seq")
                .values_list("seq", "project_seq", "project_hash")
                .first(),
            )
            checkpoints.append(
                _signed(
                    created_at=created_at,
                    project_id=project_id,
                    seq=seq,
                    project_seq=project_seq,
                    head_hash=project_hash,
                    key=key,
                    private=private,
                )
            )
        AuditCheckpoint.objects.bulk_create(checkpoints)
        statements = [checkpoint.statement() for checkpoint in checkpoints]
        transaction.on_commit(lambda: checkpoints_publish(statements))
    return checkpoints


def checkpoints_publish(statements: list[dict]) -> None:
    """Copy signed statements outside the database: the log, a file, a webhook.

    The file (one JSON statement per line, appended and flushed to disk) is the
    copy verifiers read back (``audit_verify``, ``offline_verify --checkpoints``);
    the webhook lets a system the database's administrators do not control keep
    its own. A failure to publish is logged, never raised: the checkpoint stands.
    """
    lines = [json.dumps(statement, sort_keys=True) for statement in statements]
    for line in lines:
        logger.info("audit checkpoint %s", line)
    directory = settings.SHIPCHECK_AUDIT_CHECKPOINT_DIR
    if directory:
        try:
            Path(directory).mkdir(parents=True, exist_ok=True)
            with open(Path(directory) / PUBLISHED_FILE, "a", encoding="utf-8") as handle:
                handle.write("".join(line + "\n" for line in lines))
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            logger.error("audit checkpoint: cannot append to %s: %s", directory, exc)
    url = settings.SHIPCHECK_AUDIT_CHECKPOINT_WEBHOOK
    if url:
        import httpx2 as httpx

        try:
            httpx.post(
                url,
                json={"kind": "shipcheck-audit-checkpoints", "checkpoints": statements},
                timeout=10,
            ).raise_for_status()
        except httpx.HTTPError as exc:
            logger.error("audit checkpoint: the webhook %s failed: %s", url, exc)


def published_statements(path: str | None = None) -> list[dict]:
    """The statements in the published file (``path`` or the configured directory's)."""
    if path is None:
        if not settings.SHIPCHECK_AUDIT_CHECKPOINT_DIR:
            return []
        path = str(Path(settings.SHIPCHECK_AUDIT_CHECKPOINT_DIR) / PUBLISHED_FILE)
    try:
        with open(path, encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]
    except FileNotFoundError:
        return []


def export_seal(
    *,
    scope: str,
    rows: int,
    first_seq: int | None,
    last_seq: int | None,
    last_hash: str | None,
    header_sha256: str,
    generated_at,
) -> dict:
    """A signed statement closing an export: how many rows, which run, ending in which hash.

    Made on the fly and never stored; it lets the holder of the key prove that
    the file was not cut short or rewritten after it left Shipcheck.
    """
    key = signing_key()
    seal = {
        "kind": "export-seal",
        "scope": scope,
        "rows": rows,
        "first_seq": first_seq,
        "last_seq": last_seq,
        "last_hash": last_hash,
        "header_sha256": header_sha256,
        "generated_at": format_timestamp(generated_at),
        "key_id": key_id(key),
    }
    seal["signature"] = seal_sign(seal, key)
    return seal
