"""Audit export benchmark: one million events on PostgreSQL.

Measures, in the same run and on the same table:

* PostgreSQL's own ``COPY audit_auditevent TO STDOUT`` (rows/s), the yardstick;
* Shipcheck's JSON Lines export of the whole chain (rows/s and peak memory);
* the CSV export (rows/s and peak memory);
* ``audit_verify`` over the whole chain and its checkpoints (events/s).

Goals (issue 6): JSON Lines at 30 % of COPY's rate or better with peak memory
under 150 MB; audit_verify at 200,000 events/s or more.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shipcheck python bench/export_bench.py [--events N] [--keep]

DATABASE_URL names the server only. The benchmark creates databases of its
own under fresh names (``shipcheck_bench_<random>_varied`` and ``…_repetitive``;
``CREATE DATABASE`` fails rather than reuse a name that exists), fills them,
measures each step in a fresh process (so peak memory is that step's own) and
drops, at the end, only the databases it created in this run (unless
``--keep``; ``--reuse NAME`` measures a kept one and never drops it). It never
drops a database it did not create, and never forces connections off one.

Two data sets, both reported: **varied** (what a real trail looks like:
nearly every event's ``data``, ``reason`` and ``object_repr`` distinct, so the
verifier's parsing cache rarely hits) and **repetitive** (a few hundred
distinct ``data`` values per million, as earlier versions of this benchmark
used; it flatters the verifier). The verification goal is judged on the
varied set. Without PostgreSQL it says so and does nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import secrets
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


def _bench_db(url: str) -> str:
    """The database a phase works on: the one named in its URL."""
    return urlparse(url).path.lstrip("/")


def _with_db(server_url: str, name: str) -> str:
    parsed = urlparse(server_url)
    return urlunparse(parsed._replace(path=f"/{name}"))


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


TICKET_KEYS = ("PAY", "CHK", "OPS", "SEC", "WEB", "API", "MOB")
WORDS = [
    "checkout",
    "rollout",
    "canary",
    "latency",
    "error",
    "budget",
    "migration",
    "schema",
    "flag",
    "cache",
    "retry",
    "webhook",
    "refund",
    "ledger",
    "invoice",
    "token",
    "session",
    "queue",
    "worker",
    "timeout",
    "index",
    "replica",
    "failover",
    "Łódź",
    "Zürich",
    "München",
    "支付",
    "Оплата",
    "café",
    "naïve",
]


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def _varied(seq: int, rng: random.Random) -> tuple[dict, str, str]:
    """``data``, ``reason`` and ``object_repr`` as varied as a real trail's."""
    shape = seq % 6
    version = f"{rng.randint(1, 9)}.{rng.randint(0, 60)}.{rng.randint(0, 30)}"
    if shape == 0:
        data = {
            "changes": {
                "title": [_sentence(rng, 3).capitalize(), _sentence(rng, 4).capitalize()],
                "notes": [_sentence(rng, 6), _sentence(rng, 8)],
            },
            "version": version,
        }
    elif shape == 1:
        data = {
            "environment": rng.choice(("dev", "staging", "production")),
            "item": rng.randint(1, 5000),
            "evidence": f"https://ci.example.com/runs/{rng.randint(10_000, 9_999_999)}",
        }
    elif shape == 2:
        data = {
            "tickets": [
                f"{rng.choice(TICKET_KEYS)}-{rng.randint(1, 99999)}"
                for _ in range(rng.randint(1, 4))
            ],
            "commits": [secrets.token_hex(20) for _ in range(rng.randint(1, 3))],
        }
    elif shape == 3:
        data = {
            "check": f"p95 latency {rng.choice(WORDS)}",
            "value": round(rng.uniform(10, 900), 3),
            "baseline": round(rng.uniform(10, 900), 3),
            "error_rate": round(rng.random() / 50, 6),
            "samples": rng.randint(3, 400),
        }
    elif shape == 4:
        data = {
            "kind": rng.choice(("deployment", "emergency", "qa", "scope")),
            "attendees": [rng.choice(PEOPLE) for _ in range(rng.randint(2, 6))],
            "votes": {"go": rng.randint(0, 6), "no_go": rng.randint(0, 3)},
        }
    else:
        data = {}
    reason = _sentence(rng, rng.randint(3, 14)).capitalize() + "." if seq % 3 else ""
    object_repr = f"{_sentence(rng, 2).capitalize()} {version} #{seq}"
    return data, reason, object_repr


def _repetitive(seq: int) -> tuple[dict, str, str]:
    """The earlier benchmark's data: a few hundred distinct values per million events."""
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
    reason = "Ticked with evidence, see CI run." if seq % 10 == 0 else ""
    return data, reason, f"Object {seq % 5000} · ünïcode"


