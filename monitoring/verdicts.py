"""The verdict engine: pure functions from readings to verdicts, with the reasons in words.

Three levels, after Argo Rollouts' AnalysisRun:

1. ``judge_metric`` / ``judge_health``: one reading → one *measurement outcome*
   (pass, fail, inconclusive, error) and a sentence with the numbers.
2. ``check_verdict``: the tally of a check's outcomes → the check's verdict.
   Failed when failures exceed ``failure_limit``; error when errors in a row
   exceed ``consecutive_error_limit``; inconclusive when no-data outcomes exceed
   ``inconclusive_limit``; passed when the window ends with none of those.
3. ``window_verdict``: the checks' verdicts → the window's. A critical check
   that fails fails the window at once. An error holds the window (the
   provider is out: that is not evidence against the deployment, so it never
   fails the window nor rolls anything back). Too little evidence, or a
   non-critical check failing, makes the window inconclusive: a person decides.

Nothing here touches the database or the network, so the golden table in
``tests/monitoring/test_verdicts.py`` can pin every rule down.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from monitoring.choices import CheckVerdictStatus, Direction, Outcome, SampleStatus, WindowStatus

# The fewest usable measurements (passes and failures) a check needs for a window to
# end *passed*: one or two readings can be a lucky moment, three show a trend. Policies
# are refused when their window is too short to take this many (services/validation.py).
MIN_MEASUREMENTS = 3


@dataclass(frozen=True)
class Reading:
    """What a probe got back: a value or a status, before anyone judges it."""

    status: str
    value: float | None = None
    error: str = ""
    http_status: int | None = None
    latency_ms: float | None = None


@dataclass(frozen=True)
class Judgement:
    outcome: str
    detail: str


@dataclass(frozen=True)
class Bounds:
    direction: str = Direction.HIGHER_IS_WORSE
    min_value: float | None = None
    max_value: float | None = None
    baseline_delta: float | None = None
    baseline_ratio: float | None = None
    noise_floor: float | None = None
    unit: str = ""

    @property
    def absolute(self) -> bool:
        return self.min_value is not None or self.max_value is not None

    @property
    def relative(self) -> bool:
        return self.baseline_delta is not None or self.baseline_ratio is not None


@dataclass(frozen=True)
class Limits:
    failure_limit: int = 1
    inconclusive_limit: int = 3
    consecutive_error_limit: int = 4


@dataclass(frozen=True)
class Tally:
    passes: int = 0
    failures: int = 0
    inconclusives: int = 0
    errors: int = 0
    consecutive_errors: int = 0

    @property
    def total(self) -> int:
        return self.passes + self.failures + self.inconclusives + self.errors

    def add(self, outcome: str) -> Tally:
        if outcome == Outcome.ERROR:
            return replace(
                self, errors=self.errors + 1, consecutive_errors=self.consecutive_errors + 1
            )
        fields: dict[str, str] = {
            Outcome.PASS: "passes",
            Outcome.FAIL: "failures",
            Outcome.INCONCLUSIVE: "inconclusives",
        }
        field = fields[outcome]
        return replace(self, consecutive_errors=0, **{field: getattr(self, field) + 1})


@dataclass(frozen=True)
class Verdict:
    status: str
    reason: str


@dataclass(frozen=True)
class CheckState:
    """A check's verdict as the window sees it."""

    name: str
    critical: bool
    status: str
    reason: str


# --- Numbers in sentences --------------------------------------------------------


def fmt(value: float | None, unit: str = "") -> str:
    """A number as people read it: ``412 ms``, ``3.2 %``, ``0.0315``, ``+Inf``."""
    if value is None:
        return "no value"
    if math.isnan(value):
        text = "NaN"
    elif math.isinf(value):
        text = "+Inf" if value > 0 else "-Inf"
    elif value == int(value) and abs(value) < 1e12:
        text = f"{int(value):,}" if abs(value) >= 1000 else str(int(value))
    elif abs(value) >= 1000:
        text = f"{value:,.0f}"
    elif abs(value) >= 1:
        text = f"{value:.2f}".rstrip("0").rstrip(".")
    else:
        text = f"{value:.3g}"
    return f"{text} {unit}".strip() if unit else text


def _usable(value: float | None) -> bool:
    return value is not None and not math.isnan(value)


# --- 1. One reading → one outcome ----------------------------------------------------


def relative_limit(bounds: Bounds, baseline: float) -> tuple[float, str]:
    """The value past which a metric is worse than its baseline allows, and how it was computed."""
    unit = bounds.unit
    higher = bounds.direction == Direction.HIGHER_IS_WORSE
    candidates: list[tuple[float, str]] = []
    if bounds.baseline_ratio is not None:
        limit = baseline * bounds.baseline_ratio if higher else baseline / bounds.baseline_ratio
        sign = "×" if higher else "÷"
        candidates.append(
            (limit, f"baseline {fmt(baseline, unit)} {sign} {fmt(bounds.baseline_ratio)}")
        )
    if bounds.baseline_delta is not None:
        limit = baseline + bounds.baseline_delta if higher else baseline - bounds.baseline_delta
        sign = "+" if higher else "−"
        candidates.append(
            (limit, f"baseline {fmt(baseline, unit)} {sign} {fmt(bounds.baseline_delta, unit)}")
        )
    # Worse than *every* relative bound counts as a breach, so the loosest one binds.
    return max(candidates) if higher else min(candidates)


