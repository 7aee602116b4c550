"""Streamed exports of the audit trail: JSON Lines (verifiable offline) and CSV.

On PostgreSQL the database spells the rows and streams them with COPY
(audit/exports_pg.py). Elsewhere (SQLite) keyset batches
(audit.rows.audit_row_batches) are spelled by hand: text through the C
string encoder, ``data`` in the database's own JSON spelling. Either way each
chunk is a batch of whole lines, memory stays flat however many events
match, and the verifier parses every line back into the values the hash was
computed over.

JSON Lines layout (docs/audit.md): a header line, one line per event with
every hashed field exactly as hashed plus ``hash`` and the project link, and
an end line carrying the row count and a signed seal.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from json.encoder import encode_basestring as _s

from django.db import connection
from django.utils import timezone

from audit import exports_pg
from audit.chain import GENESIS_HASH, ROW_FIELDS
from audit.checkpoints import export_seal
from audit.filters import AuditFilters
from audit.models import AuditEvent, format_timestamp
from audit.rows import audit_row_batches
from audit.selectors import _head_seq, audit_event_queryset, checkpoint_latest, seq_bounds

EXPORT_FORMAT = 1
CSV_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "'")


def export_mode(filters: AuditFilters) -> str:
    """How much an export can prove: ``all``, ``project`` or ``selection`` (see audit.chain.Walk)."""
    if filters.narrowed:
        return "selection"
    if filters.project is None and filters.everything:
        return "all"
    return "project"


class ExportPlan:
    """What one export covers, fixed before the first row is read."""

    def __init__(self, filters: AuditFilters):
        self.filters = filters
        self.mode = export_mode(filters)
        self.generated_at = timezone.now()
        low, high = seq_bounds(filters)
        head = _head_seq()
        self.upper = min(head, high - 1) if high is not None else head
        self.lower = low
        # The last seq a checkpoint may vouch for: the end of the date range, or
        # none at all. Not the current head: if the tail was cut off, the latest
        # checkpoint lies beyond it, and that is exactly what must show.
        self.checkpoint_bound = high - 1 if high is not None else None
        self.queryset = audit_event_queryset(filters, bounds=(low, high))
        self.scope = self._scope()

    def _scope(self) -> str:
        if self.mode == "all":
            return "all"
        if self.filters.project is not None:
            return f"project:{self.filters.project.pk}"
        return "projects:" + ",".join(str(pid) for pid in sorted(self.filters.project_ids))

    def project_ids(self) -> list[int]:
        if self.filters.project is not None:
            return [self.filters.project.pk]
        return sorted(self.filters.project_ids)

    def before(self) -> dict | None:
        """The event just before the exported run, so its first row can be linked."""
        if not self.lower or self.lower <= 1:
            return None
        if self.mode == "all":
            prev = (
                AuditEvent.objects.filter(seq__lt=self.lower)
                .order_by("-seq")
                .values_list("seq", "hash")
                .first()
            )
            return {"seq": prev[0], "hash": prev[1]} if prev else {"seq": 0, "hash": GENESIS_HASH}
        if self.mode == "project":
            anchors = {}
            for project_id in self.project_ids():
                last = (
                    AuditEvent.objects.filter(project_id=project_id, seq__lt=self.lower)
                    .order_by("-seq")
                    .values_list("project_seq", "seq", "project_hash")
                    .first()
                )
                anchors[str(project_id)] = (
                    {"project_seq": last[0], "seq": last[1], "project_hash": last[2]}
                    if last
                    else {"project_seq": 0, "seq": None, "project_hash": GENESIS_HASH}
                )
            return {"projects": anchors}
        return None

    def checkpoints(self) -> list[dict]:
        """The newest signed checkpoints this export can be held to (not past its last seq)."""
        bound = self.checkpoint_bound
        if self.mode == "all":
            found = [checkpoint_latest(upto_seq=bound)]
        else:
            found = [
                checkpoint_latest(project_id=pid, upto_seq=bound) for pid in self.project_ids()
            ]
        return [
            c.statement()
            for c in found
            if c is not None and (not self.lower or c.seq >= self.lower)
        ]

    def header(self) -> dict:
        project = self.filters.project
        return {
            "shipcheck_audit_export": EXPORT_FORMAT,
            "mode": self.mode,
            "scope": self.scope,
            "project": {"id": project.pk, "slug": project.slug, "name": project.name}
            if project
            else None,
            "project_ids": None if self.mode == "all" else self.project_ids(),
            "filters": self.filters.describe(),
            "generated_at": format_timestamp(self.generated_at),
            "first_possible_seq": self.lower or 1,
            "last_possible_seq": self.upper,
            "upper_bound_seq": self.checkpoint_bound,
            "before": self.before(),
            "checkpoints": self.checkpoints(),
            "fields": list(ROW_FIELDS),
            "verify_with": "python -m audit.offline_verify THIS_FILE",
        }


def _n(value) -> str:
    return "null" if value is None else str(value)


def jsonl_lines(rows: list[tuple]) -> str:
    """Event lines for one batch (rows in ``ROW_FIELDS`` order, created_at and data as text)."""
    s, n = _s, _n
    return "".join(
        [
            f'{{"seq":{seq},"created_at":{s(created)},"actor_kind":{s(kind)},"actor_id":{n(actor_id)}'
            f',"actor_label":{s(label)},"action":{s(action)},"object_type":{s(otype)},"object_id":{s(oid)}'
            f',"object_repr":{s(orepr)},"project_id":{n(pid)},"release_id":{n(rid)},"from_state":{s(fs)}'
            f',"to_state":{s(ts)},"reason":{s(reason)},"data":{data},"prev_hash":{s(prev)},"hash":{s(h)}'
            f',"project_seq":{n(pseq)},"project_prev_hash":{s(pprev)},"project_hash":{s(phash)}'
            f',"mac":{s(mac)}}}\n'
            for (
                seq,
                created,
                kind,
                actor_id,
                label,
                action,
                otype,
                oid,
                orepr,
                pid,
                rid,
                fs,
                ts,
                reason,
                data,
                prev,
                h,
                pseq,
                pprev,
                phash,
                mac,
            ) in rows
        ]
    )


def _python_jsonl_rows(plan: ExportPlan, progress: dict) -> Iterator[bytes]:
    for rows in audit_row_batches(plan.queryset, upper=plan.upper):
        if progress["first"] is None:
            progress["first"] = rows[0][0]
        progress["count"] += len(rows)
        progress["last"], progress["last_hash"] = rows[-1][0], rows[-1][16]
        yield jsonl_lines(rows).encode("utf-8")


def jsonl_stream(plan: ExportPlan) -> Iterator[bytes]:
    header_line = json.dumps(plan.header(), ensure_ascii=False).encode("utf-8")
    yield header_line + b"\n"
    progress: dict = {"first": None, "count": 0, "last": None, "last_hash": None}
    if connection.vendor == "postgresql":
        yield from exports_pg.jsonl_rows(plan.queryset, plan.upper, progress)
    else:
        yield from _python_jsonl_rows(plan, progress)
    count, first, last, last_hash = (
        progress["count"],
        progress["first"],
        progress["last"],
        progress["last_hash"],
    )
    end = {
        "shipcheck_audit_export_end": True,
        "rows": count,
        "first_seq": first,
        "last_seq": last,
        "seal": export_seal(
            scope=plan.scope,
            rows=count,
            first_seq=first,
            last_seq=last,
            last_hash=last_hash,
            header_sha256=hashlib.sha256(header_line).hexdigest(),
            generated_at=plan.generated_at,
        ),
    }
    yield (json.dumps(end) + "\n").encode("utf-8")


# --- CSV --------------------------------------------------------------------------

CSV_COLUMNS = ROW_FIELDS


def csv_cell(value) -> str | int:
    """Neutralise spreadsheet formulas: text starting with = + - @ tab CR (or ') gets a leading '.

    Prefixing a leading quote too keeps the escape reversible: strip one
    leading ' from any text cell to get the original value back.
    """
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(CSV_FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_uncell(text: str) -> str:
    """The inverse of ``csv_cell`` for a text cell (used by tests and tools reading the CSV)."""
    return text[1:] if text.startswith("'") else text


def csv_stream(plan: ExportPlan) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    header = plan.header()
    buffer.write(
        "# Shipcheck audit trail export. For verification use the JSON Lines export; "
        "text cells starting with = + - @ tab CR or ' carry one extra leading '.\r\n"
    )
    buffer.write(
        "# "
        + json.dumps(
            {k: header[k] for k in ("mode", "scope", "filters", "generated_at", "checkpoints")},
            ensure_ascii=False,
        )
        + "\r\n"
    )
    writer.writerow(CSV_COLUMNS)
    yield buffer.getvalue().encode("utf-8")
    if connection.vendor == "postgresql":
        yield from exports_pg.csv_rows(plan.queryset, plan.upper, CSV_COLUMNS)
        return
    cell = csv_cell
    for rows in audit_row_batches(plan.queryset, upper=plan.upper):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([cell(v) for v in row] for row in rows)
        yield buffer.getvalue().encode("utf-8")


def export_filename(plan: ExportPlan, extension: str) -> str:
    stamp = plan.generated_at.strftime("%Y%m%dT%H%M%SZ")
    scope = (
        plan.filters.project.slug
        if plan.filters.project
        else ("all" if plan.mode == "all" else "projects")
    )
    return f"shipcheck-audit-{scope}-{stamp}.{extension}"
