"""The Celery app for worker processes started by the monitoring tests.

Same app as production, with one difference: every task goes to a queue named
by ``SHIPCHECK_TEST_QUEUE``, so a test's worker takes only that test's work
(tests run in parallel against one Redis) and still receives the tasks it
queues itself (the rollback hook call, baselines).
"""

import os

from config.celery import app

queue = os.environ.get("SHIPCHECK_TEST_QUEUE", "")
if queue:
    app.conf.task_default_queue = queue
    app.conf.task_create_missing_queues = True
    # The monitoring tasks normally go to the "monitoring" queue: here, to this test's own.
    app.conf.task_routes = {"monitoring.tasks.*": {"queue": queue}}

__all__ = ["app"]
