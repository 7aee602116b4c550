"""Polling: the scheduler ticks, workers claim due slots, probe, record and judge.

Due times live in the database (``MonitoringWindow.next_poll_at`` and
``next_slot``), not in the broker. Slot *n* of a window is due at
``started_at + n × interval``. A worker claims a slot with one conditional
UPDATE — "move next_slot from n to m, if it is still n and the window still
runs" — and only the worker whose UPDATE changed a row polls. This is the
healthchecks ``sendalerts`` idea: the database decides the race, so any number
of workers and overlapping ticks never take the same slot.

Because nothing lives in the broker, a restarted worker or scheduler picks up
at the next tick; it does not wait for the broker to redeliver anything. Slots
that went by while nobody polled are recorded as a ``PollGap`` and skipped —
never fired in a burst — and only the latest slot, if it is still fresh, is
polled.

Probes run concurrently in a thread pool, each under its own total deadline
(``monitoring.fetch``), so one hanging endpoint costs its own timeout and
nothing else. Threads only do HTTP; every database write happens on the
calling thread, one short transaction per window.
"""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import ALL_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F
from django.db.models.constants import OnConflict
from django.utils import timezone

from monitoring.choices import (
    BaselineStatus,
    CheckKind,
    CheckVerdictStatus,
    HookCallStatus,
    SampleStatus,
    WindowStatus,
)
from monitoring.conf import poll_threads
from monitoring.models import Baseline, HookCall, MonitoringWindow, PollGap, Sample, WindowCheck
from monitoring.probes import ProbeSpec, probe
from monitoring.services.config import bounds_from, spec_for
from monitoring.verdicts import (
    CheckState,
    Limits,
    Reading,
    Tally,
    Verdict,
    check_verdict,
    judge_health,
    judge_metric,
    window_verdict,
)

logger = logging.getLogger(__name__)

# Probes wait on sockets, but every answer is parsed under the GIL: past a few
# dozen threads they queue for it and throughput falls (bench/poll_bench.py on 2
# cores: 16 threads poll 1,000 checks about twice as fast as 64). Each probe has
# its own deadline, so a hanging endpoint holds one thread, never the others.
DEFAULT_POLL_THREADS = 16
# A pending baseline or hook call older than this was lost with its task (worker
# restart); the tick takes it over.
STALE_TASK_AFTER = timedelta(seconds=10)
# A hook call "sending" for this long died with its worker; it is not resent.
HOOK_SENDING_EXPIRY = timedelta(minutes=2)
MAX_WINDOWS_PER_TICK = 1000
# While probes are out, windows whose probes are all in are recorded this often (seconds).
RECORD_EVERY = 0.25

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _after_fork() -> None:
    """A forked worker process starts its own probe pool (threads do not survive a fork)."""
    global _executor, _executor_lock
    _executor, _executor_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_after_fork)


def executor() -> ThreadPoolExecutor:
    """The process's probe pool (created lazily, so each forked worker gets its own)."""
    global _executor
    with _executor_lock:
        if _executor is None:
            size = poll_threads(DEFAULT_POLL_THREADS)
            _executor = ThreadPoolExecutor(
                max_workers=max(size, 1), thread_name_prefix="shipcheck-probe"
            )
        return _executor


@dataclass
class Claim:
    window_id: int
    slot: int | None  # None: every due slot was stale, nothing to poll now
    slot_time: datetime | None
    gap: tuple[int, int] | None = None


@dataclass
class TickReport:
    claimed: int = 0
    polled: int = 0
    samples: int = 0
    gaps: int = 0
    concluded: int = 0
    lost_races: int = 0
    baselines: int = 0
    hooks: int = 0
    window_ids: list[int] = field(default_factory=list)


# --- Claiming ------------------------------------------------------------------------------------


