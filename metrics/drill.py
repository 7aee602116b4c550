"""The rows behind every number: the drill-down lists and their CSV exports.

Each list reads the same common table expressions as its metric (metrics/computations.py)
with the same scope, so the rows a list shows are exactly those the number counts.
A page is two statements (the rows and their count); the CSV export reads batch by batch.
"""

# ruff: noqa: S608 - only table names and fixed SQL fragments are interpolated; every value
# the reader chose travels as a query parameter.

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from core.exceptions import ValidationFailed
from metrics import sql
from metrics.computations import (
    DEPLOYED,
    _base_params,
    failures_cte,
    firsts_cte,
    judged_cte,
    shipped_cte,
    waits_cte,
)
from metrics.scope import Scope
from metrics.tables import tables
from projects.models import Project

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
CSV_BATCH = 2000


@dataclass(frozen=True)
class DrillList:
    key: str
    title: str
    noun: str
    filters: dict[str, str]  # only= value -> label
    default: str
    columns: tuple[tuple[str, str], ...]  # (key, CSV/API header)


LISTS: dict[str, DrillList] = {
    d.key: d
    for d in (
        DrillList(
            key="deployments",
            title="Production deployments",
            noun="deployment",
            filters={
                "all": "every finished deployment",
                "deployed": "deployments that reached the environment",
                "failure": "deployments counted as change failures",
                "rework": "unplanned (rework) deployments",
                "succeeded": "deployments that still stand as succeeded",
                "rolled_back": "rolled-back deployments",
                "failed": "failed deployments",
            },
            default="all",
            columns=(
                ("deployment_id", "deployment_id"),
                ("project", "project"),
                ("release_id", "release_id"),
                ("version", "version"),
                ("release_type", "release_type"),
                ("emergency", "emergency"),
                ("environment", "environment"),
                ("status", "status"),
                ("started_at", "started_at"),
                ("finished_at", "finished_at"),
                ("duration_seconds", "duration_seconds"),
                ("failure_reasons", "failure_reasons"),
                ("rework", "rework"),
            ),
        ),
        DrillList(
            key="commits",
            title="Commits and their lead time",
            noun="commit",
            filters={
                "all": "every commit at its first deployment",
                "counted": "commits counted in the lead time",
                "excluded": "commits left out (zero or negative lead time)",
            },
            default="counted",
            columns=(
                ("project", "project"),
                ("sha", "sha"),
                ("committed_at", "committed_at"),
                ("deployed_at", "deployed_at"),
                ("lead_seconds", "lead_seconds"),
                ("deployment_id", "deployment_id"),
                ("version", "version"),
            ),
        ),
        DrillList(
            key="recoveries",
            title="Failures and recoveries",
            noun="recovery",
            filters={
                "restored": "failures restored in the range",
                "open": "failures still open at the end of the range",
            },
            default="restored",
            columns=(
                ("kind", "kind"),
                ("ref", "id"),
                ("project", "project"),
                ("version", "version"),
                ("environment", "environment"),
                ("began_at", "began_at"),
                ("restored_at", "restored_at"),
                ("seconds", "seconds"),
            ),
        ),
        DrillList(
            key="releases",
            title="Releases shipped and their escaped defects",
            noun="release",
            filters={"all": "every release shipped", "defects": "releases with escaped defects"},
            default="all",
            columns=(
                ("release_id", "release_id"),
                ("project", "project"),
                ("version", "version"),
                ("shipped_at", "shipped_at"),
                ("defects", "defects"),
                ("sev1", "sev1"),
                ("sev2", "sev2"),
                ("sev3", "sev3"),
                ("sev4", "sev4"),
            ),
        ),
        DrillList(
            key="waits",
            title="Waits between environments",
            noun="wait",
            filters={"all": "every promotion after the first environment"},
            default="all",
            columns=(
                ("release_id", "release_id"),
                ("project", "project"),
                ("version", "version"),
                ("environment", "environment"),
                ("ready_at", "ready_at"),
                ("started_at", "started_at"),
                ("seconds", "seconds"),
            ),
        ),
    )
}


def parse_only(kind: str, raw: str) -> str:
    spec = LISTS[kind]
    only = (raw or "").strip() or spec.default
    if only not in spec.filters:
        raise ValidationFailed(
            f"Unknown filter '{only[:40]}' for {kind}. Choose one of {', '.join(spec.filters)}.",
            details={"only": "unknown"},
        )
    return only


