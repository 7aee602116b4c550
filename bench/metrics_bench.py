"""Delivery metrics benchmark: a year of 100,000 production deployments and 1,000,000 commits.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shipcheck python bench/metrics_bench.py [--keep]

DATABASE_URL names the server; the benchmark creates a database of its own under a fresh
name (``shipcheck_metrics_bench_<random>``), migrates it, fills it with INSERT … SELECT over
``generate_series`` (the rows go straight into the tables: 20 projects, 100,000 releases,
one production deployment each, ten commits each, one in ten of them also carried by the
next release, 2,000 incidents and 5,000 escaped defects), fills metrics' stored first
production deployments as the migration's backfill does (``firsts_rebuild``), VACUUM ANALYZEs
it and measures, in the same run:

* the yardstick: ``SELECT COUNT(*)`` over the deployments, commits, releases, incidents and
  escaped defects (best of five);
* every metric of the dashboard over the whole year across the 20 projects, summary and
  monthly series (``metrics_compute``: what the dashboard runs), best of three, and each
  family of statements on its own.

Goal (issue 19): every metric for a year in under 20 times the COUNT's time. It drops the
database it created at the end (unless ``--keep``). Without PostgreSQL it refuses.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[1]
PROJECTS = 20
DEPLOYMENTS = 100_000
COMMITS_PER_RELEASE = 10


def _with_db(url: str, name: str) -> str:
    return urlunparse(urlparse(url)._replace(path=f"/{name}"))


def _conninfo(url: str, name: str) -> str:
    return urlunparse(urlparse(url)._replace(scheme="postgresql", path=f"/{name}"))


def _fill(cursor, user_id: int, deployments: int) -> None:
    per_project = deployments // PROJECTS
    step = 365 * 86400 // deployments  # seconds between two deployments: one year in all
    cursor.execute(
        "INSERT INTO projects_project (name, slug, description, created_at, archived_reason) "
        "SELECT 'Bench ' || g, 'bench-' || g, '', now(), '' FROM generate_series(1, %s) g",
        [PROJECTS],
    )
    cursor.execute(
        """INSERT INTO projects_environment (project_id, name, display_name, tier, "order",
             retired_reason)
           SELECT p.id, e.name, e.display, e.tier, e.ord, '' FROM projects_project p,
             (VALUES ('dev', 'Development', 'development', 1),
                     ('staging', 'Staging', 'staging', 2),
                     ('production', 'Production', 'production', 3)) e(name, display, tier, ord)"""
    )
    cursor.execute(
        "INSERT INTO projects_membership (project_id, user_id, role, created_at) "
        "SELECT id, %s, 'release_manager', now() FROM projects_project",
        [user_id],
    )
    # Release n of project p is version 1.n.0, shipped at now - (year - its slot).
    cursor.execute(
        """INSERT INTO releases_release (project_id, version, version_major, version_minor,
             version_patch, type, title, description, notes, rollback_plan, release_manager_id,
             status, artifact_version, commit_sha, is_emergency, created_at, updated_at,
             created_by_token_name)
           SELECT p.id, '1.' || g || '.0', 1, g, 0,
                  CASE WHEN g %% 20 = 0 THEN 'hotfix' ELSE 'minor' END,
                  'Release ' || g, '', '', '', %s, 'released', '', '', g %% 97 = 0, now(), now(), ''
           FROM projects_project p, generate_series(1, %s) g""",
        [user_id, per_project],
    )
    cursor.execute(
        """INSERT INTO releases_deployment (release_id, environment_id, status, strategy,
             deployed_by_label, artifact_version, commit_sha, notes, created_at, started_at,
             finished_at)
           SELECT r.id, e.id,
                  CASE WHEN r.id %% 25 = 0 THEN 'failed' WHEN r.id %% 25 = 1 THEN 'rolled_back'
                       ELSE 'succeeded' END,
                  'all_at_once', 'bench', '', '', '', t.at, t.at, t.at + interval '7 minutes'
           FROM releases_release r
           JOIN projects_environment e ON e.project_id = r.project_id AND e.tier = 'production'
           CROSS JOIN LATERAL (
             SELECT now() - interval '365 days'
                    + ((r.version_minor - 1) * %s + r.project_id %% %s) * interval '1 second'
                      * %s AS at
           ) t""",
        [PROJECTS, PROJECTS, step],
    )
    cursor.execute(
        """INSERT INTO releases_commit (release_id, sha, message, author, committed_at, created_at)
           SELECT d.release_id, md5(r.project_id || '-' || (r.version_minor * 10 + c)), '',
                  'bench', d.started_at - (c + 1) * interval '47 minutes', now()
           FROM releases_deployment d JOIN releases_release r ON r.id = d.release_id,
                generate_series(0, %s) c""",
        [COMMITS_PER_RELEASE - 2],
    )
    # The tenth commit of each release is the first commit of the next one: deployed twice.
    cursor.execute(
        """INSERT INTO releases_commit (release_id, sha, message, author, committed_at, created_at)
           SELECT d.release_id, md5(r.project_id || '-' || ((r.version_minor + 1) * 10)), '',
                  'bench', d.started_at - interval '9 hours', now()
           FROM releases_deployment d JOIN releases_release r ON r.id = d.release_id"""
    )
    cursor.execute(
        """INSERT INTO incidents_incident (project_id, environment_id, title, severity, state,
             impact, started_at, detected_at, resolved_at, cause_deployment_id,
             cause_release_id, created_at, updated_at)
           SELECT r.project_id, d.environment_id, 'Bench incident', 1 + d.id % 4, 'resolved', '',
                  d.finished_at + interval '20 minutes', d.finished_at + interval '25 minutes',
                  d.finished_at + (d.id % 300) * interval '1 minute' + interval '30 minutes',
                  d.id, d.release_id, now(), now()
           FROM releases_deployment d JOIN releases_release r ON r.id = d.release_id
           WHERE d.id % 50 = 7"""
    )
    cursor.execute(
        """INSERT INTO incidents_escapeddefect (release_id, key, title, severity, found_at,
             created_at)
           SELECT r.id, 'BUG-' || r.id, '', 1 + r.id % 4, now(), now()
           FROM releases_release r WHERE r.id % 20 = 3"""
    )


def _best(func, runs: int) -> tuple[float, object]:
    best, value = float("inf"), None
    for _ in range(runs):
        started = time.perf_counter()
        value = func()
        best = min(best, time.perf_counter() - started)
    return best, value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deployments", type=int, default=DEPLOYMENTS)
    parser.add_argument("--keep", action="store_true", help="Keep the benchmark database.")
    parser.add_argument(
        "--reuse", metavar="NAME", help="Measure a database kept by --keep (never dropped)."
    )
    args = parser.parse_args()
    server = os.environ.get("DATABASE_URL", "")
    if not server.startswith(("postgres://", "postgresql://")):
        print(
            "metrics_bench needs PostgreSQL: set DATABASE_URL=postgres://user@host:port/db "
            "(the server only; the benchmark creates and drops a database of its own).",
            file=sys.stderr,
        )
        return 2
    import psycopg

    name = args.reuse or f"shipcheck_metrics_bench_{secrets.token_hex(4)}"
    if args.reuse:
        args.keep = True
    else:
        with psycopg.connect(_conninfo(server, "postgres"), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
    print(f"database {name}")
    try:
        os.environ["DATABASE_URL"] = _with_db(server, name)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.contrib.auth import get_user_model
        from django.core.management import call_command
        from django.db import connection

        started = time.perf_counter()
        if not args.reuse:
            call_command("migrate", verbosity=0)
            print(f"migrated in {time.perf_counter() - started:.1f} s")
            user = get_user_model().objects.create(username="bench")
        user = get_user_model().objects.get(username="bench")
        started = time.perf_counter()
        with connection.cursor() as cursor:
            if not args.reuse:
                _fill(cursor, user.pk, args.deployments)
        if not args.reuse:
            # The rows went straight into the tables, past the listeners that keep metrics'
            # stored first production deployments: fill it as the migration does (a backfill).
            from metrics.firsts import firsts_rebuild

            filled = time.perf_counter()
            stored = firsts_rebuild()
            print(
                f"first production deployments of {stored:,} commits stored in "
                f"{time.perf_counter() - filled:.1f} s"
            )
        with connection.cursor() as cursor:
            if not args.reuse:
                cursor.execute("VACUUM ANALYZE")
            cursor.execute(
                "SELECT (SELECT COUNT(*) FROM releases_deployment), "
                "(SELECT COUNT(*) FROM releases_commit), (SELECT COUNT(*) FROM incidents_incident)"
            )
            deployments, commits, incidents = cursor.fetchone()
        print(
            f"filled in {time.perf_counter() - started:.1f} s: {deployments:,} production "
            f"deployments, {commits:,} commits, {incidents:,} incidents"
        )

        def count_all() -> int:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT (SELECT COUNT(*) FROM releases_deployment)"
                    " + (SELECT COUNT(*) FROM releases_commit)"
                    " + (SELECT COUNT(*) FROM releases_release)"
                    " + (SELECT COUNT(*) FROM incidents_incident)"
                    " + (SELECT COUNT(*) FROM incidents_escapeddefect)"
                )
                return int(cursor.fetchone()[0])

        from dataclasses import replace

        from metrics.computations import FAMILIES, frequency_score, metrics_compute
        from metrics.scope import scope_parse
        from metrics.views import DASHBOARD_ORDER

        count_time, total = _best(count_all, 5)
        print(f"COUNT(*) over the same tables: {count_time * 1000:.1f} ms ({total:,} rows)")
        from datetime import timedelta

        from django.utils import timezone

        today = timezone.localdate()
        scope = scope_parse(
            user,
            {
                "from": (today - timedelta(days=365)).isoformat(),
                "to": today.isoformat(),
                "interval": "monthly",
            },
        )
        whole = replace(scope, interval="all")
        for family, func in FAMILIES.items():
            took, _ = _best(lambda func=func: func(whole), 1)
            print(f"  {family:<12} summary {took * 1000:7.0f} ms", flush=True)
        from metrics.firsts import firsts_refresh_release
        from releases.models import Release

        latest = Release.objects.order_by("-pk").values_list("pk", "project_id").first()
        if latest:
            took, _ = _best(lambda: firsts_refresh_release(*latest), 3)
            print(f"  {'listener':<12} one production deployment succeeding: {took * 1000:.0f} ms")
        took, _ = _best(lambda: frequency_score(scope, 1), 1)
        print(f"  {'band days':<12} summary {took * 1000:7.0f} ms", flush=True)
        all_time, results = _best(lambda: metrics_compute(scope, DASHBOARD_ORDER), 2)
        print(
            f"every metric, a year, summary + monthly series: {all_time * 1000:.0f} ms "
            f"= {all_time / count_time:.1f} x COUNT "
            f"(goal under 20 x) -> {'met' if all_time < 20 * count_time else 'NOT met'}"
        )
        for key in DASHBOARD_ORDER:
            result = results[key]  # type: ignore[index]
            print(f"  {key:<32} {result.value!s:>12}  {result.band.name if result.band else ''}")
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            with psycopg.connect(_conninfo(server, "postgres"), autocommit=True) as admin:
                admin.execute(f'DROP DATABASE "{name}"')
            print(f"dropped {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
