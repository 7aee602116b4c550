"""Every metric as SQL aggregates over Shipcheck's own rows (definitions: metrics/definitions.py).

Five families of rows feed the eleven numbers, and each family is one statement
(grouped by interval for a series, or over the whole range for the summary):

* ``deployments``: finished deployments to the scope's environments, each judged once
  (failure? rework?) - frequency, change fail rate, rework, duration, success and rollback
  rates;
* ``lead``: (deployment, commit) pairs, a commit at its first successful deployment (for
  production read from the stored ``FirstDeployment`` table, metrics/firsts.py);
* ``recoveries``: resolved incidents and restored failed deployments;
* ``escapes``: releases shipped and their escaped defects by severity;
* ``waits``: how long releases waited between environments.

The same common table expressions feed the drill-down lists (``*_rows``), so a list
always holds exactly the rows its number counts. Query counts are fixed: two statements
per family, whatever the data size. Nothing loops over rows in Python.
"""

# ruff: noqa: S608 - only table names and fixed SQL fragments are interpolated; every value
# the reader chose travels as a query parameter.

from __future__ import annotations

import statistics
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from metrics import sql
from metrics.ctes import (
    DEPLOYED,
    FINISHED,
    RECOVERY_LOOKBACK,
    _base_params,
    failures_cte,
    firsts_cte,
    judged_cte,
    shipped_cte,
    waits_cte,
)
from metrics.definitions import DEFINITIONS, METRIC_KEYS, Band, band_for
from metrics.scope import Bucket, Scope
from metrics.tables import tables

__all__ = [
    "DEPLOYED",
    "FINISHED",
    "RECOVERY_LOOKBACK",
    "_base_params",
    "failures_cte",
    "firsts_cte",
    "judged_cte",
    "metrics_compute",
    "shipped_cte",
    "waits_cte",
]

FAMILY_OF = {
    "deployment_frequency": "deployments",
    "change_failure_rate": "deployments",
    "deployment_rework_rate": "deployments",
    "deployment_duration": "deployments",
    "deployment_success_rate": "deployments",
    "rollback_rate": "deployments",
    "lead_time_for_changes": "lead",
    "failed_deployment_recovery_time": "recoveries",
    "bug_escape_rate": "escapes",
    "gate_wait_time": "waits",
}


# --- Families --------------------------------------------------------------------------------


def _stats(expr: str) -> str:
    return f"AVG({expr}), {sql.percentile(0.5, expr)}, {sql.percentile(0.95, expr)}"


def _grouped(
    scope: Scope, column: str, select: str, source: str, rollup: bool = False
) -> tuple[str, str]:
    """SELECT … GROUP BY the interval; with ``rollup`` (PostgreSQL) the whole range comes too,
    as the row whose interval is NULL: the series and the summary in one pass."""
    if scope.interval == "all":
        return f"SELECT NULL AS b, {select} FROM {source}", ""
    bucket = sql.bucket(scope.interval, column, scope.tz_name)
    return (
        f"SELECT {bucket} AS b, {select} FROM {source}",
        f" GROUP BY ROLLUP (({bucket}))" if rollup else " GROUP BY 1",
    )


def family_deployments(scope: Scope, rollup: bool = False) -> dict[date | None, dict[str, Any]]:
    params, envs, _projects = _base_params(scope)
    duration = sql.seconds("finished_at", "started_at")
    head, group = _grouped(
        scope,
        "finished_at",
        f"""COUNT(*), SUM(CASE WHEN status IN {DEPLOYED} THEN 1 ELSE 0 END),
        SUM(CASE WHEN status = 'succeeded' THEN 1 ELSE 0 END),
        SUM(CASE WHEN status = 'rolled_back' THEN 1 ELSE 0 END),
        SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END),
        SUM(CASE WHEN f_outcome + f_incident + f_hotfix > 0 THEN 1 ELSE 0 END),
        SUM(rework), COUNT(dur), {_stats("dur")}""",
        f"(SELECT judged.*, {duration} AS dur FROM judged) j",
        rollup,
    )
    rows = sql.fetch(f"WITH {judged_cte(envs)} {head}{group}", params)
    names = [
        "finished",
        "deployed",
        "succeeded",
        "rolled_back",
        "failed",
        "failures",
        "rework",
        "timed",
        "duration_avg",
        "duration_median",
        "duration_p95",
    ]
    return {sql.as_date(r[0]): dict(zip(names, r[1:], strict=True)) for r in rows}