def _query(kind: str, scope: Scope, only: str, stage: str) -> tuple[str, str, dict[str, Any]]:
    """(select with joins, order by, params) of one list."""
    params, envs, projects = _base_params(scope)
    t = tables()
    proj = Project._meta.db_table
    if kind == "deployments":
        where = {
            "all": "1 = 1",
            "deployed": f"j.status IN {DEPLOYED}",
            "failure": "j.f_outcome + j.f_incident + j.f_hotfix > 0",
            "rework": "j.rework = 1",
            "succeeded": "j.status = 'succeeded'",
            "rolled_back": "j.status = 'rolled_back'",
            "failed": "j.status = 'failed'",
        }[only]
        select = f"""WITH {judged_cte(envs)}
        SELECT j.id, p.slug, r.id, r.version, r.type, r.is_emergency, e.display_name, j.status,
               j.started_at, j.finished_at, {sql.seconds("j.finished_at", "j.started_at")},
               j.f_outcome, j.f_incident, j.f_hotfix, j.rework
        FROM judged j JOIN {t["rel"]} r ON r.id = j.release_id
        JOIN {t["env"]} e ON e.id = j.environment_id JOIN {proj} p ON p.id = r.project_id
        WHERE {where}"""
        return select, "ORDER BY j.finished_at DESC, j.id DESC", params
    if kind == "commits":
        where = {"all": "1 = 1", "counted": "x.lead > 0", "excluded": "x.lead <= 0"}[only]
        stored = not scope.environment_name
        dep_id = (
            "x.dep_id"
            if stored
            else f"""(SELECT MIN(ok.id) FROM ok JOIN {t["com"]} c2 ON c2.release_id = ok.release_id
           WHERE ok.project_id = x.project_id AND c2.sha = x.sha
             AND ok.finished_at = x.deployed_at)"""
        )
        select = f"""WITH {firsts_cte(envs, projects, stored=stored)}
        SELECT p.slug, x.sha, x.committed_at, x.deployed_at, x.lead, {dep_id} AS dep_id
        FROM pairs x JOIN {proj} p ON p.id = x.project_id WHERE {where}"""
        outer = f"""SELECT q.slug, q.sha, q.committed_at, q.deployed_at, q.lead, q.dep_id,
          (SELECT r.version FROM {t["dep"]} d JOIN {t["rel"]} r ON r.id = d.release_id
           WHERE d.id = q.dep_id) FROM ({select} ORDER BY x.deployed_at DESC, x.sha
           LIMIT %(limit)s OFFSET %(offset)s) q ORDER BY q.deployed_at DESC, q.sha"""
        params["_outer"] = outer
        return select, "ORDER BY x.deployed_at DESC, x.sha", params
    if kind == "recoveries":
        if only == "open":
            where = "x.began_at < %(end)s AND (x.restored_at IS NULL OR x.restored_at >= %(end)s)"
        else:
            where = "x.restored_at >= %(start)s AND x.restored_at < %(end)s"
        select = f"""WITH {failures_cte(envs, projects)}
        SELECT x.kind, x.ref, p.slug, r.version, e.display_name, x.began_at, x.restored_at,
               CASE WHEN {where.replace("x.", "x.")} AND x.restored_at IS NOT NULL
                    THEN x.took END
        FROM timed x LEFT JOIN {t["rel"]} r ON r.id = x.release_id
        LEFT JOIN {t["env"]} e ON e.id = x.environment_id
        LEFT JOIN {proj} p ON p.id = COALESCE(r.project_id, e.project_id)
        WHERE {where}"""
        return select, "ORDER BY x.began_at DESC, x.kind, x.ref DESC", params
    if kind == "releases":
        where = "s.defects > 0" if only == "defects" else "1 = 1"
        select = f"""WITH {shipped_cte(envs)}
        SELECT r.id, p.slug, r.version, s.shipped_at, s.defects, s.sev1, s.sev2, s.sev3, s.sev4
        FROM shipped s JOIN {t["rel"]} r ON r.id = s.release_id
        JOIN {proj} p ON p.id = r.project_id WHERE {where}"""
        return select, "ORDER BY s.shipped_at DESC, r.id DESC", params
    where = "1 = 1"
    if stage:
        params["stage"] = stage
        where = "e.name = %(stage)s"
    select = f"""WITH {waits_cte(projects)}
    SELECT r.id, p.slug, r.version, e.display_name, w.ready_at, w.started_at, w.took
    FROM wtimed w JOIN {t["rel"]} r ON r.id = w.release_id
    JOIN {t["env"]} e ON e.id = w.environment_id JOIN {proj} p ON p.id = r.project_id
    WHERE {where}"""
    return select, "ORDER BY w.started_at DESC, r.id DESC", params


