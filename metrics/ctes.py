"""The common table expressions every metric and its drill-down list read.

Each function returns the ``WITH`` part for one family of rows (see
metrics/computations.py); the names (``judged``, ``pairs``, ``timed``, ``shipped``,
``wtimed``) are what the aggregates and the lists select from.
"""

# ruff: noqa: S608 - only table names and fixed SQL fragments are interpolated; every value
# the reader chose travels as a query parameter.

from __future__ import annotations

from datetime import timedelta
from typing import Any

from metrics import sql
from metrics.scope import Scope
from metrics.tables import tables

FINISHED = "('succeeded', 'failed', 'rolled_back')"
DEPLOYED = "('succeeded', 'rolled_back')"
# How far before the range a failure may have begun and still be restored inside it.
RECOVERY_LOOKBACK = timedelta(days=366)


def _base_params(scope: Scope) -> tuple[dict[str, Any], str, str]:
    params: dict[str, Any] = {
        "start": sql.moment(scope.start),
        "end": sql.moment(scope.end),
        "lookback": sql.moment(scope.start - RECOVERY_LOOKBACK),
        "production": 0 if scope.environment_name else 1,
    }
    envs = sql.in_list("e", scope.environment_ids, params)
    projects = sql.in_list("p", scope.project_ids, params)
    return params, envs, projects


# --- Common table expressions --------------------------------------------------------------


def judged_cte(envs: str) -> str:
    """Finished deployments in the range, each with its failure and rework flags."""
    t = tables()
    return f"""
    seq AS (
      SELECT d.id, d.release_id, d.environment_id, d.status, d.started_at, d.finished_at,
             LEAD(d.release_id) OVER (
               PARTITION BY d.environment_id ORDER BY d.finished_at, d.id
             ) AS next_release_id
      FROM {t["dep"]} d
      WHERE d.environment_id IN {envs} AND d.finished_at >= %(start)s AND d.status IN {FINISHED}
    ),
    -- The incidents and hotfix links as small distinct sets joined by hash, not a subquery
    -- per deployment: the same answer, and a plan cheap enough that PostgreSQL does not
    -- JIT-compile it (which alone took a second over 100,000 deployments).
    inc_dep AS (
      SELECT DISTINCT i.cause_deployment_id AS id FROM {t["inc"]} i
      WHERE i.cause_deployment_id IS NOT NULL
    ),
    inc_rel AS (
      SELECT i.cause_release_id AS release_id, i.environment_id FROM {t["inc"]} i
      WHERE i.cause_deployment_id IS NULL AND i.cause_release_id IS NOT NULL
      GROUP BY i.cause_release_id, i.environment_id
    ),
    inc_rel_any AS (
      SELECT release_id FROM inc_rel WHERE environment_id IS NULL
    ),
    fixes AS (
      SELECT DISTINCT x.hotfix_release_id AS id FROM {t["incd"]} x
      WHERE x.hotfix_release_id IS NOT NULL
    ),
    judged AS (
      SELECT s.id, s.release_id, s.environment_id, s.status, s.started_at, s.finished_at,
        CASE WHEN s.status IN ('failed', 'rolled_back') THEN 1 ELSE 0 END AS f_outcome,
        CASE WHEN idp.id IS NOT NULL OR ira.release_id IS NOT NULL OR ire.release_id IS NOT NULL
             THEN 1 ELSE 0 END AS f_incident,
        CASE WHEN nr.id IS NOT NULL AND nr.id <> s.release_id
                  AND (nr.is_emergency = TRUE OR nr.type = 'hotfix' OR fn.id IS NOT NULL)
             THEN 1 ELSE 0 END AS f_hotfix,
        CASE WHEN r.is_emergency = TRUE
                  OR (r.type = 'hotfix' AND COALESCE(ms.hotfix_is_rework, TRUE) = TRUE)
                  OR fr.id IS NOT NULL
             THEN 1 ELSE 0 END AS rework
      FROM seq s
      JOIN {t["rel"]} r ON r.id = s.release_id
      LEFT JOIN {t["rel"]} nr ON nr.id = s.next_release_id
      LEFT JOIN {t["ms"]} ms ON ms.project_id = r.project_id
      LEFT JOIN inc_dep idp ON idp.id = s.id
      LEFT JOIN inc_rel_any ira ON ira.release_id = s.release_id
      LEFT JOIN inc_rel ire ON ire.release_id = s.release_id
        AND ire.environment_id = s.environment_id
      LEFT JOIN fixes fn ON fn.id = nr.id
      LEFT JOIN fixes fr ON fr.id = r.id
      WHERE s.finished_at < %(end)s
    )"""