def family_lead(scope: Scope, rollup: bool = False) -> dict[date | None, dict[str, Any]]:
    params, envs, projects = _base_params(scope)
    positive = "CASE WHEN lead > 0 THEN lead END"
    head, group = _grouped(
        scope,
        "deployed_at",
        f"COUNT({positive}), SUM(CASE WHEN lead <= 0 THEN 1 ELSE 0 END), {_stats(positive)}",
        "pairs",
        rollup,
    )
    stored = not scope.environment_name
    rows = sql.fetch(f"WITH {firsts_cte(envs, projects, stored=stored)} {head}{group}", params)
    names = ["pairs", "excluded", "average", "median", "p95"]
    return {sql.as_date(r[0]): dict(zip(names, r[1:], strict=True)) for r in rows}


def family_recoveries(scope: Scope, rollup: bool = False) -> dict[date | None, dict[str, Any]]:
    """Two statements always: the summary also counts the failures still open."""
    params, envs, projects = _base_params(scope)
    inside = "restored_at >= %(start)s AND restored_at < %(end)s"
    took = f"CASE WHEN {inside} THEN took END"
    open_ = "began_at < %(end)s AND (restored_at IS NULL OR restored_at >= %(end)s)"
    if scope.interval == "all":
        query = (
            f"SELECT NULL, SUM(CASE WHEN {inside} THEN 1 ELSE 0 END), {_stats(took)}, "
            f"SUM(CASE WHEN {open_} THEN 1 ELSE 0 END) FROM timed"
        )
    else:
        query = (
            f"SELECT {sql.bucket(scope.interval, 'restored_at', scope.tz_name)}, COUNT(*), "
            f"{_stats('took')}, 0 FROM timed WHERE {inside} GROUP BY 1"
        )
    rows = sql.fetch(f"WITH {failures_cte(envs, projects)} {query}", params)
    names = ["recoveries", "average", "median", "p95", "open"]
    return {sql.as_date(r[0]): dict(zip(names, r[1:], strict=True)) for r in rows}


def family_escapes(scope: Scope, rollup: bool = False) -> dict[date | None, dict[str, Any]]:
    params, envs, _projects = _base_params(scope)
    head, group = _grouped(
        scope,
        "shipped_at",
        "COUNT(*), SUM(defects), SUM(sev1), SUM(sev2), SUM(sev3), SUM(sev4)",
        "shipped",
        rollup,
    )
    rows = sql.fetch(f"WITH {shipped_cte(envs)} {head}{group}", params)
    names = ["releases", "defects", "sev1", "sev2", "sev3", "sev4"]
    return {sql.as_date(r[0]): dict(zip(names, r[1:], strict=True)) for r in rows}


def family_waits(scope: Scope, rollup: bool = False) -> dict[date | None, dict[str, Any]]:
    params, _envs, projects = _base_params(scope)
    head, group = _grouped(scope, "started_at", f"COUNT(*), {_stats('took')}", "wtimed", rollup)
    rows = sql.fetch(f"WITH {waits_cte(projects)} {head}{group}", params)
    names = ["waits", "average", "median", "p95"]
    return {sql.as_date(r[0]): dict(zip(names, r[1:], strict=True)) for r in rows}


