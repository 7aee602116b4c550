"""Fast streams of audit rows, for the exports and both database verifiers.

Rows come in ``audit.chain.ROW_FIELDS`` order with ``created_at`` and ``data``
as text, spelled as the hash covers them. The selectors (the single-process
verifier) and ``audit.verify_parallel`` (its workers) both walk these streams,
so they live below both.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Iterator

from django.db import DatabaseError, connection, transaction
from django.db.models import F, Func, QuerySet, TextField
from django.db.models.functions import Cast

from audit.chain import ROW_FIELDS, Break, canonical_json
from audit.models import AuditEvent

# Rows per keyset batch when streaming: large enough that the per-query cost
# vanishes, small enough that a batch of wide rows stays a few megabytes.
STREAM_BATCH = 5000


class _UtcText(Func):
    """created_at as the hashed text form (UTC, microseconds, 'Z'), computed by PostgreSQL."""

    output_field = TextField()
    template = "to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"


def _sqlite_timestamp(text: str) -> str:
    # Django stores aware datetimes in SQLite as naive UTC text: 'YYYY-MM-DD HH:MM:SS[.ffffff]'.
    text = text.replace(" ", "T", 1)
    if "+" in text[19:]:
        text = text[: text.index("+", 19)]
    if "." not in text[19:]:
        text += ".000000"
    return text + "Z"


def _row_queryset(qs: QuerySet, *, canonical_data: bool = False) -> QuerySet:
    """Annotate the columns of ``ROW_FIELDS`` with created_at and data as text.

    ``canonical_data``: ``data`` is the stored canonical text (``data_text``), for a
    verifier that also runs ``data_mismatch``; else the database's JSON text.
    """
    created = (
        _UtcText("created_at")
        if connection.vendor == "postgresql"
        else Cast("created_at", TextField())
    )
    values = [name for name in ROW_FIELDS]
    values[values.index("created_at")] = "created_as_text"
    if canonical_data:
        values[values.index("data")] = "data_text"
        return qs.annotate(created_as_text=created).values_list(*values)
    values[values.index("data")] = "data_as_text"
    return qs.annotate(
        created_as_text=created, data_as_text=Cast(F("data"), TextField())
    ).values_list(*values)


def data_mismatch(low: int, high: int) -> int | None:
    """The first seq in ``low..high`` whose ``data`` differs from its canonical text, or None.

    On PostgreSQL one set-based query (``data = data_text::jsonb``, the database
    compares); should a ``data_text`` not even be JSON (the cast fails), or
    elsewhere, Python compares row by row.
    """
    if connection.vendor == "postgresql":
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "SELECT min(seq) FROM audit_auditevent WHERE seq BETWEEN %s AND %s"
                    " AND data IS DISTINCT FROM data_text::jsonb",
                    [low, high],
                )
                return cursor.fetchone()[0]
        except DatabaseError:
            pass
    rows = (
        AuditEvent.objects.filter(seq__gte=low, seq__lte=high)
        .order_by("seq")
        .values_list("seq", "data", "data_text")
        .iterator(chunk_size=5000)
    )
    for seq, data, text in rows:
        try:
            if json.loads(text) != data or canonical_json(data) != text:
                return seq
        except ValueError:
            return seq
    return None


def audit_row_batches(
    qs: QuerySet,
    *,
    upper: int | None = None,
    batch: int = STREAM_BATCH,
    canonical_data: bool = False,
) -> Iterator[list[tuple]]:
    """Batches of event rows in ``ROW_FIELDS`` order (created_at and data as text), by seq.

    Keyset batches: each is one index range scan, nothing is held open between
    them, and memory stays flat however many events match. ``upper`` fixes the
    last seq so that events written while streaming do not join half-way.
    """
    base = _row_queryset(qs, canonical_data=canonical_data)
    if upper is not None:
        base = base.filter(seq__lte=upper)
    sqlite = connection.vendor != "postgresql"
    last = 0
    while True:
        sql, params = (
            base.filter(seq__gt=last)
            .order_by("seq")[:batch]
            .query.get_compiler(connection=connection)
            .as_sql()
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if not rows:
            return
        if sqlite:
            rows = [(r[0], _sqlite_timestamp(r[1]), *r[2:]) for r in rows]
        yield rows
        if len(rows) < batch:
            return
        last = rows[-1][0]


def stream_rows(
    qs: QuerySet, *, chunk: int = 5000, canonical_data: bool = False
) -> Generator[tuple, None, None]:
    """Every row of ``qs`` in seq order, in ``ROW_FIELDS`` order like ``audit_row_batches``, one by one.

    On PostgreSQL one plain SELECT whose rows the server sends as fast as the
    client takes them (libpq's chunked rows mode, ``chunk`` rows per message;
    row by row with a libpq older than 17), so the database produces the next
    rows while Python checks these, and each row is dropped once checked
    (a row still in the processor's cache is cheap to check; a list of
    thousands is not). Measured on a million events against the alternatives:
    a server-side cursor's FETCH cost the database about twice as much (each
    FETCH result is stored before it is sent, and a large one spills to disk),
    and COPY's row-by-row messages cost the Python reader more. Elsewhere
    keyset batches. Close the iterator (or exhaust it) before the next query on
    this connection: closing it early cancels the query.
    """
    if connection.vendor != "postgresql":
        for rows in audit_row_batches(qs, batch=chunk, canonical_data=canonical_data):
            yield from rows
        return
    from psycopg import pq

    sql, params = (
        _row_queryset(qs, canonical_data=canonical_data)
        .order_by("seq")
        .query.get_compiler(connection=connection)
        .as_sql()
    )
    connection.ensure_connection()
    raw = connection.connection
    # Closing early cancels the query, which would leave an enclosing transaction
    # aborted: inside one, the stream runs in a savepoint rolled back after a cancel.
    savepoint = raw.info.transaction_status == pq.TransactionStatus.INTRANS
    if savepoint:
        raw.execute("SAVEPOINT shipcheck_audit_stream")
    with raw.cursor() as cursor:
        rows = cursor.stream(sql, params, size=chunk if pq.version() >= 170000 else 1)
        try:
            yield from rows
        finally:
            rows.close()
            if savepoint:
                if raw.info.transaction_status == pq.TransactionStatus.INERROR:
                    raw.execute("ROLLBACK TO SAVEPOINT shipcheck_audit_stream")
                raw.execute("RELEASE SAVEPOINT shipcheck_audit_stream")


def first_break(broken: Break | None, mismatch_seq: int | None) -> Break | None:
    """The earlier of a walk's break and the first event whose ``data`` differs from its text.

    A break without a sequence number lies at the end of the chain, after any mismatch.
    """
    if mismatch_seq is not None and (
        broken is None or broken.seq is None or mismatch_seq < broken.seq
    ):
        return Break(
            mismatch_seq,
            "the event's data differs from the canonical text its hash covers (edited)",
        )
    return broken
