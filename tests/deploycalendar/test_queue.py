"""Queue and resume: a promotion held back only by time starts by itself, once."""

from __future__ import annotations

import os
import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.db import connection

from audit.models import AuditEvent
from core.exceptions import Conflict, PermissionDenied
from deploycalendar.choices import QueueStatus
from deploycalendar.models import QueuedPromotion
from deploycalendar.services import (
    freeze_create,
    queue_add,
    queue_cancel,
    queue_run_due,
    queue_start,
    window_create,
)
from releases.models import Deployment
from tests.deploycalendar.conftest import minute, wall


@pytest.mark.django_db
class TestQueueService:
    def test_queue__held_by_window__waits_for_the_opening(self, staged, envs, people, window_later):
        window_later(120)
        item = queue_add(release=staged, environment=envs["production"], actor=people.alice)
        assert item.status == QueueStatus.WAITING and item.not_before == minute(120)
        assert AuditEvent.objects.filter(action="calendar.queued").count() == 1
        # Before the opening nothing happens; after it, the promotion starts once.
        assert queue_run_due(now=minute(60)) == 0
        assert queue_run_due(now=minute(121)) == 0  # the gate says the window is still shut now
        item.refresh_from_db()
        assert item.status == QueueStatus.WAITING

    def test_queue__starts_when_open__once(self, staged, envs, people, window_later):
        window = window_later(120)
        item = queue_add(release=staged, environment=envs["production"], actor=people.alice)
        # The window moves to now (a person widened it): the next run starts the promotion.
        window.start, window.end = wall(minute(-5)), wall(minute(55))
        window.save()
        QueuedPromotion.objects.filter(pk=item.pk).update(not_before=minute(-1))
        assert queue_start(item_id=item.pk) == QueueStatus.STARTED
        assert queue_start(item_id=item.pk) == ""
        item.refresh_from_db()
        assert item.status == QueueStatus.STARTED and item.deployment is not None
        assert (
            Deployment.objects.filter(release=staged, environment=envs["production"]).count() == 1
        )
        event = AuditEvent.objects.get(action="calendar.queue_started")
        assert event.actor_id is None  # Shipcheck itself started it

    def test_queue__another_gate_closed_at_start__fails_loudly(
        self, staged, envs, people, window_later
    ):
        window = window_later(120)
        item = queue_add(release=staged, environment=envs["production"], actor=people.alice)
        window.start, window.end = wall(minute(-5)), wall(minute(55))
        window.save()
        staged.rollback_plan = ""
        staged.save(update_fields=["rollback_plan"])
        QueuedPromotion.objects.filter(pk=item.pk).update(not_before=minute(-1))
        assert queue_start(item_id=item.pk) == QueueStatus.FAILED
        item.refresh_from_db()
        assert "rollback plan" in item.outcome
        assert AuditEvent.objects.filter(action="calendar.queue_failed").count() == 1

    def test_queue__new_freeze_at_start__waits_again(self, staged, envs, people, window_later):
        window = window_later(120)
        item = queue_add(release=staged, environment=envs["production"], actor=people.alice)
        window.start, window.end = wall(minute(-5)), wall(minute(300))
        window.save()
        freeze_create(
            environment=envs["production"],
            actor=people.alice,
            name="Incident freeze",
            start=wall(minute(-2)),
            end=wall(minute(30)),
            time_zone="UTC",
        )
        QueuedPromotion.objects.filter(pk=item.pk).update(not_before=minute(-1))
        assert queue_start(item_id=item.pk) == QueueStatus.WAITING
        item.refresh_from_db()
        assert item.not_before == minute(30)

    def test_queue__refused_when_another_gate_is_closed_or_all_open(
        self, release, envs, people, gates_only, window_later
    ):
        gates_only("deploycalendar")
        window_later(120)
        with pytest.raises(Conflict, match="Only a promotion held back by time"):
            queue_add(release=release, environment=envs["production"], actor=people.alice)
        with pytest.raises(Conflict, match="Every gate is open"):
            queue_add(release=release, environment=envs["dev"], actor=people.alice)

    def test_cancel_by_a_person(self, staged, envs, people, window_later):
        window_later(120)
        item = queue_add(release=staged, environment=envs["production"], actor=people.alice)
        with pytest.raises(Conflict, match="already queued"):
            queue_add(release=staged, environment=envs["production"], actor=people.bob)
        with pytest.raises(PermissionDenied):
            queue_cancel(item=item, actor=people.quinn)
        queue_cancel(item=item, actor=people.bob)
        item.refresh_from_db()
        assert item.status == QueueStatus.CANCELLED and item.cancelled_by == people.bob
        QueuedPromotion.objects.filter(pk=item.pk).update(not_before=minute(-1))
        assert queue_start(item_id=item.pk) == ""
        with pytest.raises(Conflict):
            queue_cancel(item=item, actor=people.bob)


REAL_WORKER = bool(os.environ.get("REDIS_URL")) and connection.vendor == "postgresql"


@pytest.mark.django_db(transaction=True)
@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")
def test_queued_promotion__two_real_workers__starts_once_when_the_window_opens(
    release, envs, people, tmp_path
):
    # Into dev, the first environment, so the worker (which evaluates every app's gates) finds
    # only the window closed; the rest of the product's gates are other tests' concern.
    staged = release
    if not REAL_WORKER:
        # .ci/run runs the suite on SQLite and then on PostgreSQL + Redis: the PostgreSQL run
        # must run it, the SQLite one skips it (as every PostgreSQL-only test does).
        if os.environ.get("CI") == "true" and os.environ.get("DATABASE_URL"):
            pytest.fail("CI must run this with PostgreSQL and Redis (DATABASE_URL, REDIS_URL).")
        pytest.skip("LOUD: needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL) for real workers")
    from django.utils import timezone

    from config.celery import app
    from tests.monitoring.test_worker import WorkerProcess

    opens = (timezone.now() + timedelta(seconds=4)).replace(microsecond=0)
    window_create(
        environment=envs["dev"],
        actor=people.alice,
        name="Short window",
        start=opens.strftime("%Y-%m-%dT%H:%M:%S"),
        end=(opens + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%S"),
        time_zone="UTC",
    )
    item = queue_add(release=staged, environment=envs["dev"], actor=people.alice)
    assert item.not_before == opens
    queue = f"calendar-test-{uuid.uuid4().hex[:10]}"
    workers = [WorkerProcess(queue, tmp_path / str(i)) for i in range(2)]
    stop = threading.Event()

    def beat():  # plays celery beat, fast, so both workers race for the same row
        while not stop.wait(0.05):
            app.send_task("deploycalendar.tasks.queue_run", queue=queue, expires=2.0)

    ticker = threading.Thread(target=beat, daemon=True)
    ticker.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            item.refresh_from_db()
            if item.status == QueueStatus.STARTED:
                break
            time.sleep(0.1)
        time.sleep(1.0)  # let the losing ticks run out
    finally:
        stop.set()
        ticker.join(timeout=5)
        for worker in workers:
            worker.kill()
    item.refresh_from_db()
    assert item.status == QueueStatus.STARTED, "".join(workers[0].output[-30:])
    assert Deployment.objects.filter(release=staged, environment=envs["dev"]).count() == 1
    assert AuditEvent.objects.filter(action="calendar.queue_started").count() == 1
    started = Deployment.objects.get(release=staged, environment=envs["dev"]).created_at
    assert started >= opens