def waits_by_environment(scope: Scope) -> list[dict[str, Any]]:
    """Where releases wait: per environment name, in promotion order (one statement)."""
    params, _envs, projects = _base_params(scope)
    t = tables()
    rows = sql.fetch(
        f"WITH {waits_cte(projects)} SELECT e.name, MIN(e.display_name), COUNT(*), "
        f'{_stats("w.took")}, MIN(e."order") FROM wtimed w '
        f"JOIN {t['env']} e ON e.id = w.environment_id GROUP BY e.name ORDER BY 7, 1",
        params,
    )
    return [
        {
            "environment": r[0],
            "label": r[1],
            "waits": r[2],
            "average": _num(r[3]),
            "median": _num(r[4]),
            "p95": _num(r[5]),
        }
        for r in rows
    ]


def deploy_days_per_week(scope: Scope) -> list[int]:
    """Days with a deployment in each week of the range (weeks without any are 0)."""
    params, envs, _projects = _base_params(scope)
    t = tables()
    week = sql.bucket("weekly", "d.finished_at", scope.tz_name)
    day = sql.bucket("daily", "d.finished_at", scope.tz_name)
    rows = sql.fetch(
        f"SELECT {week}, COUNT(DISTINCT {day}) FROM {t['dep']} d "
        f"WHERE d.environment_id IN {envs} AND d.status IN {DEPLOYED} "
        f"AND d.finished_at >= %(start)s AND d.finished_at < %(end)s GROUP BY 1",
        params,
    )
    by_week = {sql.as_date(r[0]): int(r[1]) for r in rows}
    first = scope.first_day - timedelta(days=scope.first_day.weekday())
    weeks = []
    day_ = first
    while day_ <= scope.last_day:
        weeks.append(by_week.get(day_, 0))
        day_ += timedelta(days=7)
    return weeks


FAMILIES = {
    "deployments": family_deployments,
    "lead": family_lead,
    "recoveries": family_recoveries,
    "escapes": family_escapes,
    "waits": family_waits,
}


# --- Results ----------------------------------------------------------------------------------


def _num(value: Any, digits: int = 3) -> float | None:
    return None if value is None else round(float(value), digits)


def _pct(part: Any, whole: Any) -> float | None:
    whole = int(whole or 0)
    return None if not whole else round(100.0 * int(part or 0) / whole, 2)


@dataclass
class Point:
    bucket: Bucket
    value: float | None
    figures: dict[str, Any]


@dataclass
class MetricResult:
    key: str
    summary: dict[str, Any]
    value: float | None
    series: list[Point] = field(default_factory=list)
    band: Band | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def definition(self) -> Any:
        return DEFINITIONS[self.key]


def figures_for(key: str, row: dict[str, Any] | None, bucket: Bucket) -> tuple[float | None, dict]:
    """One metric's value and figures from its family's row for one interval."""
    row = row or {}
    n = lambda name: int(row.get(name) or 0)  # noqa: E731 - a short local reader
    if key == "deployment_frequency":
        count = n("deployed")
        return float(count), {"count": count, "per_day": round(count / bucket.days, 3)}
    if key == "change_failure_rate":
        rate = _pct(n("failures"), n("finished"))
        return rate, {"failures": n("failures"), "deployments": n("finished"), "percent": rate}
    if key == "deployment_rework_rate":
        rate = _pct(n("rework"), n("finished"))
        return rate, {"rework": n("rework"), "deployments": n("finished"), "percent": rate}
    if key == "deployment_success_rate":
        rate = _pct(n("succeeded"), n("finished"))
        return rate, {"succeeded": n("succeeded"), "deployments": n("finished"), "percent": rate}
    if key == "rollback_rate":
        rate = _pct(n("rolled_back"), n("finished"))
        return rate, {
            "rolled_back": n("rolled_back"),
            "deployments": n("finished"),
            "percent": rate,
        }
    if key == "deployment_duration":
        median = _num(row.get("duration_median"))
        return median, {
            "deployments": n("timed"),
            "median": median,
            "p95": _num(row.get("duration_p95")),
            "average": _num(row.get("duration_avg")),
        }
    if key == "lead_time_for_changes":
        median = _num(row.get("median"))
        return median, {
            "pairs": n("pairs"),
            "excluded": n("excluded"),
            "median": median,
            "p95": _num(row.get("p95")),
            "average": _num(row.get("average")),
        }
    if key == "failed_deployment_recovery_time":
        median = _num(row.get("median"))
        return median, {
            "recoveries": n("recoveries"),
            "median": median,
            "p95": _num(row.get("p95")),
            "average": _num(row.get("average")),
            **({"still_open": n("open")} if bucket.key is None else {}),
        }
    if key == "bug_escape_rate":
        releases = n("releases")
        rate = None if not releases else round(n("defects") / releases, 3)
        return rate, {
            "releases": releases,
            "defects": n("defects"),
            "per_release": rate,
            "by_severity": {f"sev{s}": n(f"sev{s}") for s in (1, 2, 3, 4)},
        }
    if key == "gate_wait_time":
        median = _num(row.get("median"))
        return median, {
            "waits": n("waits"),
            "median": median,
            "p95": _num(row.get("p95")),
            "average": _num(row.get("average")),
        }
    raise KeyError(key)


