"""Load benchmark: the API and the pages under the target mix, on PostgreSQL behind gunicorn.

Run it with ``make bench-load`` (options: ``make bench-load LOAD_ARGS="--seconds 120"``).

1. Creates (or reuses) a database of its own on the PostgreSQL server named by
   ``LOAD_DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432/shipcheck_load``).
   It refuses a database it did not create: the bench marks its databases with a
   comment, and it never drops anything.
2. Builds the data set through the services (``bench/load/dataset.py``; ten projects of
   300 releases by default, about 3,000 releases and over 100,000 audit events).
3. Counts each endpoint's SQL queries in-process.
4. Starts gunicorn (``--workers``, ``--threads``) and drives the mix open-loop
   (``bench/load/driver.py``): a warm-up, a ramp of shorter steps to find the highest
   rate the mix sustains within the latency goal, then the target rate for
   ``--seconds`` (60 by default). ``/healthz`` runs in the same mix as the floor of
   the stack, and every endpoint's p95 is reported against it.

Exit status 0 when the target run met every goal, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
MARK = "shipcheck load benchmark"
# The goals of issue 21: 100 API requests and 10 page views a second, with these p95s.
API_RATE, PAGE_RATE, FLOOR_RATE = 100.0, 10.0, 5.0
GOAL_P95_MS = {"api": 50.0, "page": 150.0, "floor": None}


def _database(url: str) -> None:
    """Create the benchmark's database if missing; refuse one the benchmark did not create."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [name],
        ).fetchone()
        if row is None:
            conn.execute(f'CREATE DATABASE "{name}"')
            conn.execute(f"COMMENT ON DATABASE \"{name}\" IS '{MARK}'")
            print(f"created database {name}")
        elif row[0] != MARK:
            sys.exit(
                f"The database {name} exists and was not created by this benchmark; "
                "name another one with LOAD_DATABASE_URL."
            )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _targets(data: dict, tokens: list[tuple[str, str]], session: str):
    """The mix: what CI polls with a token, and what a person opens in the browser."""
    from bench.load.driver import Target
    from releases.models import Release

    api, pages = [], []
    per_project = {}
    for project in data["projects"]:
        release = Release.objects.filter(project=project).order_by("-created_at", "-id").first()
        released = (
            Release.objects.filter(project=project, status="released").order_by("-id").first()
        )
        per_project[project.slug] = (release, released or release)
    by_slug = dict(tokens)
    lists, details, gates, deployments, events = [], [], [], [], []
    for slug, (newest, released) in per_project.items():
        auth = (("Authorization", f"Bearer {by_slug[slug]}"),)
        lists.append((f"/api/v1/releases/?project={slug}", auth))
        details.append((f"/api/v1/releases/{released.pk}/", auth))
        gates.append((f"/api/v1/releases/{newest.pk}/gates/production/", auth))
        deployments.append((f"/api/v1/releases/{released.pk}/deployments/", auth))
        events.append((f"/api/v1/audit/events/?project={slug}", auth))
    api = [
        (Target("api release list", tuple(lists)), 0.25),
        (Target("api release detail", tuple(details)), 0.25),
        # 409 is the gate's "not now", an answer a pipeline reads, not an error.
        (Target("api gate check", tuple(gates), ok_statuses=(200, 409)), 0.2),
        (Target("api deployments", tuple(deployments)), 0.15),
        (Target("api audit events", tuple(events)), 0.15),
    ]
    cookie = (("Cookie", f"sessionid={session}"),)
    release_pages = tuple(
        (f"/releases/{released.pk}/", cookie) for _newest, released in per_project.values()
    )
    pages = [
        (Target("page dashboard", (("/", cookie),), "page"), 0.3),
        (Target("page release list", (("/releases/", cookie),), "page"), 0.3),
        (Target("page release", release_pages, "page"), 0.4),
    ]
    floor = [(Target("floor /healthz", (("/healthz", ()),), "floor"), 1.0)]
    return api, pages, floor


def _mix(api, pages, floor, scale: float):
    return (
        [(t, share * API_RATE * scale) for t, share in api]
        + [(t, share * PAGE_RATE * scale) for t, share in pages]
        + [(t, share * FLOOR_RATE) for t, share in floor]
    )


def _query_counts(targets) -> dict[str, int]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    counts = {}
    for target, _share in targets:
        path, headers = target.variants[0]
        client = Client()
        extra = {}
        for name, value in headers:
            if name == "Authorization":
                extra["HTTP_AUTHORIZATION"] = value
            elif name == "Cookie":
                client.cookies["sessionid"] = value.split("=", 1)[1]
        client.get(path, **extra)  # warm caches, as a running server has them
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path, **extra)
        counts[target.name] = (len(queries), response.status_code)
    return counts


