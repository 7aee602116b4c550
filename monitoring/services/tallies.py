"""A check's tally and verdict inside a window, read from and written to its ``WindowCheck`` row.

The arithmetic is ``monitoring.verdicts``'; this module only moves the counts
between the rows and the verdict functions. Both the recording of a slot and
the closing of a window use it.
"""

from __future__ import annotations

from monitoring.choices import CheckVerdictStatus, Outcome
from monitoring.models import MonitoringWindow, WindowCheck
from monitoring.verdicts import CheckState, Limits, Tally, Verdict, check_verdict, window_verdict


def check_limits(check: WindowCheck) -> Limits:
    config = check.config
    return Limits(
        failure_limit=int(config.get("failure_limit", 1)),
        inconclusive_limit=int(config.get("inconclusive_limit", 3)),
        consecutive_error_limit=int(config.get("consecutive_error_limit", 4)),
    )


def check_tally(check: WindowCheck) -> Tally:
    return Tally(
        passes=check.passes,
        failures=check.failures,
        inconclusives=check.inconclusives,
        errors=check.errors,
        consecutive_errors=check.consecutive_errors,
    )


def check_tally_store(check: WindowCheck, tally: Tally) -> None:
    check.passes, check.failures = tally.passes, tally.failures
    check.inconclusives, check.errors = tally.inconclusives, tally.errors
    check.consecutive_errors = tally.consecutive_errors


def check_states(checks: list[WindowCheck]) -> list[CheckState]:
    return [CheckState(c.name, c.is_critical, c.status, c.reason) for c in checks]


def check_verdict_store(check: WindowCheck, *, finished: bool) -> None:
    """Set a check's status and reason from its tally (``finished``: the window's time is up)."""
    verdict = check_verdict(
        check.name,
        check_tally(check),
        check_limits(check),
        finished=finished,
        last_detail=check.last_detail,
        last_error=check.last_error,
        last_failed=check.last_outcome == Outcome.FAIL,
    )
    check.status, check.reason = verdict.status, verdict.reason


def settle_running_checks(window: MonitoringWindow) -> list[WindowCheck]:
    """Give every still-running check its final verdict (window locked by the caller)."""
    checks = list(window.checks.all())
    settled = []
    for check in checks:
        if check.status == CheckVerdictStatus.RUNNING:
            check_verdict_store(check, finished=True)
            settled.append(check)
    if settled:
        WindowCheck.objects.bulk_update(settled, ["status", "reason"])
    return checks


def final_verdicts(window: MonitoringWindow) -> Verdict:
    """Each check's and then the window's verdict once its time is up (window locked by the caller)."""
    return window_verdict(check_states(settle_running_checks(window)), finished=True)