def firsts_cte(envs: str, projects: str = "", *, stored: bool = False) -> str:
    """Each commit (project, sha) at its first successful deployment to the environments.

    ``stored`` (the production scope): read ``FirstDeployment`` (metrics/firsts.py), which
    holds exactly these rows for the production-tier environments, kept current as
    deployments succeed; ``pairs`` then also names the deployment (``dep_id``). Another
    environment is found at query time from the deployments and commits.
    """
    t = tables()
    if stored:
        return f"""
    pairs AS (
      SELECT f.project_id, f.sha, f.deployed_at, f.committed_at, f.lead_seconds AS lead,
             f.deployment_id AS dep_id
      FROM {t["fd"]} f
      WHERE f.project_id IN {projects} AND f.deployed_at >= %(start)s
        AND f.deployed_at < %(end)s AND f.committed_at IS NOT NULL
    )"""
    return f"""
    ok AS (
      SELECT d.id, d.release_id, d.finished_at, r.project_id
      FROM {t["dep"]} d JOIN {t["rel"]} r ON r.id = d.release_id
      WHERE d.environment_id IN {envs} AND d.status IN {DEPLOYED}
        AND d.finished_at IS NOT NULL AND d.finished_at < %(end)s
    ),
    firsts AS (
      SELECT ok.project_id, c.sha, MIN(ok.finished_at) AS deployed_at,
             MIN(c.committed_at) AS committed_at
      FROM ok JOIN {t["com"]} c ON c.release_id = ok.release_id
      GROUP BY ok.project_id, c.sha
      HAVING MIN(c.committed_at) IS NOT NULL
    ),
    pairs AS (
      SELECT project_id, sha, deployed_at, committed_at,
             {sql.seconds("deployed_at", "committed_at")} AS lead
      FROM firsts WHERE deployed_at >= %(start)s
    )"""


def failures_cte(envs: str, projects: str) -> str:
    """Failures (failed deployments without an incident, and incidents) and when each ended."""
    t = tables()
    return f"""
    rseq AS (
      SELECT d.id, d.release_id, d.environment_id, d.status, d.finished_at,
             -- The next successful finish after this one. Read backwards so the frame only
             -- grows: PostgreSQL then keeps a running MIN instead of rescanning the frame.
             MIN(CASE WHEN d.status IN {DEPLOYED} THEN d.finished_at END) OVER (
               PARTITION BY d.environment_id ORDER BY d.finished_at DESC, d.id DESC
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
             ) AS next_ok_at
      FROM {t["dep"]} d
      WHERE d.environment_id IN {envs} AND d.finished_at >= %(lookback)s
        AND d.status IN {FINISHED}
    ),
    rollbacks AS (
      SELECT a.object_id, MIN(a.created_at) AS at FROM {t["aud"]} a
      WHERE a.action = 'deployment.rolled_back' AND a.object_type = 'releases.deployment'
      GROUP BY a.object_id
    ),
    failures AS (
      SELECT 'deployment' AS kind, s.id AS ref, s.release_id, s.environment_id,
             s.finished_at AS began_at,
             CASE WHEN rb.at IS NULL THEN s.next_ok_at
                  WHEN s.next_ok_at IS NULL OR rb.at < s.next_ok_at THEN rb.at
                  ELSE s.next_ok_at END AS restored_at
      FROM rseq s
      LEFT JOIN rollbacks rb ON rb.object_id = CAST(s.id AS VARCHAR(64))
      WHERE s.status IN ('failed', 'rolled_back')
        AND s.finished_at < %(end)s
        AND NOT EXISTS (SELECT 1 FROM {t["inc"]} i WHERE i.cause_deployment_id = s.id)
      UNION ALL
      SELECT 'incident', i.id, COALESCE(i.cause_release_id, cd.release_id),
             COALESCE(i.environment_id, cd.environment_id),
             CASE WHEN cd.finished_at IS NOT NULL AND cd.finished_at < i.started_at
                  THEN cd.finished_at ELSE i.started_at END,
             i.resolved_at
      FROM {t["inc"]} i LEFT JOIN {t["dep"]} cd ON cd.id = i.cause_deployment_id
      WHERE i.project_id IN {projects} AND i.started_at < %(end)s
        AND (i.environment_id IN {envs}
             OR (i.environment_id IS NULL
                 AND (cd.environment_id IN {envs} OR (cd.id IS NULL AND %(production)s = 1))))
    ),
    timed AS (
      SELECT kind, ref, release_id, environment_id, began_at, restored_at,
             {sql.seconds("restored_at", "began_at")} AS took
      FROM failures
    )"""