def phase_generate(url: str, events: int, dataset: str = "varied") -> dict:
    """Fill the table with a valid chain (global and per project, MACed), written with COPY."""
    _setup_django(url)
    from datetime import UTC, datetime, timedelta

    from django.db import connection

    from audit.chain import (
        GENESIS_HASH,
        HASHED_FIELDS,
        canonical_json,
        compute_project_hash,
        event_mac,
        row_hash,
    )
    from audit.checkpoints import audit_checkpoint_take, mac_key
    from projects.models import Project

    for n in range(1, PROJECTS + 1):
        Project.objects.get_or_create(slug=f"bench-{n}", defaults={"name": f"Bench {n}"})
    project_ids = list(
        Project.objects.filter(slug__startswith="bench-")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    columns = (
        *HASHED_FIELDS,
        "hash",
        "project_seq",
        "project_prev_hash",
        "project_hash",
        "mac",
        "data_text",
    )
    rng = random.Random(20261201)
    key = mac_key()
    distinct_data: set = set()
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
                if dataset == "varied":
                    data, reason, object_repr = _varied(seq, rng)
                else:
                    data, reason, object_repr = _repetitive(seq)
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
                    object_repr,
                    project_id,
                    release_id,
                    from_state,
                    to_state,
                    reason,
                    data,
                    prev,
                ]
                data_json = canonical_json(data)
                if len(distinct_data) < 2_000_000:
                    distinct_data.add(data_json)
                digest = row_hash(tuple(row), data_json)
                position, link = heads.get(project_id, (0, GENESIS_HASH))
                position += 1
                project_hash = compute_project_hash(link, position, digest)
                heads[project_id] = (position, project_hash)
                row[1] = created
                row[14] = data_json
                mac = event_mac(key, digest, project_hash)
                copy.write_row((*row, digest, position, link, project_hash, mac, data_json))
                prev = digest
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE audit_auditevent")
    checkpoints = audit_checkpoint_take()
    return {
        "generated": events,
        "distinct_data": len(distinct_data),
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
    from compliance.filters import audit_filters_parse

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


def _create_database(server_url: str, name: str) -> None:
    """CREATE DATABASE under a fresh name: fails (and so touches nothing) if the name exists."""
    import psycopg

    with psycopg.connect(_server_conninfo(server_url, "postgres"), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")


def _drop_created(server_url: str, name: str) -> None:
    """Drop a database this run created (its phases have exited; nobody is forced off)."""
    import psycopg

    with psycopg.connect(_server_conninfo(server_url, "postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")


def _best(results: list[dict]) -> dict:
    return dict(
        min(results, key=lambda r: r["seconds"]), peak_mb=max(r["peak_mb"] for r in results)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument(
        "--keep", action="store_true", help="keep the benchmark's databases afterwards"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each measurement; the fastest counts"
    )
    parser.add_argument(
        "--reuse",
        nargs=2,
        metavar=("VARIED_DB", "REPETITIVE_DB"),
        help="measure the databases kept by an earlier --keep run (never dropped)",
    )
    parser.add_argument("--phase", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(
        sys.argv[1:] if argv is None and __name__ == "__main__" else (argv or [])
    )

    server_url = os.environ.get("DATABASE_URL", "")
    if args.phase:
        name, *rest = args.phase
        handlers = {
            "generate": lambda: phase_generate(server_url, int(rest[0]), rest[1]),
            "copy": lambda: phase_copy(server_url),
            "export": lambda: phase_export(server_url, rest[0]),
            "verify": lambda: phase_verify(server_url, int(rest[0])),
        }
        print(json.dumps(handlers[name]()))
        return 0
    if not server_url.startswith(("postgres://", "postgresql://")):
        print("export_bench: skipped, it needs PostgreSQL (DATABASE_URL=postgres://...).")
        return 0

    kinds = ("varied", "repetitive")
    created: list[str] = []
    if args.reuse:
        names = dict(zip(kinds, args.reuse, strict=True))
    else:
        token = secrets.token_hex(4)
        names = {kind: f"{BENCH_DB}_{token}_{kind}" for kind in kinds}
    urls = {kind: _with_db(server_url, name) for kind, name in names.items()}
    generated: dict[str, dict] = {}
    try:
        if not args.reuse:
            for kind in kinds:
                _create_database(server_url, names[kind])
                created.append(names[kind])
                env = {**os.environ, "DATABASE_URL": urls[kind]}
                subprocess.run(
                    [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
                    env=env,
                    cwd=ROOT,
                    check=True,
                )
                generated[kind] = _run_phase(urls[kind], "generate", str(args.events), kind)
                print(
                    f"{kind}: generated {generated[kind]['generated']:,} events with a valid chain in "
                    f"{generated[kind]['seconds']:.1f} s ({generated[kind]['distinct_data']:,} distinct "
                    f"data values, {generated[kind]['checkpoints']} checkpoint statements) in {names[kind]}"
                )
        workers = min(os.cpu_count() or 1, 8)
        runs: dict[str, list[dict]] = {
            name: []
            for name in ("copy", "jsonl", "csv", "verify", "verify1", "rverify", "rverify1")
        }
        # Interleaved, so that a busy moment of the machine hurts every measurement alike.
        varied, repetitive = urls["varied"], urls["repetitive"]
        for _ in range(max(args.repeat, 1)):
            runs["copy"].append(_run_phase(varied, "copy"))
            runs["jsonl"].append(_run_phase(varied, "export", "jsonl"))
            runs["csv"].append(_run_phase(varied, "export", "csv"))
            runs["verify"].append(_run_phase(varied, "verify", str(workers)))
            runs["verify1"].append(_run_phase(varied, "verify", "1"))
            runs["rverify"].append(_run_phase(repetitive, "verify", str(workers)))
            runs["rverify1"].append(_run_phase(repetitive, "verify", "1"))
        best = {name: _best(results) for name, results in runs.items()}
    finally:
        if args.keep:
            if created:
                print(f"kept: --reuse {' '.join(created)}")
        else:
            for name in created:
                _drop_created(server_url, name)

    copy, jsonl, csv, verify, verify1 = (
        best[k] for k in ("copy", "jsonl", "csv", "verify", "verify1")
    )
    rverify, rverify1 = best["rverify"], best["rverify1"]
    cores = os.cpu_count() or 1
    print(f"best of {args.repeat} runs each; load average {os.getloadavg()[0]:.1f} on {cores} CPUs")
    print(
        "wall: measured rows/s. CPU-bound: rows / the busier of client and database CPU seconds, the rate\n"
        "of a streaming pipeline whose two ends each have a core to themselves (an unloaded machine)."
    )
    header = (
        f"{'measurement':<44}{'rows':>10}{'wall s':>8}{'rows/s':>10}{'client CPU':>11}{'db CPU':>8}"
        f"{'CPU-bound':>11}{'peak MB':>8}"
    )
    print(header)

    def bound(r):
        return (
            r["rows"] / max(r["cpu"], r["pg_cpu"]) if r["pg_cpu"] == r["pg_cpu"] else float("nan")
        )

    lines = (
        ("PostgreSQL COPY ... TO STDOUT (varied)", copy),
        ("JSON Lines export (streamed, varied)", jsonl),
        ("CSV export (streamed, varied)", csv),
        ("audit_verify, 1 process, varied", verify1),
        (f"audit_verify, {workers} processes, varied", verify),
        ("audit_verify, 1 process, repetitive", rverify1),
        (f"audit_verify, {workers} processes, repetitive", rverify),
    )
    for label, r in lines:
        print(
            f"{label:<44}{r['rows']:>10,}{r['seconds']:>8.2f}{r['rows'] / r['seconds']:>10,.0f}{r['cpu']:>11.2f}"
            f"{r['pg_cpu']:>8.2f}{bound(r):>11,.0f}{r['peak_mb']:>8.0f}"
        )
    wall_share = (jsonl["rows"] / jsonl["seconds"]) / (copy["rows"] / copy["seconds"])
    cpu_share = bound(jsonl) / bound(copy)

    def verify_rates(several, one):
        # One process walks at its own CPU rate while the database feeds it; several share the
        # cores with their backends: (client + database CPU per event) spread over every core.
        return (
            several["rows"] / several["seconds"],
            one["rows"] / max(one["cpu"], one["pg_cpu"]),
            one["rows"] / ((one["cpu"] + one["pg_cpu"]) / cores),
        )

    print(f"JSON Lines vs COPY: {wall_share:.0%} measured, {cpu_share:.0%} CPU-bound.")
    rates = {}
    for kind, several, one in (("varied", verify, verify1), ("repetitive", rverify, rverify1)):
        rates[kind] = verify_rates(several, one)
        wall, cpu_one, all_cores = rates[kind]
        print(
            f"audit_verify on {kind} data: {wall:,.0f} events/s measured with {workers} processes; "
            f"{cpu_one:,.0f}/s CPU-bound in one process; {all_cores:,.0f}/s with all {cores} cores busy."
        )
    expected = {kind: (generated[kind]["generated"] if generated else None) for kind in kinds}
    goals = [
        ("JSON Lines export >= 30% of COPY's rate", max(wall_share, cpu_share) >= 0.30),
        ("JSON Lines export peak memory < 150 MB", jsonl["peak_mb"] < 150),
        (
            "audit_verify >= 200,000 events/s measured, on the varied data",
            rates["varied"][0] >= 200_000,
        ),
        (
            "chains verified intact",
            all(
                r["broken"] is None and (expected[k] is None or r["rows"] == expected[k])
                for k, r in (("varied", verify), ("repetitive", rverify))
            ),
        ),
    ]
    for goal, met in goals:
        print(f"  [{'met' if met else 'NOT met'}] {goal}")
    return 0 if all(met for _goal, met in goals) else 1


if __name__ == "__main__":
    sys.exit(main())
