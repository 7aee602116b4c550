"""Signed checkpoints: anchor the heads of the audit chain outside the database.

Beat calls ``audit_checkpoint_take`` every ``SHIPCHECK_AUDIT_CHECKPOINT_SECONDS``
(audit/tasks.py); ``manage.py audit_checkpoint`` does it by hand. Each
checkpoint is also written to the log, a second copy outside the database.
"""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.chain import key_id, seal_sign, statement_sign, statement_valid
from audit.models import AuditCheckpoint, AuditEvent, format_timestamp

logger = logging.getLogger("shipcheck.audit.checkpoint")


def signing_key() -> bytes:
    return settings.SHIPCHECK_AUDIT_SIGNING_KEY.encode("utf-8")


def checkpoint_problem(statement: dict, key: bytes) -> str | None:
    """Why a checkpoint statement cannot be trusted with ``key``, or None when it can."""
    if statement.get("key_id") != key_id(key):
        return (
            f"signed with another key (key id {statement.get('key_id')!r}, this key is "
            f"{key_id(key)!r})"
        )
    if not statement_valid(statement, key):
        return "the signature does not match the statement (forged or altered)"
    return None


def _signed(*, created_at, project_id, seq, project_seq, head_hash, key: bytes) -> AuditCheckpoint:
    checkpoint = AuditCheckpoint(
        created_at=created_at,
        project_id=project_id,
        seq=seq,
        project_seq=project_seq,
        hash=head_hash,
        key_id=key_id(key),
    )
    statement = checkpoint.statement()
    checkpoint.signature = statement_sign(statement, key)
    return checkpoint


def audit_checkpoint_take(*, now=None) -> list[AuditCheckpoint]:
    """Sign the chain's head and the head of every project that moved since the last checkpoint.

    Callers: the beat task and ``manage.py audit_checkpoint``; nobody in the
    browser. Writes AuditCheckpoint rows (not audit events: a checkpoint must
    not move the head it describes) and logs each statement. Does nothing when
    no event was written since the last checkpoint, so it is safe to run twice.
    """
    key = signing_key()
    created_at = now or timezone.now()
    with transaction.atomic():
        head = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
        if head is None:
            return []
        last = (
            AuditCheckpoint.objects.filter(project_id__isnull=True)
            .order_by("-seq")
            .values_list("seq", flat=True)
            .first()
        ) or 0
        if last >= head[0]:
            return []
        checkpoints = [
            _signed(
                created_at=created_at,
                project_id=None,
                seq=head[0],
                project_seq=None,
                head_hash=head[1],
                key=key,
            )
        ]
        moved = (
            AuditEvent.objects.filter(seq__gt=last, seq__lte=head[0], project_id__isnull=False)
            .values_list("project_id", flat=True)
            .distinct()
            .order_by("project_id")
        )
        for project_id in moved:
            seq, project_seq, project_hash = (
                AuditEvent.objects.filter(project_id=project_id, seq__lte=head[0])
                .order_by("-seq")
                .values_list("seq", "project_seq", "project_hash")
                .first()
            )
            checkpoints.append(
                _signed(
                    created_at=created_at,
                    project_id=project_id,
                    seq=seq,
                    project_seq=project_seq,
                    head_hash=project_hash,
                    key=key,
                )
            )
        AuditCheckpoint.objects.bulk_create(checkpoints)
    for checkpoint in checkpoints:
        logger.info("audit checkpoint %s", json.dumps(checkpoint.statement(), sort_keys=True))
    return checkpoints


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