def shipped_cte(envs: str) -> str:
    t = tables()
    return f"""
    shipped_all AS (
      SELECT d.release_id, MIN(d.finished_at) AS shipped_at FROM {t["dep"]} d
      WHERE d.environment_id IN {envs} AND d.status IN {DEPLOYED}
        AND d.finished_at IS NOT NULL AND d.finished_at < %(end)s
      GROUP BY d.release_id
    ),
    shipped AS (
      SELECT s.release_id, s.shipped_at,
             COALESCE(e.n, 0) AS defects, COALESCE(e.s1, 0) AS sev1, COALESCE(e.s2, 0) AS sev2,
             COALESCE(e.s3, 0) AS sev3, COALESCE(e.s4, 0) AS sev4
      FROM shipped_all s
      LEFT JOIN (
        SELECT release_id, COUNT(*) AS n,
               SUM(CASE WHEN severity = 1 THEN 1 ELSE 0 END) AS s1,
               SUM(CASE WHEN severity = 2 THEN 1 ELSE 0 END) AS s2,
               SUM(CASE WHEN severity = 3 THEN 1 ELSE 0 END) AS s3,
               SUM(CASE WHEN severity = 4 THEN 1 ELSE 0 END) AS s4
        FROM {t["esc"]} GROUP BY release_id
      ) e ON e.release_id = s.release_id
      WHERE s.shipped_at >= %(start)s
    )"""


def waits_cte(projects: str) -> str:
    t = tables()
    order = '"order"'
    return f"""
    stages AS (
      SELECT d.release_id, d.environment_id, MIN(d.started_at) AS started_at,
             MIN(CASE WHEN d.status IN {DEPLOYED} THEN d.finished_at END) AS done_at
      FROM {t["dep"]} d JOIN {t["env"]} e ON e.id = d.environment_id
      WHERE e.project_id IN {projects} AND d.started_at IS NOT NULL AND d.started_at < %(end)s
      GROUP BY d.release_id, d.environment_id
    ),
    waits AS (
      SELECT cur.release_id, cur.environment_id, cur.started_at, MAX(prev.done_at) AS ready_at
      FROM stages cur
      JOIN {t["env"]} ce ON ce.id = cur.environment_id
      JOIN stages prev ON prev.release_id = cur.release_id
      JOIN {t["env"]} pe ON pe.id = prev.environment_id AND pe.{order} < ce.{order}
      WHERE cur.started_at >= %(start)s AND prev.done_at IS NOT NULL
        AND prev.done_at <= cur.started_at
      GROUP BY cur.release_id, cur.environment_id, cur.started_at
    ),
    wtimed AS (
      SELECT w.release_id, w.environment_id, w.started_at, w.ready_at,
             {sql.seconds("w.started_at", "w.ready_at")} AS took
      FROM waits w
    )"""