def _report(results, targets, wall: float, seconds: float) -> tuple[bool, list[str]]:
    from bench.load.driver import percentile

    floor_p95 = None
    for target, _rate in targets:
        if target.group == "floor":
            floor_p95 = percentile(results[target.name].latencies_ms, 0.95)
    met, lines = True, []
    lines.append(
        f"{'endpoint':<22}{'rate/s':>8}{'ok':>7}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}"
        f"{'p99 ms':>9}{'goal':>7}{'p95/floor':>11}"
    )
    for target, rate in targets:
        result = results[target.name]
        p50, p95, p99 = (percentile(result.latencies_ms, f) for f in (0.5, 0.95, 0.99))
        goal = GOAL_P95_MS[target.group]
        errors = sum(result.errors.values())
        ok = errors == 0 and (goal is None or (p95 is not None and p95 <= goal))
        met &= ok
        ratio = f"{p95 / floor_p95:.1f}x" if p95 and floor_p95 else "-"
        lines.append(
            f"{target.name:<22}{rate:>8.1f}{len(result.latencies_ms):>7}{errors:>8}"
            f"{p50 or 0:>9.1f}{p95 or 0:>9.1f}{p99 or 0:>9.1f}"
            f"{(f'{goal:.0f}' if goal else '-'):>7}{ratio:>11}"
            + ("" if ok else "  <- NOT met")
            + (f"  {result.errors}" if result.errors else "")
        )
    lines.append(f"(scheduled {seconds:.0f} s, finished in {wall:.1f} s)")
    return met, lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=10)
    parser.add_argument("--releases", type=int, default=300, help="releases per project")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the target run")
    parser.add_argument("--step-seconds", type=float, default=15.0, help="length of a ramp step")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-ramp", action="store_true", help="skip the ramp, run only the target")
    parser.add_argument("--build-only", action="store_true", help="build the data set and stop")
    args = parser.parse_args(argv)

    url = os.environ.get("LOAD_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/shipcheck_load")
    _database(url)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "off",
        "LOG_LEVEL": "ERROR",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SHIPCHECK_VAR_DIR": str(ROOT / "var" / "bench-load"),
    }
    env.pop("REDIS_URL", None)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from bench.load.dataset import Scale, build
    from projects.choices import TokenScope
    from projects.services import api_token_create

    call_command("migrate", verbosity=0)
    # DEBUG is off, as in production: pages name static files through WhiteNoise's manifest.
    call_command("collectstatic", interactive=False, verbosity=0)
    print(
        f"data set: {args.projects} projects x {args.releases} releases (built once, then reused)"
    )
    started = time.perf_counter()
    data = build(Scale(projects=args.projects, releases_per_project=args.releases))
    from audit.models import AuditEvent
    from releases.models import Release

    print(
        f"data set ready in {time.perf_counter() - started:.0f} s: "
        f"{Release.objects.count()} releases, {AuditEvent.objects.count()} audit events"
    )
    if args.build_only:
        return 0
    admin = data["people"]["lr-adele"]
    tokens = []
    for project in data["projects"]:
        _token, plain = api_token_create(
            project=project,
            name="load benchmark",
            scopes=[TokenScope.READ, TokenScope.DEPLOYMENTS],
            actor=admin,
        )
        tokens.append((project.slug, plain))
    client = Client()
    client.force_login(data["people"]["lr-rita"])
    session = client.cookies["sessionid"].value
    api, pages, floor = _targets(data, tokens, session)

    print("\nSQL queries per request (in-process, warm):")
    for name, (count, status) in _query_counts(api + pages + floor).items():
        print(f"  {name:<22} {count:>3} queries  (HTTP {status})")

    port = _free_port()
    # The production shape: the image's gunicorn settings, with the worker model under test.
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "config.wsgi:application",
        "--config=config/gunicorn.py",
        "--log-level=warning",
    ]
    server_env = {
        **env,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": str(args.workers),
        "GUNICORN_THREADS": str(args.threads),
    }
    print(
        f"\nserver: gunicorn --config config/gunicorn.py, {args.workers} workers x "
        f"{args.threads} thread(s)"
    )
    server = subprocess.Popen(command, cwd=ROOT, env=server_env)  # noqa: S603 - our own command
    from bench.load.driver import drive

    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        drive("127.0.0.1", port, _mix(api, pages, floor, 0.2), 5)  # warm-up
        sustained = 0.0
        if not args.no_ramp:
            print(f"\nramp ({args.step_seconds:.0f} s a step):")
            for scale in (0.25, 0.5, 0.75, 1.0, 1.25, 1.5):
                mix = _mix(api, pages, floor, scale)
                results, wall = drive("127.0.0.1", port, mix, args.step_seconds)
                met, _lines = _report(results, mix, wall, args.step_seconds)
                total = sum(rate for target, rate in mix if target.group != "floor")
                print(f"  {total:6.1f} requests/s: {'within the goal' if met else 'NOT within'}")
                if not met:
                    break
                sustained = total
                time.sleep(2)
            print(f"highest rate within the latency goal: {sustained:.1f} requests/s")
        mix = _mix(api, pages, floor, 1.0)
        print(
            f"\ntarget run: {API_RATE:.0f} API requests/s + {PAGE_RATE:.0f} page views/s "
            f"(+ /healthz at {FLOOR_RATE:.0f}/s) for {args.seconds:.0f} s"
        )
        results, wall = drive("127.0.0.1", port, mix, args.seconds)
        met, lines = _report(results, mix, wall, args.seconds)
        print("\n".join(lines))
        print(
            f"\ngoal (API p95 <= 50 ms, pages p95 <= 150 ms, no errors): {'met' if met else 'NOT met'}"
        )
        return 0 if met else 1
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    sys.exit(main())