def frequency_score(scope: Scope, count: int) -> tuple[float, float]:
    """(band score, median deploy days per week) for the frequency band (BAND_RULES)."""
    weeks = deploy_days_per_week(scope)
    median_days = float(statistics.median(weeks)) if weeks else 0.0
    if median_days >= 1:
        return median_days, median_days
    days = max((scope.end - scope.start).total_seconds() / 86400.0, 1.0)
    return (0.5 if count and count / days * 30 >= 1 else 0.0), median_days


def metrics_compute(
    scope: Scope, keys: tuple[str, ...] | list[str] | None = None, *, series: bool = True
) -> dict[str, MetricResult]:
    """The summary (and series) of every metric in ``keys``: at most two statements per family
    (one on PostgreSQL, which rolls the series up into the summary, except for lead time and
    recoveries)."""
    keys = tuple(keys or METRIC_KEYS)
    families = {FAMILY_OF[k] for k in keys}
    whole = scope.whole()
    buckets = scope.buckets() if series and scope.interval != "all" else []
    summaries: dict[str, dict[date | None, dict[str, Any]]] = {}
    by_bucket: dict[str, dict[date | None, dict[str, Any]]] = {}
    for f in sorted(families):
        # Not for lead time: its two percentiles over every commit of the range are sorted
        # again for the ROLLUP's whole-range row, slower than a summary statement of its own.
        if buckets and sql.is_postgres() and f not in ("recoveries", "lead"):
            rows = FAMILIES[f](scope, rollup=True)
            summaries[f] = {None: rows.pop(None, {})}
            by_bucket[f] = rows
            continue
        summaries[f] = _summary(f, scope)
        if buckets:
            by_bucket[f] = FAMILIES[f](scope)
    out: dict[str, MetricResult] = {}
    for key in keys:
        family = FAMILY_OF[key]
        value, summary = figures_for(key, summaries[family].get(None), whole)
        result = MetricResult(key=key, summary=summary, value=value)
        for bucket in buckets:
            point_value, figures = figures_for(key, by_bucket[family].get(bucket.key), bucket)
            result.series.append(Point(bucket, point_value, figures))
        if key == "deployment_frequency":
            score, median_days = frequency_score(scope, summary["count"])
            summary["median_deploy_days_per_week"] = median_days
            result.band = band_for(key, score) if summary["count"] else None
        elif key in (
            "lead_time_for_changes",
            "change_failure_rate",
            "failed_deployment_recovery_time",
        ):
            result.band = band_for(key, value)
        if key == "gate_wait_time":
            result.extra["by_environment"] = waits_by_environment(scope)
        out[key] = result
    return out


def _summary(family: str, scope: Scope) -> dict[date | None, dict[str, Any]]:
    return FAMILIES[family](replace(scope, interval="all"))
