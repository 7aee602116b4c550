"""Polling benchmark: 1,000 health checks due at once, polled by one worker's tick.

Arranges 100 running windows of 10 health checks each, all due now, against a
local HTTP server (an asyncio server in its own process), then measures:

* ``monitoring_tick()`` — what one worker does when beat ticks: claim every due
  slot, probe all 1,000 URLs through the SSRF-guarded client with a thread
  pool, store 1,000 samples and judge 100 windows;
* a bare ``httpx.Client`` loop over the same 1,000 URLs, in the same run.

Goal (issue 5): all 1,000 within one 10-second interval, at no less than half
the bare loop's rate. Run with ``make bench`` (fresh database in var/bench/).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import statistics
import time
import uuid
from datetime import timedelta

WINDOWS = 100
CHECKS_PER_WINDOW = 10
INTERVAL_SECONDS = 10.0
# The machine is shared: each round arranges 1,000 fresh due checks and times both
# contenders back to back; every round is printed, and the medians are compared.
ROUNDS = 3
BODY = b'{"status": "ok"}'


def _serve(port_queue) -> None:
    """A small keep-alive HTTP/1.1 server answering every GET with 200 and a JSON body."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if not head:
                    break
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                    + str(len(BODY)).encode()
                    + b"\r\n\r\n"
                    + BODY
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
        port_queue.put(server.sockets[0].getsockname()[1])
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def _arrange(base_url: str, round_number: int) -> list[str]:
    """100 environments, each with a running deployment and a window of 10 checks due now."""
    from django.utils import timezone

    from monitoring.choices import CheckKind, WindowKind, WindowStatus
    from monitoring.models import HealthCheck, MonitoringWindow, WindowCheck
    from monitoring.services.config import health_config
    from projects.choices import Tier
    from projects.models import Environment
    from projects.services import project_create
    from releases.choices import DeploymentStatus
    from releases.models import Deployment, Release

    suffix = uuid.uuid4().hex[:6]
    project = project_create(name=f"Poll bench {suffix}", actor=None)
    project.environments.all().delete()
    environments = Environment.objects.bulk_create(
        [
            Environment(
                project=project,
                name=f"env-{n}",
                display_name=f"Env {n}",
                tier=Tier.STAGING,
                order=n,
            )
            for n in range(WINDOWS)
        ]
    )
    from django.contrib.auth import get_user_model

    manager = get_user_model().objects.create_user(f"bench-poll-{suffix}")
    release = Release.objects.create(
        project=project, version="1.0.0", version_major=1, title="Bench", release_manager=manager
    )
    now = timezone.now()
    interval = timedelta(seconds=INTERVAL_SECONDS)
    started = now - interval + timedelta(milliseconds=50)  # slot 1 is due and fresh
    urls, checks, windows = [], [], []
    for environment in environments:
        deployment = Deployment.objects.create(
            release=release,
            environment=environment,
            status=DeploymentStatus.IN_PROGRESS,
            started_at=now,
        )
        windows.append(
            MonitoringWindow(
                deployment=deployment,
                kind=WindowKind.CANARY,
                status=WindowStatus.RUNNING,
                poll_interval=interval,
                started_at=started,
                ends_at=started + timedelta(minutes=15),
                next_slot=1,
                next_poll_at=started + interval,
            )
        )
        for n in range(CHECKS_PER_WINDOW):
            url = f"{base_url}/health/{round_number}/{environment.order}/{n}"
            urls.append(url)
            checks.append(
                HealthCheck(environment=environment, name=f"check {n}", url=url, timeout_seconds=5)
            )
    HealthCheck.objects.bulk_create(checks)
    MonitoringWindow.objects.bulk_create(windows)
    by_env = {w.deployment.environment_id: w for w in windows}
    rows = []
    for check in HealthCheck.objects.filter(environment__project=project).order_by("id"):
        rows.append(
            WindowCheck(
                window=by_env[check.environment_id],
                kind=CheckKind.HEALTH,
                health_check=check,
                name=check.name,
                config=health_config(check),
            )
        )
    WindowCheck.objects.bulk_create(rows)
    return urls


def main() -> int:
    import httpx2 as httpx
    from django.test.utils import override_settings
    from django.utils import timezone

    from monitoring.models import MonitoringWindow, Sample
    from monitoring.services import monitoring_tick

    context = multiprocessing.get_context("fork")
    port_queue = context.Queue()
    server = context.Process(target=_serve, args=(port_queue,), daemon=True)
    server.start()
    try:
        base_url = f"http://127.0.0.1:{port_queue.get(timeout=10)}"
        bare_times, poll_times, total = [], [], 0
        with override_settings(SHIPCHECK_FETCH_ALLOWLIST=["127.0.0.1"]):
            for round_number in range(1, ROUNDS + 1):
                urls = _arrange(base_url, round_number)
                total = len(urls)

                started = time.perf_counter()
                with httpx.Client(trust_env=False) as client:
                    for url in urls:
                        client.get(url).raise_for_status()
                bare_times.append(time.perf_counter() - started)

                started = time.perf_counter()
                report = monitoring_tick()
                poll_times.append(time.perf_counter() - started)
                # Stop this round's windows so a later round's tick polls only its own.
                MonitoringWindow.objects.filter(pk__in=report.window_ids).update(status="cancelled")
                ok = Sample.objects.filter(
                    status="ok", taken_at__gte=timezone.now() - timedelta(minutes=5)
                ).count()
                print(
                    f"round {round_number}: bare httpx loop {bare_times[-1]:6.2f} s   "
                    f"monitoring_tick {poll_times[-1]:6.2f} s ({report.samples} samples from "
                    f"{report.polled} windows)   poller/bare rate {bare_times[-1] / poll_times[-1]:.2f}"
                )
                if report.samples != total:
                    print(f"  only {report.samples} of {total} checks were polled")
        bare, poller = statistics.median(bare_times), statistics.median(poll_times)
        bare_rate, poll_rate = total / bare, total / poller
        print(
            f"median bare httpx loop (sequential, keep-alive): {total} GETs in {bare:6.2f} s = "
            f"{bare_rate:5.0f}/s"
        )
        print(
            f"median monitoring_tick (one worker: claim, probe, store, judge): {total} checks in "
            f"{poller:6.2f} s = {poll_rate:5.0f}/s"
        )
        met = poller <= INTERVAL_SECONDS and poll_rate >= bare_rate / 2 and ok == total * ROUNDS
        print(
            f"poller / bare rate: {poll_rate / bare_rate:.2f}   goal: all within {INTERVAL_SECONDS:g} s and at "
            f"least 0.5 of the bare rate -> {'met' if met else 'NOT met'}"
        )
    finally:
        server.kill()
        server.join(timeout=5)
    return 0 if met else 1


if __name__ == "__main__":
    import django

    django.setup()
    raise SystemExit(main())
