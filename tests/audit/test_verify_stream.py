"""The row stream audit_verify reads: every row once, in order, and a clean stop half-way."""

from __future__ import annotations

from contextlib import closing

import pytest
from django.db import connection, transaction

from audit.models import AuditEvent
from audit.selectors import audit_chain_check, audit_row_batches, stream_rows
from tests.audit.conftest import tamper_sql


def test_stream_rows__are_the_keyset_rows_in_seq_order(trail):
    expected = [
        row for rows in audit_row_batches(AuditEvent.objects.all(), batch=3) for row in rows
    ]
    with closing(stream_rows(AuditEvent.objects.all(), chunk=4)) as rows:
        streamed = list(rows)
    assert streamed == expected
    assert [row[0] for row in streamed] == list(range(1, AuditEvent.objects.count() + 1))


def test_stream_rows__of_a_stretch(trail):
    with closing(stream_rows(AuditEvent.objects.filter(seq__gte=3, seq__lte=7), chunk=2)) as rows:
        assert [row[0] for row in rows] == [3, 4, 5, 6, 7]


def _many_rows(count: int) -> None:
    """Rows enough that the server is still sending when the reader stops (hashes are not checked here)."""
    tamper_sql(
        "INSERT INTO audit_auditevent (seq, created_at, actor_kind, actor_label, action, object_type, object_id, "
        "object_repr, from_state, to_state, reason, data, prev_hash, hash, project_prev_hash, project_hash) "
        "SELECT g, now(), 'system', 'shipcheck', 'bench.filled', 'bench', g::text, repeat('x', 300), '', '', "
        "repeat('y', 500), '{}'::jsonb, repeat('0', 64), repeat('1', 64), '', '' FROM generate_series(1, %s) g",
        [count],
    )


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the streamed query runs on PostgreSQL"
)
def test_stream_rows__closed_early_inside_a_transaction__leaves_it_usable(db):
    _many_rows(60_000)
    with transaction.atomic():
        with closing(stream_rows(AuditEvent.objects.all(), chunk=100)) as rows:
            assert next(rows)[0] == 1
        # The query was cancelled half-way; the transaction carries on.
        assert AuditEvent.objects.filter(seq__lte=10).count() == 10


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the streamed query runs on PostgreSQL"
)
def test_audit_verify__break_found_early_in_a_long_chain__reported_inside_a_transaction(db):
    _many_rows(60_000)
    tamper_sql("UPDATE audit_auditevent SET prev_hash = %s WHERE seq = 1", ["0" * 64])
    with transaction.atomic():
        report = audit_chain_check(workers=1)
        assert report.broken is not None and report.broken.seq == 1
        assert report.count == 0
        assert AuditEvent.objects.count() == 60_000
