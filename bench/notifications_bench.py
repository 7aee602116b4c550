"""Notification delivery benchmark: 10,000 signed webhook deliveries by one worker.

Fans out 10,000 events to a project's generic webhook channel (10,000 outbox rows,
written by the same handler as in production), then measures, in the same run and
against the same local receiver (an asyncio HTTP server in its own process):

* a bare ``httpx.Client`` loop POSTing 10,000 JSON bodies, keep-alive, sequential;
* one worker delivering the 10,000 rows as it works off a backlog: the
  ``notifications.tasks.sweep`` task, run until nothing is due (claim a batch with
  one conditional UPDATE, sign each body twice, POST each through monitoring's
  guarded fetcher with a few sends in flight, record each outcome).

Goal (issue 16): at least half the bare loop's rate, with flat memory (the worker's
resident memory after 10,000 deliveries within a few MiB of where it was after
2,000). Run with ``make bench`` (fresh database in var/bench/).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time

DELIVERIES = 10_000
# Resident memory may grow this much between the 2,000th and the last delivery.
FLAT_MEMORY_MIB = 16.0


def _serve(port_queue) -> None:
    """A keep-alive HTTP/1.1 server answering every request with 204, reading the body."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                if length:
                    await reader.readexactly(length)
                writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
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


def _rss_mib() -> float:
    with open(f"/proc/{os.getpid()}/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)


def _arrange(url: str) -> tuple[list[int], float]:
    """A project with one webhook channel and 10,000 committed outbox rows for it."""
    import uuid

    from django.contrib.auth import get_user_model
    from django.db import transaction

    from core.events import event_type, publish
    from notifications.models import Delivery
    from notifications.services import channel_create
    from projects.choices import Role
    from projects.models import Membership
    from projects.services import project_create

    event_type("bench.happened", "Something happened (benchmark)", audience=("team",))
    suffix = uuid.uuid4().hex[:6]
    admin = get_user_model().objects.create_user(f"bench-{suffix}", f"bench-{suffix}@example.com")
    project = project_create(name=f"Notify bench {suffix}", actor=None)
    Membership.objects.create(project=project, user=admin, role=Role.ADMIN)
    channel_create(
        project=project, actor=admin, kind="webhook", name="Receiver", url=url, audiences=["team"]
    )
    started = time.perf_counter()
    # One transaction per thousand events: the outbox rows commit with them, as in production
    # (each publish writes its row; the after-commit queueing is the sweeper's job here).
    from django.test.utils import override_settings

    with override_settings(CELERY_TASK_ALWAYS_EAGER=False):
        for start in range(0, DELIVERIES, 1000):
            with transaction.atomic():
                for n in range(start, min(start + 1000, DELIVERIES)):
                    publish(
                        "bench.happened",
                        project=project,
                        subject=f"Deployment {n} succeeded",
                        body="All checks passed.",
                        url="/releases/",
                        data={"n": n},
                    )
                transaction.get_connection().run_on_commit = []  # the bench runs the worker itself
    fan_out = time.perf_counter() - started
    ids = list(Delivery.objects.filter(project=project).order_by("pk").values_list("pk", flat=True))
    return ids, fan_out


def main() -> int:
    import httpx2 as httpx
    from django.test.utils import override_settings

    from notifications.models import Delivery
    from notifications.services import BATCH_SIZE, SEND_THREADS
    from notifications.tasks import sweep

    context = multiprocessing.get_context("fork")
    port_queue = context.Queue()
    server = context.Process(target=_serve, args=(port_queue,), daemon=True)
    server.start()
    try:
        url = f"http://127.0.0.1:{port_queue.get(timeout=10)}/hook"
        # Production runs with DEBUG off (no query log growing with every statement).
        with override_settings(SHIPCHECK_FETCH_ALLOWLIST=["127.0.0.1"], DEBUG=False):
            ids, fan_out = _arrange(url)
            print(
                f"fan-out: {len(ids):,} outbox rows written by the event handler in {fan_out:6.2f} s"
            )
            body = b'{"id":"x","type":"bench.happened","data":{"subject":"Deployment succeeded"}}'
            started = time.perf_counter()
            with httpx.Client(trust_env=False) as client:
                for _ in range(DELIVERIES):
                    client.post(
                        url, content=body, headers={"Content-Type": "application/json"}
                    ).raise_for_status()
            bare = time.perf_counter() - started

            # One worker: the sweeper task works the backlog off in claimed batches; its
            # memory is read after the first 2,000 deliveries and after the last.
            marks: dict[int, float] = {}
            started = time.perf_counter()
            done = 0
            while done < DELIVERIES:
                handled = sweep()
                if not handled:
                    break
                done += handled
                if done >= 2000 and 2000 not in marks:
                    marks[2000] = _rss_mib()
            marks[DELIVERIES] = _rss_mib()
            worker = time.perf_counter() - started
        delivered = Delivery.objects.filter(pk__in=ids, status="delivered").count()
        bare_rate, worker_rate = DELIVERIES / bare, DELIVERIES / worker
        growth = marks.get(DELIVERIES, 0.0) - marks.get(2000, 0.0)
        print(
            f"bare httpx loop (sequential, keep-alive): {DELIVERIES:,} POSTs in {bare:6.2f} s = {bare_rate:6.0f}/s"
        )
        print(
            f"one worker (sweep: claimed batches of {BATCH_SIZE}, {SEND_THREADS} sends in flight; sign, guarded POST, record): {delivered:,} delivered "
            f"in {worker:6.2f} s = {worker_rate:6.0f}/s"
        )
        print(
            f"resident memory: {marks.get(2000, 0):.1f} MiB after 2,000, {marks.get(DELIVERIES, 0):.1f} MiB "
            f"after {DELIVERIES:,} (growth {growth:+.1f} MiB)"
        )
        met = worker_rate >= bare_rate / 2 and delivered == DELIVERIES and growth <= FLAT_MEMORY_MIB
        print(
            f"worker / bare rate: {worker_rate / bare_rate:.2f}   goal: at least 0.5, every row "
            f"delivered once, memory growth at most {FLAT_MEMORY_MIB:g} MiB -> {'met' if met else 'NOT met'}"
        )
    finally:
        server.kill()
        server.join(timeout=5)
    return 0 if met else 1


if __name__ == "__main__":
    import django

    django.setup()
    raise SystemExit(main())
