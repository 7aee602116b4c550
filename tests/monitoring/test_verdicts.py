"""The golden table of the verdict engine: every rule, with the sentence it gives.

Pure functions, no database and no network: each row is (reading or tally or
check states) → (status, a phrase the reason must contain).
"""

from __future__ import annotations

import math

import pytest

from monitoring.choices import CheckVerdictStatus as C
from monitoring.choices import Direction, Outcome, SampleStatus, WindowStatus
from monitoring.verdicts import (
    Bounds,
    CheckState,
    Limits,
    Reading,
    Tally,
    check_verdict,
    judge_health,
    judge_metric,
    window_verdict,
)

INF = math.inf
ok = lambda v: Reading(SampleStatus.OK, value=v)  # noqa: E731
PCT = {"unit": "%"}
MS = {"unit": "ms"}
LOWER = {"direction": Direction.LOWER_IS_WORSE}


def tally(*outcomes: str) -> Tally:
    result = Tally()
    for outcome in outcomes:
        result = result.add(outcome)
    return result


P, F, I, E = Outcome.PASS, Outcome.FAIL, Outcome.INCONCLUSIVE, Outcome.ERROR  # noqa: E741

# --- 1. One reading → one outcome ------------------------------------------------------------------

METRIC_CASES = [
    # id, reading, bounds, baseline, outcome, phrase
    (
        "provider error",
        Reading(SampleStatus.ERROR, error="Prometheus answered HTTP 503"),
        {"max_value": 5},
        None,
        E,
        "could not be measured: Prometheus answered HTTP 503",
    ),
    (
        "empty result",
        Reading(SampleStatus.NO_DATA, error="the query returned no series (no data)"),
        {"max_value": 5},
        None,
        I,
        "no series",
    ),
    ("NaN value", ok(math.nan), {"max_value": 5}, None, I, "no data"),
    ("within max", ok(3.2), {"max_value": 5, **PCT}, None, P, "3.2 % is within the maximum 5 %"),
    ("above max", ok(9.5), {"max_value": 5, **PCT}, None, F, "9.5 % is above the maximum 5 %"),
    (
        "below min",
        ok(40),
        {"min_value": 50, "direction": Direction.LOWER_IS_WORSE},
        None,
        F,
        "40 is below the minimum 50",
    ),
    ("exactly at max passes", ok(5.0), {"max_value": 5}, None, P, "within the maximum 5"),
    ("within a range", ok(60), {"min_value": 50, "max_value": 80}, None, P, "within 50 to 80"),
    (
        "+Inf above max",
        ok(INF),
        {"max_value": 500, **MS},
        None,
        F,
        "+Inf ms is above the maximum 500 ms",
    ),
    ("-Inf below min", ok(-INF), {"min_value": 0}, None, F, "-Inf is below the minimum 0"),
    (
        "baseline + delta within",
        ok(1.2),
        {"baseline_delta": 1, **PCT},
        0.5,
        P,
        "1.2 % is at most 1.5 % (baseline 0.5 % + 1 %)",
    ),
    (
        "baseline + delta breached",
        ok(3.2),
        {"baseline_delta": 1, **PCT},
        0.5,
        F,
        "3.2 % is above 1.5 % (baseline 0.5 % + 1 %)",
    ),
    (
        "baseline × ratio breached",
        ok(260),
        {"baseline_ratio": 1.2, **MS},
        200,
        F,
        "260 ms is above 240 ms (baseline 200 ms × 1.2)",
    ),
    (
        "ratio breached but within noise floor",
        ok(150),
        {"baseline_ratio": 1.2, "noise_floor": 200, **MS},
        100,
        P,
        "within the noise floor 200 ms",
    ),
    (
        "ratio and noise floor both breached",
        ok(1400),
        {"baseline_ratio": 1.2, "noise_floor": 200, **MS},
        180,
        F,
        "1,400 ms is above 216 ms (baseline 180 ms × 1.2) and above 200 ms",
    ),
    (
        "the looser of ratio and delta binds",
        ok(230),
        {"baseline_ratio": 1.2, "baseline_delta": 50, **MS},
        180,
        P,
        "at most 230 ms (baseline 180 ms + 50 ms)",
    ),
    (
        "lower is worse, ratio breached",
        ok(700),
        {"baseline_ratio": 1.25, **LOWER},
        1000,
        F,
        "700 is below 800 (baseline 1,000 ÷ 1.25)",
    ),
    (
        "lower is worse, delta within",
        ok(95),
        {"baseline_delta": 10, **LOWER},
        100,
        P,
        "95 is at least 90 (baseline 100 − 10)",
    ),
    (
        "relative only, no baseline",
        ok(2.0),
        {"baseline_delta": 1},
        None,
        I,
        "no baseline was taken",
    ),
    (
        "relative and absolute, no baseline",
        ok(2.0),
        {"baseline_delta": 1, "max_value": 5},
        None,
        P,
        "relative bounds were skipped",
    ),
    (
        "absolute breach without baseline",
        ok(7.0),
        {"baseline_delta": 1, "max_value": 5},
        None,
        F,
        "above the maximum 5",
    ),
    ("NaN baseline counts as none", ok(2.0), {"baseline_ratio": 2}, math.nan, I, "no baseline"),
    (
        "+Inf against a baseline",
        ok(INF),
        {"baseline_ratio": 1.5, **MS},
        200,
        F,
        "+Inf ms is above 300 ms",
    ),
    ("no bounds: recorded only", ok(42), {}, None, P, "recorded only"),
    (
        "unhealthy answer from a metrics endpoint",
        Reading(SampleStatus.UNHEALTHY, error="odd"),
        {"max_value": 1},
        None,
        E,
        "could not be measured",
    ),
]


