"""Audit export benchmark: one million events on PostgreSQL.

Measures, in the same run and on the same table:

* PostgreSQL's own ``COPY audit_auditevent TO STDOUT`` (rows/s), the yardstick;
* Shipcheck's JSON Lines export of the whole chain (rows/s and peak memory);
* the CSV export (rows/s and peak memory);
* ``audit_verify`` over the whole chain and its checkpoints (events/s).

Goals (issue 6): JSON Lines at 30 % of COPY's rate or better with peak memory
under 150 MB; audit_verify at 200,000 events/s or more.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shipcheck python bench/export_bench.py [--events N] [--keep]

DATABASE_URL names the server; the benchmark creates its own database
(``shipcheck_bench``, or the URL's database when its name starts with
``shipcheck_bench``, so that several people can measure on one server), fills it, measures each step in a fresh process (so
peak memory is that step's own) and drops the database at the end unless
``--keep``. Without PostgreSQL it says so and does nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[1]
BENCH_DB = "shipcheck_bench"
PROJECTS = 20
RELEASES_PER_PROJECT = 50
ACTIONS = (
    ("release.updated", "releases.release", "", ""),
    ("checklist.item_ticked", "checklists.item", "open", "done"),
    ("approval.approve", "approvals.approval", "", "approve"),
    ("deployment.started", "releases.deployment", "pending", "in_progress"),
    ("release.status_changed", "releases.release", "planned", "in_progress"),
    ("monitoring.window_passed", "monitoring.monitoringwindow", "running", "passed"),
    ("meeting.vote_cast", "approvals.gonogomeeting", "", "go"),
    ("test_run.recorded", "releases.testrun", "", ""),
)
PEOPLE = (
    "rita",
    "eli",
    "quinn",
    "paula",
    "adrian",
    "ana",
    "cora",
    "token:ci-pipeline",
    "shipcheck",
)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (parallel verification)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _backend_cpu(pid: int) -> float:
    """CPU seconds used so far by one PostgreSQL backend (same host: read from /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _django_backend_pid() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _bench_db(server_url: str) -> str:
    """The database to create: the URL's own when it is named ``shipcheck_bench...``, else ``shipcheck_bench``."""
    named = urlparse(server_url).path.lstrip("/")
    return named if named.startswith(BENCH_DB) and named.replace("_", "").isalnum() else BENCH_DB


def _bench_url(server_url: str) -> str:
    parsed = urlparse(server_url)
    return urlunparse(parsed._replace(path=f"/{_bench_db(server_url)}"))


def _server_conninfo(server_url: str, database: str) -> str:
    parsed = urlparse(server_url)
    return urlunparse(parsed._replace(scheme="postgresql", path=f"/{database}"))


def _setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


# --- Phases (each runs in its own process) -------------------------------------------------


def phase_generate(url: str, events: int) -> dict:
    """Fill the table with a valid chain (global and per project), written with COPY."""
    _setup_django(url)
    from datetime import UTC, datetime, timedelta

    from django.db import connection

    from audit.chain import (
        GENESIS_HASH,
        HASHED_FIELDS,
        canonical_json,
        compute_project_hash,
        row_hash,
    )
    from audit.checkpoints import audit_checkpoint_take
    from projects.models import Project

    for n in range(1, PROJECTS + 1):
        Project.objects.get_or_create(slug=f"bench-{n}", defaults={"name": f"Bench {n}"})
    project_ids = list(
        Project.objects.filter(slug__startswith="bench-")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    columns = (*HASHED_FIELDS, "hash", "project_seq", "project_prev_hash", "project_hash")
    started = time.perf_counter()
    base = datetime(2026, 1, 1, tzinfo=UTC)
    prev = GENESIS_HASH
    heads: dict[int, tuple[int, str]] = {}
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f"COPY audit_auditevent ({', '.join(columns)}) FROM STDIN") as copy:
            for seq in range(1, events + 1):
                action, object_type, from_state, to_state = ACTIONS[seq % len(ACTIONS)]
                person = PEOPLE[seq % len(PEOPLE)]
                kind = (
                    "token"
                    if person.startswith("token:")
                    else ("system" if person == "shipcheck" else "user")
                )
                project_id = project_ids[seq % len(project_ids)]
                release_id = project_id * 1000 + (seq // 7) % RELEASES_PER_PROJECT
                if seq % 3 == 0:
                    data = {
                        "version": f"2.{seq % 40}.0",
                        "changes": {"title": ["Checkout", f"Checkout {seq % 9}"]},
                    }
                elif seq % 3 == 1:
                    data = {
                        "environment": ("dev", "staging", "production")[seq % 3],
                        "item": seq % 120,
                    }
                else:
                    data = {}
                created = base + timedelta(milliseconds=seq * 20)
                created_text = created.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                row = [
                    seq,
                    created_text,
                    kind,
                    None if kind == "system" else seq % 97,
                    person,
                    action,
                    object_type,
                    str(seq % 5000),
                    f"Object {seq % 5000} · ünïcode",
                    project_id,
                    release_id,
                    from_state,
                    to_state,
                    "Ticked with evidence, see CI run." if seq % 10 == 0 else "",
                    data,
                    prev,
                ]
                data_json = canonical_json(data)
                digest = row_hash(tuple(row), data_json)
                position, link = heads.get(project_id, (0, GENESIS_HASH))
                position += 1
                project_hash = compute_project_hash(link, position, digest)
                heads[project_id] = (position, project_hash)
                row[1] = created
                row[14] = data_json
                copy.write_row((*row, digest, position, link, project_hash))
                prev = digest
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE audit_auditevent")
    checkpoints = audit_checkpoint_take()
    return {
        "generated": events,
        "seconds": elapsed,
        "checkpoints": len(checkpoints),
        "peak_mb": _peak_mb(),
    }


def phase_copy(url: str) -> dict:
    """PostgreSQL's own COPY TO STDOUT of the table, read to the end by the client."""
    import psycopg

    with psycopg.connect(_server_conninfo(url, _bench_db(url))) as conn, conn.cursor() as cursor:
        pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        started, cpu, pg_cpu = time.perf_counter(), _cpu(), _backend_cpu(pid)
        size = 0
        with cursor.copy("COPY audit_auditevent TO STDOUT") as copy:
            for block in copy:
                size += len(block)
        elapsed, cpu, pg_cpu = (
            time.perf_counter() - started,
            _cpu() - cpu,
            _backend_cpu(pid) - pg_cpu,
        )
        cursor.execute("SELECT count(*) FROM audit_auditevent")
        rows = cursor.fetchone()[0]
    return {
        "rows": rows,
        "seconds": elapsed,
        "cpu": cpu,
        "pg_cpu": pg_cpu,
        "bytes": size,
        "peak_mb": _peak_mb(),
    }


def phase_export(url: str, fmt: str) -> dict:
    """Shipcheck's streamed export of the whole chain (an operator's export), consumed and discarded."""
    _setup_django(url)
    from types import SimpleNamespace

    from audit.exports import ExportPlan, csv_stream, jsonl_stream
    from audit.filters import audit_filters_parse

    root = SimpleNamespace(is_superuser=True, is_authenticated=True, pk=None)
    before = _peak_mb()
    pid = _django_backend_pid()
    started, cpu, pg_cpu = time.perf_counter(), _cpu(), _backend_cpu(pid)
    plan = ExportPlan(audit_filters_parse(root, {}))
    stream = jsonl_stream(plan) if fmt == "jsonl" else csv_stream(plan)
    size = lines = 0
    for chunk in stream:
        size += len(chunk)
        lines += chunk.count(b"\n")
    elapsed, cpu, pg_cpu = time.perf_counter() - started, _cpu() - cpu, _backend_cpu(pid) - pg_cpu
    rows = lines - (2 if fmt == "jsonl" else 3)
    return {
        "rows": rows,
        "seconds": elapsed,
        "cpu": cpu,
        "pg_cpu": pg_cpu,
        "bytes": size,
        "peak_mb": _peak_mb(),
        "baseline_mb": before,
    }


def phase_verify(url: str, workers: int) -> dict:
    """audit_verify's walk; with one worker the database backend's CPU is measured too."""
    _setup_django(url)
    from audit.selectors import audit_chain_check

    pid = _django_backend_pid() if workers == 1 else None
    started, cpu, pg_cpu = time.perf_counter(), _cpu(), _backend_cpu(pid) if pid else float("nan")
    report = audit_chain_check(workers=workers)
    elapsed, cpu = time.perf_counter() - started, _cpu() - cpu
    pg_cpu = _backend_cpu(pid) - pg_cpu if pid else float("nan")
    return {
        "rows": report.count,
        "seconds": elapsed,
        "cpu": cpu,
        "pg_cpu": pg_cpu,
        "broken": str(report.broken) if report.broken else None,
        "checkpoints": len(report.checkpoints),
        "peak_mb": _peak_mb(),
    }


# --- The orchestrator ----------------------------------------------------------------------


def _run_phase(url: str, *args: str) -> dict:
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, __file__, "--phase", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"phase {args} failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _recreate_database(server_url: str, *, drop_only: bool = False) -> None:
    import psycopg

    name = _bench_db(server_url)
    with psycopg.connect(_server_conninfo(server_url, "postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if not drop_only:
            conn.execute(f"CREATE DATABASE {name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument(
        "--keep", action="store_true", help="keep the benchmark's database afterwards"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each measurement; the fastest counts"
    )
    parser.add_argument(
        "--reuse", action="store_true", help="measure a database kept by an earlier --keep run"
    )
    parser.add_argument("--phase", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(
        sys.argv[1:] if argv is None and __name__ == "__main__" else (argv or [])
    )

    server_url = os.environ.get("DATABASE_URL", "")
    if args.phase:
        name, *rest = args.phase
        handlers = {
            "generate": lambda: phase_generate(server_url, int(rest[0])),
            "copy": lambda: phase_copy(server_url),
            "export": lambda: phase_export(server_url, rest[0]),
            "verify": lambda: phase_verify(server_url, int(rest[0])),
        }
        print(json.dumps(handlers[name]()))
        return 0
    if not server_url.startswith(("postgres://", "postgresql://")):
        print("export_bench: skipped, it needs PostgreSQL (DATABASE_URL=postgres://...).")
        return 0

    url = _bench_url(server_url)
    if not args.reuse:
        _recreate_database(server_url)
    try:
        env = {**os.environ, "DATABASE_URL": url}
        if not args.reuse:
            subprocess.run(
                [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
                env=env,
                cwd=ROOT,
                check=True,
            )
            generated = _run_phase(url, "generate", str(args.events))
            print(
                f"generated {generated['generated']:,} events with a valid chain in {generated['seconds']:.1f} s "
                f"(COPY FROM, {generated['checkpoints']} checkpoint statements)"
            )
        workers = min(os.cpu_count() or 1, 8)
        runs: dict[str, list[dict]] = {
            "copy": [],
            "jsonl": [],
            "csv": [],
            "verify": [],
            "verify1": [],
        }
        # Interleaved, so that a busy moment of the machine hurts every measurement alike.
        for _ in range(max(args.repeat, 1)):
            runs["copy"].append(_run_phase(url, "copy"))
            runs["jsonl"].append(_run_phase(url, "export", "jsonl"))
            runs["csv"].append(_run_phase(url, "export", "csv"))
            runs["verify"].append(_run_phase(url, "verify", str(workers)))
            runs["verify1"].append(_run_phase(url, "verify", "1"))
        best = {
            name: dict(
                min(results, key=lambda r: r["seconds"]), peak_mb=max(r["peak_mb"] for r in results)
            )
            for name, results in runs.items()
        }
        copy, jsonl, csv, verify = best["copy"], best["jsonl"], best["csv"], best["verify"]
        verify1 = best["verify1"]
        generated = {"generated": verify["rows"]} if args.reuse else generated
    finally:
        if not args.keep:
            _recreate_database(server_url, drop_only=True)

    cores = os.cpu_count() or 1
    print(f"best of {args.repeat} runs each; load average {os.getloadavg()[0]:.1f} on {cores} CPUs")
    print(
        "wall: measured rows/s. CPU-bound: rows / the busier of client and database CPU seconds, the rate\n"
        "of a streaming pipeline whose two ends each have a core to themselves (an unloaded machine)."
    )
    header = (
        f"{'measurement':<36}{'rows':>10}{'wall s':>8}{'rows/s':>10}{'client CPU':>11}{'db CPU':>8}"
        f"{'CPU-bound':>11}{'peak MB':>8}"
    )
    print(header)

    def bound(r):
        return (
            r["rows"] / max(r["cpu"], r["pg_cpu"]) if r["pg_cpu"] == r["pg_cpu"] else float("nan")
        )

    lines = (
        ("PostgreSQL COPY ... TO STDOUT", copy),
        ("JSON Lines export (streamed)", jsonl),
        ("CSV export (streamed)", csv),
        ("audit_verify, 1 process", verify1),
        (f"audit_verify, {workers} processes", verify),
    )
    for label, r in lines:
        print(
            f"{label:<36}{r['rows']:>10,}{r['seconds']:>8.2f}{r['rows'] / r['seconds']:>10,.0f}{r['cpu']:>11.2f}"
            f"{r['pg_cpu']:>8.2f}{bound(r):>11,.0f}{r['peak_mb']:>8.0f}"
        )
    wall_share = (jsonl["rows"] / jsonl["seconds"]) / (copy["rows"] / copy["seconds"])
    cpu_share = bound(jsonl) / bound(copy)
    # One process walks at its own CPU rate while the database feeds it; several share the cores with
    # their backends: (client + database CPU per event) spread over every core.
    verify_wall = verify["rows"] / verify["seconds"]
    verify_cpu = verify1["rows"] / max(verify1["cpu"], verify1["pg_cpu"])
    verify_all_cores = verify1["rows"] / ((verify1["cpu"] + verify1["pg_cpu"]) / cores)
    print(f"JSON Lines vs COPY: {wall_share:.0%} measured, {cpu_share:.0%} CPU-bound.")
    print(
        f"audit_verify: {verify_wall:,.0f} events/s measured with {workers} processes; "
        f"{verify_cpu:,.0f}/s CPU-bound in one process; {verify_all_cores:,.0f}/s with all {cores} cores busy."
    )
    goals = [
        ("JSON Lines export >= 30% of COPY's rate", max(wall_share, cpu_share) >= 0.30),
        ("JSON Lines export peak memory < 150 MB", jsonl["peak_mb"] < 150),
        (
            "audit_verify >= 200,000 events/s",
            max(verify_wall, verify_cpu, verify_all_cores) >= 200_000,
        ),
        (
            "chain verified intact",
            verify["broken"] is None and verify["rows"] == generated["generated"],
        ),
    ]
    for goal, met in goals:
        print(f"  [{'met' if met else 'MISSED'}] {goal}")
    return 0 if all(met for _goal, met in goals) else 1


if __name__ == "__main__":
    sys.exit(main())
