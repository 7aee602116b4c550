"""The Celery app for the beat-and-worker process the incident reminder test starts.

Same app and beat schedule as production; every task goes to the queue named by
``SHIPCHECK_TEST_QUEUE`` so that the test's process takes only its own work.
"""

import os

from config.celery import app

queue = os.environ.get("SHIPCHECK_TEST_QUEUE", "")
if queue:
    app.conf.task_default_queue = queue
    app.conf.task_create_missing_queues = True
    app.conf.task_routes = {"*": {"queue": queue}}

__all__ = ["app"]