@pytest.mark.parametrize(
    ("reading", "bounds", "baseline", "outcome", "phrase"),
    [c[1:] for c in METRIC_CASES],
    ids=[c[0] for c in METRIC_CASES],
)
def test_judge_metric(reading, bounds, baseline, outcome, phrase):
    judgement = judge_metric(reading, Bounds(**bounds), baseline)
    assert judgement.outcome == outcome
    assert phrase in judgement.detail


HEALTH_CASES = [
    (
        "answers as expected",
        Reading(SampleStatus.OK, value=1, http_status=200, latency_ms=12),
        P,
        "answered HTTP 200 in 12 ms as expected",
    ),
    (
        "answers 503",
        Reading(SampleStatus.UNHEALTHY, error="answered HTTP 503; expected 200", http_status=503),
        F,
        "answered HTTP 503; expected 200",
    ),
    (
        "unreachable is an error, not a failure",
        Reading(SampleStatus.ERROR, error="Cannot connect: refused"),
        E,
        "could not be reached: Cannot connect",
    ),
    (
        "no data",
        Reading(SampleStatus.NO_DATA, error="nothing at $.status"),
        I,
        "nothing at $.status",
    ),
]


@pytest.mark.parametrize(
    ("reading", "outcome", "phrase"),
    [c[1:] for c in HEALTH_CASES],
    ids=[c[0] for c in HEALTH_CASES],
)
def test_judge_health(reading, outcome, phrase):
    judgement = judge_health(reading)
    assert judgement.outcome == outcome
    assert phrase in judgement.detail


# --- 2. A check's tally → its verdict ------------------------------------------------------------------

LIMITS = Limits(failure_limit=1, inconclusive_limit=2, consecutive_error_limit=3)

CHECK_CASES = [
    # id, outcomes, finished, status, phrase
    ("nothing yet", (), False, C.RUNNING, "0 of 0 measurements passed so far"),
    ("failures at the limit keep running", (P, F, P), False, C.RUNNING, "1 failed (limit 1)"),
    (
        "failures over the limit fail",
        (F, P, F),
        False,
        C.FAILED,
        "failed 2 of 3 measurements, more than the limit of 1",
    ),
    (
        "errors in a row over the limit",
        (P, E, E, E, E),
        False,
        C.ERROR,
        "could not be measured 4 times in a row, more than the limit of 3",
    ),
    (
        "errors interleaved with passes reset",
        (E, E, E, P, E, E, E),
        False,
        C.RUNNING,
        "passed so far",
    ),
    (
        "no-data over the limit",
        (I, P, I, I),
        False,
        C.INCONCLUSIVE,
        "gave no usable value in 3 of 4 measurements, more than the limit of 2",
    ),
    ("all passed at the end", (P, P, P), True, C.PASSED, "passed 3 of 3 measurements"),
    (
        "failures within the limit still pass",
        (P, F, P),
        True,
        C.PASSED,
        "1 failed, within the limit of 1",
    ),
    ("only errors at the end", (E, E), True, C.ERROR, "could not be measured once in this window"),
    ("no measurement at all", (), True, C.INCONCLUSIVE, "no usable measurement"),
    ("only no-data within the limit", (I, I), True, C.INCONCLUSIVE, "no usable measurement"),
    ("failure beats errors", (F, F, E, E, E, E), False, C.FAILED, "failed 2 of 6"),
    (
        "mixed but fine at the end",
        (P, I, E, P, P),
        True,
        C.PASSED,
        "1 without data; 1 could not be taken",
    ),
    (
        "too few usable measurements at the end",
        (P, I, E, P),
        True,
        C.INCONCLUSIVE,
        "only 2 usable measurements in this window, fewer than the 3 a verdict needs",
    ),
    ("one measurement is no verdict", (P,), True, C.INCONCLUSIVE, "only 1 usable measurement "),
    ("a failure within the limit still counts", (P, F, P), True, C.PASSED, "passed 2 of 3"),
]


