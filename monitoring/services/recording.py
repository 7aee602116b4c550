"""Recording polled slots: samples stored, tallies updated, verdicts acted on, in one transaction.

Built for a thousand checks per tick (``bench/poll_bench.py``): the samples go
in as one prepared INSERT and the tallies as one UPDATE per check in one round
trip, because building model instances costs more than the polls themselves.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from django.db import connection, transaction
from django.db.models import Field
from django.db.models.constants import OnConflict

from monitoring.choices import (
    BaselineStatus,
    CheckKind,
    CheckVerdictStatus,
    SampleStatus,
    WindowStatus,
)
from monitoring.models import MonitoringWindow, Sample, WindowCheck
from monitoring.services.closing import window_close
from monitoring.services.config import bounds_from
from monitoring.services.tallies import (
    check_states,
    check_tally,
    check_tally_store,
    check_verdict_store,
)
from monitoring.verdicts import (
    Judgement,
    Reading,
    judge_health,
    judge_metric,
    window_verdict,
)

logger = logging.getLogger(__name__)


def _judge(check: WindowCheck, reading: Reading) -> Judgement:
    if check.kind == CheckKind.HEALTH:
        return judge_health(reading)
    baseline = check.baseline
    value = (
        baseline.value if baseline is not None and baseline.status == BaselineStatus.TAKEN else None
    )
    return judge_metric(reading, bounds_from(check.config), value)


TALLY_FIELDS = [
    "passes",
    "failures",
    "inconclusives",
    "errors",
    "consecutive_errors",
    "status",
    "reason",
    "last_detail",
    "last_outcome",
    "last_error",
]


SAMPLE_FIELDS = [
    "window_check_id",
    "slot",
    "taken_at",
    "status",
    "outcome",
    "value",
    "http_status",
    "latency_ms",
    "detail",
]


def _insert_samples(rows: list[tuple]) -> None:
    """``bulk_create(ignore_conflicts=True)`` as one prepared INSERT sent for every row.

    ``rows`` are tuples in SAMPLE_FIELDS order, already in database form. The
    unique (check, slot) constraint makes a second write of a slot a no-op.
    Building a thousand model instances into one statement costs more than the
    polls themselves (bench/poll_bench.py), so the rows go straight to the cursor.
    """
    if not rows:
        return
    ops = connection.ops
    # Every name is a concrete field of Sample (never a reverse relation), so each has a column.
    fields = [cast("Field[Any, Any]", Sample._meta.get_field(name)) for name in SAMPLE_FIELDS]
    columns = ", ".join(ops.quote_name(cast(str, f.column)) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = (
        f"{ops.insert_statement(on_conflict=OnConflict.IGNORE)} {ops.quote_name(Sample._meta.db_table)} "
        f"({columns}) VALUES ({placeholders})"
        f"{ops.on_conflict_suffix_sql(fields, OnConflict.IGNORE, None, None)}"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _save_tallies(checks: list[WindowCheck]) -> None:
    """One UPDATE per check, sent in one round trip.

    ``bulk_update`` builds a CASE expression per field and row, which costs more
    than the polling itself at a thousand checks per tick (bench/poll_bench.py).
    """
    table = WindowCheck._meta.db_table
    columns = ", ".join(f"{connection.ops.quote_name(name)} = %s" for name in TALLY_FIELDS)
    rows = [[getattr(check, name) for name in TALLY_FIELDS] + [check.pk] for check in checks]
    if not rows:
        return
    # Only our own table and column names are interpolated; every value is a parameter.
    sql = f"UPDATE {connection.ops.quote_name(table)} SET {columns} WHERE id = %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


@dataclass
class SlotResult:
    """One claimed slot of one window, with what each of its checks' probes returned."""

    window_id: int
    slot: int
    taken_at: datetime
    readings: dict[int, Reading]


def window_record(
    *, window_id: int, slot: int, taken_at: datetime, readings: dict[int, Reading]
) -> None:
    """Store one slot's samples, update the tallies and act on the verdict, in one transaction."""
    windows_record([SlotResult(window_id, slot, taken_at, readings)])


def windows_record(results: list[SlotResult]) -> int:
    """Record the slots of several windows in one transaction; returns how many windows were recorded.

    Every window is locked, its samples stored, its tallies and verdicts
    updated: a few statements for the whole batch, not per window. Windows whose
    verdict is reached are closed one by one, each in a savepoint, so one
    window's trouble (a refused transition) never undoes the others.
    """
    if not results:
        return 0
    with transaction.atomic():
        windows = {
            w.pk: w
            for w in MonitoringWindow.objects.select_for_update(of=("self",))
            .select_related("deployment__release__project", "deployment__environment")
            .filter(pk__in=[r.window_id for r in results])
            .order_by("id")
        }
        checks_of: dict[int, list[WindowCheck]] = {}
        for check in WindowCheck.objects.filter(window_id__in=list(windows)).select_related(
            "baseline"
        ):
            checks_of.setdefault(check.window_id, []).append(check)
        samples, changed, reasons, closing = [], [], [], []
        for result in results:
            window = windows.get(result.window_id)
            if window is None:
                continue
            checks = sorted(checks_of.get(window.pk, []), key=lambda c: (c.position, c.pk))
            taken_at = Sample._meta.get_field("taken_at").get_db_prep_save(
                result.taken_at, connection
            )
            running = window.status == WindowStatus.RUNNING
            for check in checks:
                reading = result.readings.get(check.pk)
                if reading is None:
                    continue
                judgement = _judge(check, reading)
                samples.append(
                    (
                        check.pk,
                        result.slot,
                        taken_at,
                        reading.status,
                        judgement.outcome,
                        reading.value,
                        reading.http_status,
                        reading.latency_ms,
                        judgement.detail[:300],
                    )
                )
                if not running or check.status != CheckVerdictStatus.RUNNING:
                    continue
                tally = check_tally(check).add(judgement.outcome)
                check_tally_store(check, tally)
                check.last_detail = judgement.detail[:300]
                check.last_outcome = judgement.outcome
                if reading.status == SampleStatus.ERROR:
                    check.last_error = (reading.error or judgement.detail)[:300]
                check_verdict_store(check, finished=False)
                changed.append(check)
            if not running:
                continue
            verdict = window_verdict(check_states(checks), finished=False)
            if verdict.status != WindowStatus.RUNNING:
                closing.append((window, verdict))
            elif window.reason != verdict.reason:
                window.reason = verdict.reason
                reasons.append((verdict.reason, window.pk))
        _insert_samples(samples)
        _save_tallies(changed)
        if reasons:
            table = connection.ops.quote_name(MonitoringWindow._meta.db_table)
            with connection.cursor() as cursor:
                cursor.executemany(f"UPDATE {table} SET reason = %s WHERE id = %s", reasons)  # noqa: S608
        for window, verdict in closing:
            try:
                with transaction.atomic():
                    window_close(window, verdict, actor=None)
            except Exception:  # noqa: BLE001 - logged; the window stays running and is judged again
                logger.exception("Closing window %s as %s failed", window.pk, verdict.status)
    return len(windows)
