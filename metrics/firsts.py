"""The stored "first production deployment of each commit" (``FirstDeployment``).

Lead time for changes needs, for every commit of a project, the first successful
deployment to a production-tier environment that carried it. Finding that at query time
means grouping every (deployment, commit) pair of the range; instead the answer is kept in
``metrics_firstdeployment`` and rewritten here whenever it can change:

* a production deployment succeeds, is rolled back (still deployed) or is marked failed after
  succeeding (no longer deployed): the commits of its release (``on_deployment_changed``);
* a release's commits are added or removed (``on_commits_changed``).

Each rewrite recomputes the rows of the affected shas from the deployments and commits
themselves (one DELETE and one INSERT … SELECT), so running it twice, or after rows were
moved in time, gives the same table. ``firsts_rebuild`` recomputes every row (migration 0002
and ``manage.py metrics_firsts_rebuild``). This is derived data, like an index: it is written
inside the transaction of the change that caused it, and has no audit event of its own.
"""

# ruff: noqa: S608 - only table names and fixed SQL fragments are interpolated; every value
# travels as a query parameter.

from __future__ import annotations

from typing import Any

from django.db import connection

from metrics import sql
from metrics.models import FirstDeployment
from metrics.tables import tables
from projects.choices import Tier
from releases.models import Deployment, Release

DEPLOYED = ("succeeded", "rolled_back")


def _rewrite(where: str, params: dict[str, Any], delete_where: str) -> None:
    """Delete the rows ``delete_where`` names and insert them again from the source rows."""
    t = tables()
    params = {**params, "tier": Tier.PRODUCTION.value, "ok1": DEPLOYED[0], "ok2": DEPLOYED[1]}
    lead = sql.seconds("x.finished_at", "x.committed_at")
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {t['fd']} WHERE {delete_where}", params)
        cursor.execute(
            f"""INSERT INTO {t["fd"]} (project_id, sha, deployment_id, deployed_at,
                  committed_at, lead_seconds)
            SELECT x.project_id, x.sha, x.id, x.finished_at, x.committed_at, {lead}
            FROM (
              SELECT r.project_id, c.sha, d.id, d.finished_at,
                     ROW_NUMBER() OVER (
                       PARTITION BY r.project_id, c.sha ORDER BY d.finished_at, d.id
                     ) AS n,
                     MIN(c.committed_at) OVER (PARTITION BY r.project_id, c.sha) AS committed_at
              FROM {t["dep"]} d
              JOIN {t["env"]} e ON e.id = d.environment_id
              JOIN {t["rel"]} r ON r.id = d.release_id
              JOIN {t["com"]} c ON c.release_id = d.release_id
              WHERE e.tier = %(tier)s AND d.status IN (%(ok1)s, %(ok2)s)
                AND d.finished_at IS NOT NULL AND {where}
            ) x
            WHERE x.n = 1""",
            params,
        )


def firsts_refresh_release(release_id: int, project_id: int, shas: list[str] | None = None) -> None:
    """Recompute the rows of the release's commits (and of ``shas``, commits it just lost)."""
    t = tables()
    params: dict[str, Any] = {"project": project_id, "release": release_id}
    extra = sql.in_text("s", shas or [], params)
    mine = f"SELECT sha FROM {t['com']} WHERE release_id = %(release)s"
    _rewrite(
        f"r.project_id = %(project)s AND (c.sha IN ({mine}) OR c.sha IN {extra})",
        params,
        f"project_id = %(project)s AND (sha IN ({mine}) OR sha IN {extra})",
    )


def firsts_rebuild(project_ids: list[int] | None = None) -> int:
    """Recompute every row (of ``project_ids``, or of every project); answers the row count."""
    params: dict[str, Any] = {}
    if project_ids is None:
        _rewrite("1 = 1", params, "1 = 1")
        return FirstDeployment.objects.count()
    projects = sql.in_list("p", project_ids, params)
    _rewrite(f"r.project_id IN {projects}", params, f"project_id IN {projects}")
    return FirstDeployment.objects.filter(project_id__in=project_ids).count()


# --- Listeners (releases' registry, wired in MetricsConfig.ready) ---------------------------


def on_deployment_changed(
    *, deployment: Deployment, actor: Any, from_status: str, to_status: str
) -> None:
    """A production deployment entered or left "deployed": its commits' rows may change."""
    if from_status not in DEPLOYED and to_status not in DEPLOYED:
        return
    if not deployment.environment.is_production:
        return
    firsts_refresh_release(deployment.release_id, deployment.release.project_id)


def on_commits_changed(*, release: Release, actor: Any, removed: list[str]) -> None:
    """Commits were attached to or detached from a release."""
    firsts_refresh_release(release.pk, release.project_id, removed)