def _shape(kind: str, raw: tuple) -> dict[str, Any]:
    if kind == "deployments":
        reasons = [
            label
            for flag, label in (
                (raw[11], "failed or rolled back"),
                (raw[12], "caused an incident"),
                (raw[13], "followed by a hotfix"),
            )
            if flag
        ]
        return {
            "deployment_id": raw[0],
            "project": raw[1],
            "release_id": raw[2],
            "version": raw[3],
            "release_type": raw[4],
            "emergency": bool(raw[5]),
            "environment": raw[6],
            "status": raw[7],
            "started_at": sql.aware(raw[8]),
            "finished_at": sql.aware(raw[9]),
            "duration_seconds": None if raw[10] is None else round(float(raw[10]), 3),
            "failure_reasons": "; ".join(reasons),
            "rework": bool(raw[14]),
        }
    if kind == "commits":
        return {
            "project": raw[0],
            "sha": raw[1],
            "committed_at": sql.aware(raw[2]),
            "deployed_at": sql.aware(raw[3]),
            "lead_seconds": round(float(raw[4]), 3),
            "deployment_id": raw[5],
            "version": raw[6],
        }
    if kind == "recoveries":
        return {
            "kind": raw[0],
            "ref": raw[1],
            "project": raw[2],
            "version": raw[3],
            "environment": raw[4],
            "began_at": sql.aware(raw[5]),
            "restored_at": sql.aware(raw[6]),
            "seconds": None if raw[7] is None else round(float(raw[7]), 3),
        }
    if kind == "releases":
        return {
            "release_id": raw[0],
            "project": raw[1],
            "version": raw[2],
            "shipped_at": sql.aware(raw[3]),
            "defects": int(raw[4] or 0),
            **{f"sev{s}": int(raw[4 + s] or 0) for s in (1, 2, 3, 4)},
        }
    return {
        "release_id": raw[0],
        "project": raw[1],
        "version": raw[2],
        "environment": raw[3],
        "ready_at": sql.aware(raw[4]),
        "started_at": sql.aware(raw[5]),
        "seconds": round(float(raw[6]), 3),
    }


def _rows(kind: str, scope: Scope, only: str, stage: str, limit: int, offset: int) -> list[dict]:
    select, order, params = _query(kind, scope, only, stage)
    params["limit"], params["offset"] = limit, offset
    outer = params.pop("_outer", None)
    statement = outer if outer else f"{select} {order} LIMIT %(limit)s OFFSET %(offset)s"
    return [_shape(kind, r) for r in sql.fetch(statement, params)]


def drill_count(kind: str, scope: Scope, only: str, stage: str = "") -> int:
    select, _order, params = _query(kind, scope, only, stage)
    params.pop("_outer", None)
    return int(sql.fetch(f"SELECT COUNT(*) FROM ({select}) counted", params)[0][0])


def drill_page(
    kind: str, scope: Scope, only: str, *, page: int = 1, size: int = PAGE_SIZE, stage: str = ""
) -> tuple[list[dict], int]:
    """One page of a list and the list's length: two statements."""
    if not scope.environment_ids and kind != "waits":
        return [], 0
    total = drill_count(kind, scope, only, stage)
    rows = _rows(kind, scope, only, stage, size, (page - 1) * size) if total else []
    return rows, total


def drill_iter(kind: str, scope: Scope, only: str, stage: str = "") -> Iterator[dict]:
    """Every row of a list, read ``CSV_BATCH`` at a time (for the streamed CSV)."""
    if not scope.environment_ids and kind != "waits":
        return
    offset = 0
    while True:
        batch = _rows(kind, scope, only, stage, CSV_BATCH, offset)
        yield from batch
        if len(batch) < CSV_BATCH:
            return
        offset += CSV_BATCH