def judge_metric(reading: Reading, bounds: Bounds, baseline: float | None) -> Judgement:
    """Judge one metric reading against absolute bounds and the baseline."""
    unit = bounds.unit
    if reading.status == SampleStatus.ERROR or reading.status == SampleStatus.UNHEALTHY:
        return Judgement(Outcome.ERROR, f"could not be measured: {reading.error or 'no answer'}")
    value = reading.value
    if reading.status == SampleStatus.NO_DATA or not _usable(value):
        return Judgement(Outcome.INCONCLUSIVE, reading.error or "the query returned no data")
    assert value is not None
    shown = fmt(value, unit)
    if bounds.min_value is not None and value < bounds.min_value:
        return Judgement(
            Outcome.FAIL, f"{shown} is below the minimum {fmt(bounds.min_value, unit)}"
        )
    if bounds.max_value is not None and value > bounds.max_value:
        return Judgement(
            Outcome.FAIL, f"{shown} is above the maximum {fmt(bounds.max_value, unit)}"
        )
    if bounds.relative:
        if not _usable(baseline):
            if bounds.absolute:
                return Judgement(
                    Outcome.PASS,
                    f"{shown} is within the absolute bounds "
                    "(no baseline, so the relative bounds were skipped)",
                )
            return Judgement(
                Outcome.INCONCLUSIVE, f"{shown} cannot be compared: no baseline was taken"
            )
        assert baseline is not None
        limit, how = relative_limit(bounds, baseline)
        floor = bounds.noise_floor
        if bounds.direction == Direction.HIGHER_IS_WORSE:
            if value > limit and (floor is None or value > floor):
                beyond = f" and above {fmt(floor, unit)}" if floor is not None else ""
                return Judgement(
                    Outcome.FAIL, f"{shown} is above {fmt(limit, unit)} ({how}){beyond}"
                )
            word = "at most"
        else:
            if value < limit and (floor is None or value < floor):
                beyond = f" and below {fmt(floor, unit)}" if floor is not None else ""
                return Judgement(
                    Outcome.FAIL, f"{shown} is below {fmt(limit, unit)} ({how}){beyond}"
                )
            word = "at least"
        if floor is not None and (
            (bounds.direction == Direction.HIGHER_IS_WORSE and value > limit)
            or (bounds.direction == Direction.LOWER_IS_WORSE and value < limit)
        ):
            return Judgement(
                Outcome.PASS,
                f"{shown} is past {fmt(limit, unit)} ({how}) but within the "
                f"noise floor {fmt(floor, unit)}",
            )
        return Judgement(Outcome.PASS, f"{shown} is {word} {fmt(limit, unit)} ({how})")
    if bounds.absolute:
        return Judgement(Outcome.PASS, f"{shown} is within {_range(bounds)}")
    return Judgement(Outcome.PASS, f"{shown} (no bounds set; recorded only)")


def _range(bounds: Bounds) -> str:
    unit = bounds.unit
    if bounds.min_value is not None and bounds.max_value is not None:
        return f"{fmt(bounds.min_value, unit)} to {fmt(bounds.max_value, unit)}"
    if bounds.max_value is not None:
        return f"the maximum {fmt(bounds.max_value, unit)}"
    return f"the minimum {fmt(bounds.min_value, unit)}"


def judge_health(reading: Reading) -> Judgement:
    """A health endpoint: answering as expected passes; answering otherwise fails.

    Not answering at all (refused, timed out, unreachable) is an *error*: it
    says we could not look, not that the deployment is bad.
    """
    if reading.status == SampleStatus.OK:
        took = f" in {fmt(reading.latency_ms, 'ms')}" if reading.latency_ms is not None else ""
        return Judgement(Outcome.PASS, f"answered HTTP {reading.http_status}{took} as expected")
    if reading.status == SampleStatus.UNHEALTHY:
        return Judgement(Outcome.FAIL, reading.error or f"answered HTTP {reading.http_status}")
    if reading.status == SampleStatus.NO_DATA:
        return Judgement(Outcome.INCONCLUSIVE, reading.error or "no data")
    return Judgement(Outcome.ERROR, f"could not be reached: {reading.error or 'no answer'}")


# --- 2. A check's tally → its verdict ------------------------------------------------------


def _measurements(n: int) -> str:
    return f"{n} measurement" + ("" if n == 1 else "s")