def claim_slot(row: dict, now: datetime) -> Claim | None:
    """Claim the latest due slot of a window, recording the stale ones before it as a gap.

    ``row`` holds the window's id, next_slot, started_at, ends_at and poll_interval
    as read a moment ago; the UPDATE succeeds only if nobody moved next_slot since.
    """
    interval: timedelta = row["poll_interval"]
    started: datetime = row["started_at"]
    first_due: int = row["next_slot"]
    horizon = min(now, row["ends_at"])
    latest = int((horizon - started) // interval)
    if latest < first_due:
        return None
    latest_time = started + interval * latest
    fresh = now - latest_time < interval
    poll_slot = latest if fresh else None
    last_missed = latest - 1 if fresh else latest
    missed = max(last_missed - first_due + 1, 0)
    following = latest + 1
    with transaction.atomic():
        # The race is decided here: only one UPDATE can move next_slot from first_due.
        won = MonitoringWindow.objects.filter(
            pk=row["id"], status=WindowStatus.RUNNING, next_slot=first_due
        ).update(
            next_slot=following,
            next_poll_at=started + interval * following,
            missed_slots=F("missed_slots") + missed,
            last_polled_at=now if poll_slot is not None else F("last_polled_at"),
        )
        if not won:
            return Claim(window_id=row["id"], slot=-1, slot_time=None)
        gap = None
        if missed:
            gap = (first_due, last_missed)
            PollGap.objects.create(
                window_id=row["id"],
                first_slot=first_due,
                last_slot=last_missed,
                from_time=started + interval * first_due,
                to_time=started + interval * last_missed,
            )
    return Claim(
        window_id=row["id"], slot=poll_slot, slot_time=latest_time if fresh else None, gap=gap
    )


# --- Probing and recording -----------------------------------------------------------------------


def _spec(check: WindowCheck) -> ProbeSpec:
    source = check.health_check if check.kind == CheckKind.HEALTH else check.metric_check
    headers = source.headers if source is not None else {}
    return spec_for(check.kind, check.config, headers, key=check.pk)


def _judge(check: WindowCheck, reading: Reading):
    if check.kind == CheckKind.HEALTH:
        return judge_health(reading)
    baseline = check.baseline
    value = (
        baseline.value if baseline is not None and baseline.status == BaselineStatus.TAKEN else None
    )
    return judge_metric(reading, bounds_from(check.config), value)


def _limits(check: WindowCheck) -> Limits:
    config = check.config
    return Limits(
        failure_limit=int(config.get("failure_limit", 1)),
        inconclusive_limit=int(config.get("inconclusive_limit", 3)),
        consecutive_error_limit=int(config.get("consecutive_error_limit", 4)),
    )


def _tally(check: WindowCheck) -> Tally:
    return Tally(
        passes=check.passes,
        failures=check.failures,
        inconclusives=check.inconclusives,
        errors=check.errors,
        consecutive_errors=check.consecutive_errors,
    )


def _store_tally(check: WindowCheck, tally: Tally) -> None:
    check.passes, check.failures = tally.passes, tally.failures
    check.inconclusives, check.errors = tally.inconclusives, tally.errors
    check.consecutive_errors = tally.consecutive_errors


TALLY_FIELDS = [
    "passes",
    "failures",
    "inconclusives",
    "errors",
    "consecutive_errors",
    "status",
    "reason",
    "last_detail",
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
    fields = [Sample._meta.get_field(name) for name in SAMPLE_FIELDS]
    columns = ", ".join(ops.quote_name(f.column) for f in fields)
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


def _states(checks: list[WindowCheck]) -> list[CheckState]:
    return [CheckState(c.name, c.is_critical, c.status, c.reason) for c in checks]


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
    from monitoring.services.windows import window_close

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
                tally = _tally(check).add(judgement.outcome)
                _store_tally(check, tally)
                check.last_detail = judgement.detail[:300]
                if reading.status == SampleStatus.ERROR:
                    check.last_error = (reading.error or judgement.detail)[:300]
                verdict = check_verdict(
                    check.name,
                    tally,
                    _limits(check),
                    finished=False,
                    last_detail=check.last_detail,
                    last_error=check.last_error,
                )
                check.status, check.reason = verdict.status, verdict.reason
                changed.append(check)
            if not running:
                continue
            verdict = window_verdict(_states(checks), finished=False)
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


def settle_running_checks(window: MonitoringWindow) -> list[WindowCheck]:
    """Give every still-running check its final verdict (window locked by the caller)."""
    checks = list(window.checks.all())
    settled = []
    for check in checks:
        if check.status == CheckVerdictStatus.RUNNING:
            verdict = check_verdict(
                check.name,
                _tally(check),
                _limits(check),
                finished=True,
                last_detail=check.last_detail,
                last_error=check.last_error,
            )
            check.status, check.reason = verdict.status, verdict.reason
            settled.append(check)
    if settled:
        WindowCheck.objects.bulk_update(settled, ["status", "reason"])
    return checks


def final_verdicts(window: MonitoringWindow) -> Verdict:
    """Each check's and then the window's verdict once its time is up (window locked by the caller)."""
    return window_verdict(_states(settle_running_checks(window)), finished=True)


def poll_claims(claims: list[Claim], report: TickReport, now: datetime | None = None) -> None:
    """Probe every check of the claimed windows at once; record windows as their probes come in.

    Every RECORD_EVERY seconds (or when all probes are in) the calling thread
    records every window whose probes have all answered, in one transaction: a
    slow endpoint delays only its own window, and a thousand checks cost a
    handful of commits, not a thousand.
    """
    polls = [c for c in claims if c.slot is not None and c.slot >= 0]
    if not polls:
        return
    by_window = {c.window_id: c for c in polls}
    checks = list(
        WindowCheck.objects.filter(window_id__in=by_window)
        .select_related("health_check", "metric_check")
        .order_by("window_id", "position")
    )
    pending: dict[int, int] = {}
    for check in checks:
        pending[check.window_id] = pending.get(check.window_id, 0) + 1
    readings: dict[int, dict[int, Reading]] = {wid: {} for wid in by_window}
    taken_at = now or timezone.now()
    pool = executor()
    futures = {pool.submit(_safe_probe, _spec(check)): check for check in checks}
    waiting = set(futures)
    while waiting:
        # Record in batches: each database call hands the GIL back to the probe
        # threads and waits to get it again, so a few big batches cost far less
        # than one per window. A hanging probe delays others' records by RECORD_EVERY.
        done, waiting = wait(waiting, timeout=RECORD_EVERY, return_when=ALL_COMPLETED)
        complete = []
        for future in done:
            check = futures[future]
            readings[check.window_id][check.pk] = future.result()
            pending[check.window_id] -= 1
            if pending[check.window_id] == 0:
                complete.append(by_window[check.window_id])
        if complete:
            _record_batch(complete, readings, taken_at, report)


def _record_batch(
    claims: list[Claim],
    readings: dict[int, dict[int, Reading]],
    taken_at: datetime,
    report: TickReport,
) -> None:
    results = [SlotResult(c.window_id, c.slot, taken_at, readings[c.window_id]) for c in claims]
    try:
        windows_record(results)
    except Exception:  # noqa: BLE001 - the slots stay claimed; their windows are polled again next slot
        logger.exception("Recording %d windows failed", len(results))
        return
    report.polled += len(results)
    report.samples += sum(len(r.readings) for r in results)


def _safe_probe(spec: ProbeSpec) -> Reading:
    try:
        reading, _result = probe(spec)
        return reading
    except Exception as exc:  # noqa: BLE001 - a probe ends as a recorded sample, never as a crash
        logger.exception("Probe of %s failed unexpectedly", spec.url)
        return Reading(SampleStatus.ERROR, error=f"internal error: {type(exc).__name__}")


# --- The tick ------------------------------------------------------------------------------------


def monitoring_tick(*, now: datetime | None = None) -> TickReport:
    """One scheduler tick: poll due slots, conclude windows whose time is up, pick up lost work.

    Safe to run on any number of workers at once (see the module docstring).
    """
    from monitoring.services.windows import window_conclude

    now = now or timezone.now()
    report = TickReport()
    rows = list(
        MonitoringWindow.objects.filter(status=WindowStatus.RUNNING, next_poll_at__lte=now)
        .filter(next_poll_at__lte=F("ends_at"))
        .order_by("next_poll_at", "id")  # one lock order for every worker: no deadlocks
        .values("id", "next_slot", "started_at", "ends_at", "poll_interval")[:MAX_WINDOWS_PER_TICK]
    )
    claims = []
    # One transaction for all the claims of this tick (each claim is still its own
    # conditional UPDATE, decided row by row): one commit instead of one per window.
    with transaction.atomic():
        for row in rows:
            claim = claim_slot(row, now)
            if claim is None:
                continue
            if claim.slot == -1:
                report.lost_races += 1
                continue
            report.claimed += 1
            report.window_ids.append(claim.window_id)
            if claim.gap:
                report.gaps += claim.gap[1] - claim.gap[0] + 1
            claims.append(claim)
    _take_stale_baselines(now, report)
    poll_claims(claims, report, now)
    ending = MonitoringWindow.objects.filter(
        status=WindowStatus.RUNNING, ends_at__lte=now, next_poll_at__gt=F("ends_at")
    ).values_list("id", flat=True)
    for window_id in list(ending):
        window = window_conclude(window_id=window_id, now=now)
        if window is not None and window.status != WindowStatus.RUNNING:
            report.concluded += 1
    _send_stale_hooks(now, report)
    return report


# --- Baselines -------------------------------------------------------------------------------------


def baselines_take(*, deployment_id: int) -> int:
    """Measure every pending baseline of a deployment (concurrently). Returns how many were taken."""
    baselines = list(
        Baseline.objects.filter(
            deployment_id=deployment_id, status=BaselineStatus.PENDING
        ).select_related("metric_check")
    )
    specs = {}
    for baseline in baselines:
        check = baseline.metric_check
        if check is None:
            continue
        from monitoring.services.config import metric_config

        specs[baseline.pk] = spec_for(
            CheckKind.METRIC, metric_config(check), check.headers, key=baseline.pk
        )
    if not specs:
        return 0
    pool = executor()
    readings = dict(zip(specs, pool.map(_safe_probe, specs.values()), strict=True))
    now = timezone.now()
    for baseline in baselines:
        reading = readings.get(baseline.pk)
        if reading is None:
            continue
        if reading.status == SampleStatus.OK:
            status, value, error = BaselineStatus.TAKEN, reading.value, ""
        elif reading.status == SampleStatus.NO_DATA:
            status, value, error = BaselineStatus.NO_DATA, None, reading.error
        else:
            status, value, error = BaselineStatus.ERROR, None, reading.error
        # Conditional: a baseline is taken once, by whoever gets there first.
        Baseline.objects.filter(pk=baseline.pk, status=BaselineStatus.PENDING).update(
            status=status, value=value, error=error[:300], taken_at=now
        )
    return len(readings)


def _take_stale_baselines(now: datetime, report: TickReport) -> None:
    stale = (
        Baseline.objects.filter(
            status=BaselineStatus.PENDING, created_at__lte=now - STALE_TASK_AFTER
        )
        .values_list("deployment_id", flat=True)
        .distinct()
    )
    for deployment_id in list(stale)[:50]:
        report.baselines += baselines_take(deployment_id=deployment_id)


def _send_stale_hooks(now: datetime, report: TickReport) -> None:
    from monitoring.services.hooks import hook_call_send

    HookCall.objects.filter(
        status=HookCallStatus.SENDING, sent_at__lte=now - HOOK_SENDING_EXPIRY
    ).update(
        status=HookCallStatus.FAILED,
        finished_at=now,
        error="The worker sending this call stopped; whether the hook received it is unknown.",
    )
    stale = HookCall.objects.filter(
        status=HookCallStatus.PENDING, created_at__lte=now - STALE_TASK_AFTER
    )
    for call_id in list(stale.values_list("id", flat=True)[:20]):
        hook_call_send(call_id=call_id)
        report.hooks += 1
