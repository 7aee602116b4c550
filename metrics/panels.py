"""The release page's comparison with the previous release (``releases.registry.panel``)."""

# ruff: noqa: S608 - only table names and fixed SQL fragments are interpolated; every value
# the reader chose travels as a query parameter.

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q

from metrics import sql
from metrics.computations import DEPLOYED, FINISHED
from metrics.tables import tables
from monitoring.models import MonitoringWindow
from projects.choices import Tier
from releases.models import Release


def previous_release(release: Release) -> Release | None:
    """The project's release with the highest version below this one's."""
    major, minor, patch = release.version_major, release.version_minor, release.version_patch
    return (
        Release.objects.filter(project_id=release.project_id)
        .filter(
            Q(version_major__lt=major)
            | Q(version_major=major, version_minor__lt=minor)
            | Q(version_major=major, version_minor=minor, version_patch__lt=patch)
        )
        .exclude(pk=release.pk)
        .order_by("-version_major", "-version_minor", "-version_patch", "-id")
        .first()
    )


def release_figures(release_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Production figures of a few releases: three statements whatever their size."""
    t = tables()
    params: dict[str, Any] = {"tier": Tier.PRODUCTION}
    ids = sql.in_list("r", release_ids, params)
    prod = f"""prod AS (
      SELECT d.id, d.release_id, d.status, d.started_at, d.finished_at FROM {t["dep"]} d
      JOIN {t["env"]} e ON e.id = d.environment_id
      WHERE d.release_id IN {ids} AND e.tier = %(tier)s
    ), first_ok AS (
      SELECT release_id, MIN(finished_at) AS at FROM prod
      WHERE status IN {DEPLOYED} AND finished_at IS NOT NULL GROUP BY release_id
    )"""
    out: dict[int, dict[str, Any]] = {
        pk: {
            "deployments": 0,
            "failed": 0,
            "duration": None,
            "shipped_at": None,
            "lead": {},
            "verdicts": {},
        }
        for pk in release_ids
    }
    for rid, n, failed, duration, shipped in sql.fetch(
        f"""WITH {prod} SELECT p.release_id, COUNT(*),
          SUM(CASE WHEN p.status IN ('failed', 'rolled_back') THEN 1 ELSE 0 END),
          AVG(CASE WHEN p.status IN {FINISHED} THEN {sql.seconds("p.finished_at", "p.started_at")}
              END),
          MIN(f.at)
        FROM prod p LEFT JOIN first_ok f ON f.release_id = p.release_id GROUP BY p.release_id""",
        params,
    ):
        out[rid].update(
            deployments=n,
            failed=int(failed or 0),
            duration=None if duration is None else round(float(duration), 1),
            shipped_at=sql.aware(shipped),
        )
    lead = sql.seconds("f.at", "c.committed_at")
    for rid, n, avg, median, p95 in sql.fetch(
        f"""WITH {prod} SELECT c.release_id, COUNT(*), AVG({lead}),
          {sql.percentile(0.5, lead)}, {sql.percentile(0.95, lead)}
        FROM {t["com"]} c JOIN first_ok f ON f.release_id = c.release_id
        WHERE c.committed_at IS NOT NULL AND {lead} > 0 GROUP BY c.release_id""",
        params,
    ):
        out[rid]["lead"] = {
            "commits": n,
            "average": round(float(avg), 1),
            "median": round(float(median), 1),
            "p95": round(float(p95), 1),
        }
    verdicts = (
        MonitoringWindow.objects.filter(
            deployment__release_id__in=release_ids, deployment__environment__tier=Tier.PRODUCTION
        )
        .values_list("deployment__release_id", "status")
        .annotate(n=Count("id"))
    )
    for rid, status, n in verdicts:
        out[rid].setdefault("verdicts", {})[status] = n
    return out


def delivery_panel_context(release: Release, request: Any) -> dict[str, Any]:
    previous = previous_release(release)
    ids = [release.pk] + ([previous.pk] if previous else [])
    figures = release_figures(ids)
    this, before = figures[release.pk], figures.get(previous.pk) if previous else None
    rows = []
    for label, key, better in (
        ("Lead time (median)", ("lead", "median"), "lower"),
        ("Lead time (95th percentile)", ("lead", "p95"), "lower"),
        ("Production deployment duration (average)", ("duration",), "lower"),
        ("Production deployments", ("deployments",), ""),
        ("Failed or rolled back", ("failed",), "lower"),
        ("Monitoring windows passed", ("verdicts", "passed"), "higher"),
        ("Monitoring windows failed", ("verdicts", "failed"), "lower"),
    ):
        now_value = _dig(this, key)
        old_value = _dig(before, key) if before else None
        unit = "seconds" if key[0] in ("lead", "duration") else "count"
        trend = ""
        if now_value is not None and old_value is not None and now_value != old_value and better:
            improved = (now_value < old_value) == (better == "lower")
            trend = "better" if improved else "worse"
        rows.append(
            {"label": label, "now": now_value, "before": old_value, "unit": unit, "trend": trend}
        )
    return {"previous": previous, "rows": rows, "this_figures": this}


def _dig(data: dict[str, Any] | None, path: tuple[str, ...]) -> Any:
    value: Any = data
    for part in path:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    if path[0] == "verdicts" and value is None and data is not None:
        return 0
    return value
