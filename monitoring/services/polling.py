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
from collections.abc import Mapping
from concurrent.futures import ALL_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from monitoring.choices import (
    BaselineStatus,
    CheckKind,
    HookCallStatus,
    SampleStatus,
    WindowStatus,
)
from monitoring.conf import poll_threads
from monitoring.models import Baseline, HookCall, MonitoringWindow, PollGap, WindowCheck
from monitoring.probes import ProbeSpec, probe
from monitoring.services.config import metric_config, spec_for
from monitoring.services.hooks import hook_call_send
from monitoring.services.recording import SlotResult, window_record, windows_record
from monitoring.services.windows import window_conclude
from monitoring.verdicts import Reading

# The recording moved to ``monitoring.services.recording``; its names stay importable from here.
__all__ = [
    "Claim",
    "SlotResult",
    "TickReport",
    "baselines_take",
    "claim_slot",
    "executor",
    "monitoring_tick",
    "poll_claims",
    "window_record",
    "windows_record",
]

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


def claim_slot(row: Mapping[str, Any], now: datetime) -> Claim | None:
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


# --- Probing -------------------------------------------------------------------------------------


def _spec(check: WindowCheck) -> ProbeSpec:
    source = check.health_check if check.kind == CheckKind.HEALTH else check.metric_check
    headers = source.headers if source is not None else {}
    return spec_for(check.kind, check.config, headers, key=check.pk)


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
    results = [
        SlotResult(c.window_id, c.slot, taken_at, readings[c.window_id])
        for c in claims
        if c.slot is not None  # always: only claims with a slot are polled
    ]
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