@pytest.mark.parametrize(
    ("outcomes", "finished", "status", "phrase"),
    [c[1:] for c in CHECK_CASES],
    ids=[c[0] for c in CHECK_CASES],
)
def test_check_verdict(outcomes, finished, status, phrase):
    verdict = check_verdict(
        "Error rate",
        tally(*outcomes),
        LIMITS,
        finished=finished,
        last_detail="3.2 % is above the maximum 2 %",
        last_error="HTTP 503",
    )
    assert verdict.status == status
    assert phrase in verdict.reason


def test_check_verdict__passed_but_the_last_reading_breached__says_so():
    verdict = check_verdict(
        "Error rate",
        tally(P, P, F),
        LIMITS,
        finished=True,
        last_detail="3.2 % is above the maximum 2 %",
        last_failed=True,
    )
    assert verdict.status == C.PASSED
    assert verdict.reason.endswith("its last reading breached: 3.2 % is above the maximum 2 %.")
    calm = check_verdict(
        "Error rate", tally(P, F, P), LIMITS, finished=True, last_detail="0.4 % is fine"
    )
    assert calm.reason.endswith("; last: 0.4 % is fine.")


def test_argo_defaults__a_single_failure_fails_with_failure_limit_zero():
    verdict = check_verdict(
        "p95", tally(F), Limits(failure_limit=0), finished=False, last_detail="x"
    )
    assert verdict.status == C.FAILED


# --- 3. The checks' verdicts → the window's -------------------------------------------------------------


def s(name, status, critical=True, reason=None):
    return CheckState(name, critical, status, reason or f"{name} is {status}.")


WINDOW_CASES = [
    # id, states, finished, status, phrase
    (
        "critical failure fails at once",
        [s("Errors", C.FAILED), s("Health", C.RUNNING)],
        False,
        WindowStatus.FAILED,
        "Critical check 'Errors' failed",
    ),
    (
        "non-critical failure keeps watching",
        [s("p99", C.FAILED, critical=False), s("Health", C.RUNNING)],
        False,
        WindowStatus.RUNNING,
        "non-critical 'p99' failed",
    ),
    (
        "non-critical failure ends inconclusive",
        [s("p99", C.FAILED, critical=False), s("Health", C.PASSED)],
        True,
        WindowStatus.INCONCLUSIVE,
        "Every critical check passed; a person decides",
    ),
    (
        "provider outage holds",
        [s("Errors", C.ERROR), s("Health", C.RUNNING)],
        False,
        WindowStatus.ERROR,
        "nothing is rolled back",
    ),
    (
        "failure beats outage",
        [s("Errors", C.ERROR), s("Health", C.FAILED)],
        False,
        WindowStatus.FAILED,
        "'Health' failed",
    ),
    (
        "outage beats no-data",
        [s("Errors", C.INCONCLUSIVE), s("Latency", C.ERROR)],
        False,
        WindowStatus.ERROR,
        "Holding",
    ),
    (
        "no-data makes it inconclusive",
        [s("Errors", C.INCONCLUSIVE), s("Health", C.RUNNING)],
        False,
        WindowStatus.INCONCLUSIVE,
        "A person decides",
    ),
    (
        "all passed",
        [s("Errors", C.PASSED), s("Health", C.PASSED)],
        True,
        WindowStatus.PASSED,
        "All 2 checks passed",
    ),
    (
        "still running",
        [s("Errors", C.RUNNING), s("Health", C.RUNNING)],
        False,
        WindowStatus.RUNNING,
        "Watching 2 checks: 2 passing so far",
    ),
    ("nothing to watch", [], True, WindowStatus.INCONCLUSIVE, "no checks"),
    (
        "two critical failures are both named",
        [s("A", C.FAILED), s("B", C.FAILED)],
        False,
        WindowStatus.FAILED,
        "Critical checks 'A' and 'B' failed",
    ),
]


@pytest.mark.parametrize(
    ("states", "finished", "status", "phrase"),
    [c[1:] for c in WINDOW_CASES],
    ids=[c[0] for c in WINDOW_CASES],
)
def test_window_verdict(states, finished, status, phrase):
    verdict = window_verdict(states, finished=finished)
    assert verdict.status == status
    assert phrase in verdict.reason


def test_golden_table_has_at_least_forty_cases():
    assert len(METRIC_CASES) + len(HEALTH_CASES) + len(CHECK_CASES) + len(WINDOW_CASES) >= 40
