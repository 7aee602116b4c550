"""Celery's production settings: queues, limits, lost workers."""

from __future__ import annotations

import pytest

from config.celery import app


def _queue(task_name: str) -> str:
    return app.amqp.router.route({}, task_name)["queue"].name


@pytest.mark.parametrize(
    "task",
    [
        "monitoring.tasks.tick",
        "monitoring.tasks.baselines_take",
        "monitoring.tasks.hook_send",
        "monitoring.tasks.prechecks_refresh",
    ],
)
def test_monitoring_tasks__go_to_the_monitoring_queue(task):
    assert _queue(task) == "monitoring"


@pytest.mark.parametrize(
    "task",
    [
        "core.tasks.send_email",
        "core.tasks.heartbeat",
        "integrations.tasks.idempotency_keys_purge_task",
    ],
)
def test_other_tasks__go_to_the_default_queue(task):
    assert _queue(task) == "celery"


def test_tasks__have_time_limits_and_go_back_to_the_queue_when_their_worker_dies():
    assert app.conf.task_time_limit == 300
    assert 0 < app.conf.task_soft_time_limit < app.conf.task_time_limit
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True


def test_beat__sends_the_tick_to_the_monitoring_queue():
    from monitoring.tasks import schedule

    schedule(app)
    entry = app.conf.beat_schedule["monitoring-tick"]
    assert _queue(entry["task"]) == "monitoring"
