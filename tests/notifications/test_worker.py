"""Deliveries by real Celery workers on PostgreSQL + Redis; one is killed in the middle of a send.

The worker runs in a subprocess on the test database and a queue of its own (the
monitoring tests' ``WorkerProcess``); the test plays celery beat, sending
``notifications.tasks.sweep`` to that queue. Without PostgreSQL and Redis the test
skips loudly (and fails under CI=true): another process cannot share SQLite's test
database.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections import Counter

import pytest
from django.db import connection, transaction

from notifications import services
from notifications.choices import DeliveryStatus
from notifications.models import Delivery
from tests.monitoring.servers import Answer, Seen
from tests.monitoring.test_worker import WorkerProcess, wait_for
from tests.notifications.conftest import TEST_EVENT

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("allow_loopback"),
    pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored"),
]

REAL_WORKER = bool(os.environ.get("REDIS_URL")) and connection.vendor == "postgresql"
LEASE = 6
DEADLINE = 5
# How long each wait may take at most (a wait ends as soon as what it waits for happens):
# generous, because a fully loaded 2-core CI machine starts a Celery worker slowly.
PATIENCE = 120


def _state(worker) -> str:
    rows = list(Delivery.objects.values_list("pk", "status", "attempts", "claimed_until"))
    return f"deliveries: {rows}\nworker:\n" + "".join(worker.output[-30:])


@pytest.fixture
def queue(settings, monkeypatch):
    if not REAL_WORKER:
        # The PostgreSQL run of .ci/run must run it; its SQLite run skips it.
        if os.environ.get("CI", "").lower() in ("1", "true", "yes") and os.environ.get(
            "DATABASE_URL"
        ):
            pytest.fail("The worker tests need PostgreSQL and Redis (DATABASE_URL, REDIS_URL).")
        pytest.skip("SKIPPED: the real-worker delivery test needs PostgreSQL and Redis.")
    from config.celery import app

    name = f"notify-test-{uuid.uuid4().hex[:10]}"
    # The workers read these from their environment; this process from its settings.
    monkeypatch.setenv("SHIPCHECK_NOTIFY_LEASE_SECONDS", str(LEASE))
    monkeypatch.setenv("SHIPCHECK_NOTIFY_RETRY_BASE_SECONDS", "0")
    monkeypatch.setenv("SHIPCHECK_NOTIFY_TIMEOUT_SECONDS", str(DEADLINE))
    settings.SHIPCHECK_NOTIFY_LEASE_SECONDS = LEASE
    settings.SHIPCHECK_NOTIFY_TIMEOUT_SECONDS = DEADLINE
    settings.CELERY_TASK_ALWAYS_EAGER = False
    routes, eager = app.conf.task_routes, app.conf.task_always_eager
    app.conf.task_always_eager = False
    _route(app, {"notifications.tasks.*": {"queue": name}})
    yield name
    app.conf.task_always_eager = eager
    _route(app, routes)


def _route(app, routes) -> None:
    """Celery reads ``task_routes`` once, at the first message this process sends, and keeps
    the router it built: rebuild it, or ``deliver.delay`` still goes to the default queue
    (which no worker of this test reads) whenever an earlier test already sent a task."""
    app.conf.task_routes = routes
    app.amqp.flush_routes()
    app.amqp.router = app.amqp.Router()


class Beat:
    """Plays celery beat: a sweep to the queue every ``every`` seconds."""

    def __init__(self, queue: str, every: float = 0.2):
        from config.celery import app

        self.stop = threading.Event()

        def loop():
            while not self.stop.wait(every):
                app.send_task("notifications.tasks.sweep", queue=queue, expires=2.0)

        self.thread = threading.Thread(target=loop, daemon=True)
        self.thread.start()

    def close(self):
        self.stop.set()
        self.thread.join(timeout=5)


def test_worker_killed_mid_send__delivered_after_its_lease_never_lost_never_doubled(
    project, people, receiver, queue, tmp_path
):
    services.channel_create(
        project=project,
        actor=people.adam,
        kind="webhook",
        name="Receiver",
        url=receiver.url("/hook"),
        audiences=["team"],
    )
    arrived = threading.Event()
    first = threading.Event()

    def answer(seen: Seen) -> Answer:
        if not first.is_set():
            first.set()
            arrived.set()
            return Answer(200, delay_seconds=30)  # holds the first worker mid-send
        return Answer(200)

    receiver.route("/hook", answer)
    worker = WorkerProcess(queue, tmp_path)
    beat = None
    try:
        from core.events import publish

        with transaction.atomic():
            publish(TEST_EVENT, project=project, subject="Killed mid-send")
        row = Delivery.objects.get()
        assert arrived.wait(PATIENCE), _state(worker)
        worker.kill()  # SIGKILL while the request is in flight
        row.refresh_from_db()
        assert row.status == DeliveryStatus.SENDING and row.attempts == 1

        replacement = WorkerProcess(queue, tmp_path)
        beat = Beat(queue)
        try:
            assert wait_for(
                lambda: Delivery.objects.get(pk=row.pk).status == DeliveryStatus.DELIVERED,
                PATIENCE,
            ), _state(replacement)
            # Twenty more while the sweeper keeps queueing whatever is due: each row once.
            for n in range(20):
                with transaction.atomic():
                    publish(TEST_EVENT, project=project, subject=f"More {n}")
            assert wait_for(
                lambda: Delivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 21,
                PATIENCE,
            ), _state(replacement)
            time.sleep(3 * 0.2)  # a few more sweeps: nothing may be sent again
        finally:
            replacement.kill()
    finally:
        if beat is not None:
            beat.close()
        worker.kill()

    row.refresh_from_db()
    assert row.attempts == 2
    ids = Counter(seen.headers["webhook-id"] for seen in receiver.requests)
    # The killed send and its retry carry one delivery id (the receiver deduplicates on it);
    # every other row reached the receiver exactly once.
    assert ids.pop(str(row.uid)) == 2
    assert len(ids) == 20 and set(ids.values()) == {1}
    assert set(ids) == {
        str(u) for u in Delivery.objects.exclude(pk=row.pk).values_list("uid", flat=True)
    }
