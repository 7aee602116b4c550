"""The overdue-update reminder driven by a real ``celery beat`` (embedded in a worker).

Needs PostgreSQL and Redis (``DATABASE_URL``, ``REDIS_URL``): the process shares the
test database. Outside CI the test skips loudly without them; in CI it fails.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from audit.models import AuditEvent
from core.models import Notification
from incidents.services import incident_open, status_update_post

pytestmark = [pytest.mark.django_db(transaction=True)]

REAL = bool(os.environ.get("REDIS_URL")) and connection.vendor == "postgresql"
BEAT_EVERY = 0.3


def _skip_or_fail() -> None:
    reason = "the real Celery beat test needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL)"
    # .ci/run's PostgreSQL + Redis run must run it; its SQLite run skips it.
    if os.environ.get("CI") == "true" and os.environ.get("DATABASE_URL"):
        pytest.fail(reason)
    pytest.skip("SKIPPED LOUDLY: " + reason)


class BeatWorker:
    def __init__(self, tmp_path):
        db = connection.settings_dict
        url = (
            f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        )
        queue = f"incidents-test-{uuid.uuid4().hex[:10]}"
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "SHIPCHECK_TEST_QUEUE": queue,
            "SHIPCHECK_INCIDENT_CHECK": str(BEAT_EVERY),
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "SHIPCHECK_VAR_DIR": str(tmp_path),
            "PYTHONUNBUFFERED": "1",
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tests.incidents.beat_app",
            "worker",
            "-B",
            "-s",
            str(tmp_path / "beat-schedule"),
            "-Q",
            queue,
            "-P",
            "solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "INFO",
            "-n",
            f"{queue}@%h",
        ]
        self.output: list[str] = []
        self.ready = threading.Event()
        self.process = subprocess.Popen(
            command,
            cwd=str(django_settings.BASE_DIR),
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        if not self.ready.wait(60):
            self.kill()
            raise AssertionError("The worker did not start:\n" + "".join(self.output[-40:]))

    def _read(self):
        for line in self.process.stdout:
            self.output.append(line)
            if " ready." in line:
                self.ready.set()

    def kill(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


def _wait(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def test_real_beat__reminds_the_commander_once_per_interval(project, people, tmp_path):
    if not REAL:
        _skip_or_fail()
    overdue = incident_open(
        actor=people.alice,
        project=project,
        title="Card payments fail",
        severity=1,
        started_at=timezone.now() - timedelta(minutes=40),
        detected_at=timezone.now() - timedelta(minutes=30),
    )
    fresh = incident_open(
        actor=people.alice,
        project=project,
        title="Slow refunds",
        severity=2,
        started_at=timezone.now() - timedelta(minutes=5),
    )
    status_update_post(actor=people.bob, incident=fresh, actions_taken="Looking.")
    worker = BeatWorker(tmp_path)
    try:
        reminders = Notification.objects.filter(
            recipient=people.alice, subject__startswith="Update overdue"
        )
        assert _wait(lambda: reminders.exists(), 20), "".join(worker.output[-30:])
        time.sleep(BEAT_EVERY * 6)  # several more beats: still one reminder this interval
        assert reminders.count() == 1
        assert "Card payments fail" in reminders.get().subject
        events = AuditEvent.objects.filter(action="incident.update_overdue")
        assert list(events.values_list("object_id", flat=True)) == [str(overdue.pk)]
    finally:
        worker.kill()
