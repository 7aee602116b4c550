"""Watching a rollout step: the environment's monitoring checks, polled until the hold time is over.

A step is a monitoring window of its own: when its percentage is applied it
copies the chosen checks of the environment (their settings frozen, as
monitoring's deployment windows do), then every poll interval a worker claims
the next slot with a conditional UPDATE, probes every check through
monitoring's probes and safe fetcher, and tallies the outcomes with
monitoring's verdict rules (``monitoring.verdicts``). A critical check that
fails ends the step at once; otherwise the verdict is reached when the hold
time is over. Deployment windows are tied to one deployment each, so the step
keeps its tally on its own row instead of a ``MonitoringWindow``; the monitoring page
lists the steps being watched beside the windows (``monitoring.registry``).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from flags.choices import StepStatus
from flags.models import RolloutPlan, RolloutStep
from monitoring.choices import CheckKind, CheckVerdictStatus, SampleStatus, WindowStatus
from monitoring.conf import tick_seconds
from monitoring.models import HealthCheck, MetricCheck
from monitoring.probes import probe
from monitoring.services.config import (
    bounds_from,
    check_config,
    enabled_checks,
    policy_for,
    spec_for,
)
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

# Polls a step takes at least, so that a short hold still gives monitoring's three measurements.
MIN_POLLS_PER_STEP = 5


def step_checks(plan: RolloutPlan) -> list[HealthCheck | MetricCheck]:
    health, metrics = enabled_checks(plan.environment)
    checks: list[HealthCheck | MetricCheck] = [*health, *metrics]
    if plan.check_names:
        wanted = set(plan.check_names)
        checks = [c for c in checks if c.name in wanted]
    return checks


def watch_open(step: RolloutStep, plan: RolloutPlan, now: datetime) -> None:
    """Start watching ``step`` (its row is saved by the caller)."""
    policy = policy_for(plan.environment)
    interval = min(policy.poll_interval, step.hold / MIN_POLLS_PER_STEP)
    interval = max(interval, timedelta(seconds=tick_seconds()))
    step.status = StepStatus.WATCHING
    step.started_at = now
    step.ends_at = now + step.hold
    step.finished_at = None
    step.poll_interval = interval
    step.next_slot = 1
    step.next_poll_at = now + interval
    step.checks = [
        {
            "id": check.pk,
            "kind": check.kind,
            "name": check.name,
            "critical": check.is_critical,
            "config": check_config(check),
            "passes": 0,
            "failures": 0,
            "inconclusives": 0,
            "errors": 0,
            "consecutive_errors": 0,
            "status": CheckVerdictStatus.RUNNING,
            "reason": "",
            "last_detail": "",
            "last_error": "",
        }
        for check in step_checks(plan)
    ]
    names = ", ".join(c["name"] for c in step.checks) or "no checks (a person decides)"
    step.reason = f"Watching {names} for {_duration(step.hold)}."


def _duration(value: timedelta) -> str:
    seconds = value.total_seconds()
    if seconds >= 86400 and seconds % 86400 == 0:
        days = int(seconds // 86400)
        return f"{days} day" + ("" if days == 1 else "s")
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{int(seconds // 3600)} h"
    if seconds >= 60:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


def _tally(check: dict[str, Any]) -> Tally:
    return Tally(
        passes=check["passes"],
        failures=check["failures"],
        inconclusives=check["inconclusives"],
        errors=check["errors"],
        consecutive_errors=check["consecutive_errors"],
    )


def _limits(check: dict[str, Any]) -> Limits:
    config = check["config"]
    return Limits(
        failure_limit=int(config.get("failure_limit", 1)),
        inconclusive_limit=int(config.get("inconclusive_limit", 3)),
        consecutive_error_limit=int(config.get("consecutive_error_limit", 4)),
    )


def _verdict_store(check: dict[str, Any], *, finished: bool) -> None:
    verdict = check_verdict(
        check["name"],
        _tally(check),
        _limits(check),
        finished=finished,
        last_detail=check["last_detail"],
        last_error=check["last_error"],
    )
    check["status"], check["reason"] = verdict.status, verdict.reason


def step_verdict(step: RolloutStep, *, finished: bool) -> Verdict:
    """The step's verdict from its checks' verdicts, by monitoring's window rules."""
    if finished:
        for check in step.checks:
            if check["status"] == CheckVerdictStatus.RUNNING:
                _verdict_store(check, finished=True)
    states = [CheckState(c["name"], c["critical"], c["status"], c["reason"]) for c in step.checks]
    if not states:
        if not finished:
            return Verdict(WindowStatus.RUNNING, "No checks watch this step.")
        return Verdict(WindowStatus.INCONCLUSIVE, "No checks watched this step; a person decides.")
    return window_verdict(states, finished=finished)


def check_record(check: dict[str, Any], reading: Reading) -> None:
    if check["kind"] == CheckKind.HEALTH:
        judgement = judge_health(reading)
    else:
        judgement = judge_metric(reading, bounds_from(check["config"]), None)
    tally = _tally(check).add(judgement.outcome)
    check.update(
        passes=tally.passes,
        failures=tally.failures,
        inconclusives=tally.inconclusives,
        errors=tally.errors,
        consecutive_errors=tally.consecutive_errors,
        last_detail=judgement.detail[:300],
    )
    if reading.status == SampleStatus.ERROR:
        check["last_error"] = (reading.error or "")[:300]
    _verdict_store(check, finished=False)


def check_headers(checks: list[dict[str, Any]]) -> dict[tuple[str, int], dict[str, str]]:
    """Check headers are secrets read live (never copied into the step's row)."""
    ids = {c["id"] for c in checks if c["kind"] == CheckKind.HEALTH}
    mids = {c["id"] for c in checks if c["kind"] == CheckKind.METRIC}
    found: dict[tuple[str, int], dict[str, str]] = {}
    for h in HealthCheck.objects.filter(pk__in=ids).only("id", "headers"):
        found[(CheckKind.HEALTH, h.pk)] = h.headers or {}
    for m in MetricCheck.objects.filter(pk__in=mids).only("id", "headers"):
        found[(CheckKind.METRIC, m.pk)] = m.headers or {}
    return found


def check_probe(check: dict[str, Any], headers: dict[str, str]) -> Reading:
    try:
        reading, _result = probe(spec_for(check["kind"], check["config"], headers, key=check["id"]))
        return reading
    except Exception as exc:  # noqa: BLE001 - a probe ends as a recorded outcome, never as a crash
        logger.exception("Probe of %s failed unexpectedly", check["name"])
        return Reading(SampleStatus.ERROR, error=f"internal error: {type(exc).__name__}")