def check_verdict(
    name: str,
    tally: Tally,
    limits: Limits,
    *,
    finished: bool,
    last_detail: str = "",
    last_error: str = "",
    last_failed: bool = False,
    min_measurements: int = MIN_MEASUREMENTS,
) -> Verdict:
    """The verdict on one check after ``tally``; ``finished`` once the window's time is up.

    A finished check passes only on at least ``min_measurements`` usable
    measurements; with fewer it is inconclusive and says how many it had.
    """
    taken = tally.total
    if tally.failures > limits.failure_limit:
        return Verdict(
            CheckVerdictStatus.FAILED,
            f"{name} failed {tally.failures} of {_measurements(taken)}, more than the limit of "
            f"{limits.failure_limit}; last: {last_detail}.",
        )
    if tally.consecutive_errors > limits.consecutive_error_limit:
        return Verdict(
            CheckVerdictStatus.ERROR,
            f"{name} could not be measured {tally.consecutive_errors} times in a row, more than the limit "
            f"of {limits.consecutive_error_limit}; last error: {last_error or 'unknown'}.",
        )
    if tally.inconclusives > limits.inconclusive_limit:
        return Verdict(
            CheckVerdictStatus.INCONCLUSIVE,
            f"{name} gave no usable value in {tally.inconclusives} of {_measurements(taken)}, more than "
            f"the limit of {limits.inconclusive_limit}; last: {last_detail}.",
        )
    judged = tally.passes + tally.failures
    if not finished:
        return Verdict(
            CheckVerdictStatus.RUNNING,
            f"{name}: {tally.passes} of {_measurements(taken)} passed so far"
            + (
                f", {tally.failures} failed (limit {limits.failure_limit})"
                if tally.failures
                else ""
            )
            + ".",
        )
    if judged == 0:
        if tally.errors:
            return Verdict(
                CheckVerdictStatus.ERROR,
                f"{name} could not be measured once in this window ({tally.errors} errors); "
                f"last error: {last_error or 'unknown'}.",
            )
        return Verdict(
            CheckVerdictStatus.INCONCLUSIVE,
            f"{name} has no usable measurement in this window ({_measurements(taken)} taken).",
        )
    if judged < min_measurements:
        return Verdict(
            CheckVerdictStatus.INCONCLUSIVE,
            f"{name} has only {judged} usable {_measurements(judged).split(' ', 1)[1]} in this "
            f"window, fewer than the {min_measurements} a verdict needs "
            f"({tally.passes} passed, {tally.failures} failed).",
        )
    extras = []
    if tally.failures:
        extras.append(f"{tally.failures} failed, within the limit of {limits.failure_limit}")
    if tally.inconclusives:
        extras.append(f"{tally.inconclusives} without data")
    if tally.errors:
        extras.append(f"{tally.errors} could not be taken")
    # Passed overall, yet the newest reading breached: say so, or a green "Passed" beside a
    # failed window reads as a contradiction.
    last = (
        f"; its last reading breached: {last_detail}." if last_failed else f"; last: {last_detail}."
    )
    return Verdict(
        CheckVerdictStatus.PASSED,
        f"{name} passed {tally.passes} of {_measurements(taken)}"
        + (f" ({'; '.join(extras)})" if extras else "")
        + last,
    )


# --- 3. The checks' verdicts → the window's ------------------------------------------------


def _names(states: Sequence[CheckState]) -> str:
    names = [f"'{s.name}'" for s in states]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def window_verdict(states: Sequence[CheckState], *, finished: bool) -> Verdict:
    """The verdict on a window from its checks' verdicts."""
    if not states:
        return Verdict(
            WindowStatus.INCONCLUSIVE, "This window has no checks to watch; a person decides."
        )
    by_status: dict[str, list[CheckState]] = {}
    for state in states:
        by_status.setdefault(state.status, []).append(state)
    failed = by_status.get(CheckVerdictStatus.FAILED, [])
    critical_failed = [s for s in failed if s.critical]
    errors = by_status.get(CheckVerdictStatus.ERROR, [])
    inconclusive = by_status.get(CheckVerdictStatus.INCONCLUSIVE, [])
    if critical_failed:
        first = critical_failed[0]
        noun = "check" if len(critical_failed) == 1 else "checks"
        return Verdict(
            WindowStatus.FAILED,
            f"Critical {noun} {_names(critical_failed)} failed: {first.reason} Rollback recommended.",
        )
    if errors:
        return Verdict(
            WindowStatus.ERROR,
            f"Holding: {errors[0].reason} A measurement outage is not evidence against the deployment, so "
            "nothing is rolled back; a person decides whether to continue, extend or roll back.",
        )
    if inconclusive:
        return Verdict(WindowStatus.INCONCLUSIVE, f"{inconclusive[0].reason} A person decides.")
    if not finished:
        passing = len(states) - len(failed)
        text = f"Watching {len(states)} check{'s' if len(states) != 1 else ''}: {passing} passing so far"
        if failed:
            text += f"; non-critical {_names(failed)} failed"
        return Verdict(WindowStatus.RUNNING, text + ".")
    if failed:
        return Verdict(
            WindowStatus.INCONCLUSIVE,
            f"Non-critical {'check' if len(failed) == 1 else 'checks'} {_names(failed)} failed: "
            f"{failed[0].reason} Every critical check passed; a person decides.",
        )
    count = len(states)
    return Verdict(
        WindowStatus.PASSED,
        f"All {count} check{'s' if count != 1 else ''} passed. "
        + " ".join(s.reason for s in states),
    )
