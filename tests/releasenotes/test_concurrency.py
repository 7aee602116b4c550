"""Eight people press Publish at the same instant: one version, one audit event, one announcement.

Real threads on real PostgreSQL connections (SQLite serialises every writer and cannot show
the race), so this runs only when the suite runs on PostgreSQL.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from audit.models import AuditEvent
from releasenotes.models import NotesVersion
from releasenotes.services import notes_publish
from releases.models import Release
from tests.releasenotes.helpers import add_commits

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL (set DATABASE_URL)"
    ),
]

PUBLISHERS = 8


def test_publish__eight_at_once__make_one_version(release, people, published_events):
    add_commits(release, people.alice, "feat: search")
    start = threading.Barrier(PUBLISHERS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def publish():
        try:
            fresh = Release.objects.get(pk=release.pk)
            start.wait(timeout=30)
            result = (
                "created" if notes_publish(release=fresh, actor=people.alice).created else "repeat"
            )
        except Exception as exc:  # noqa: BLE001 - anything else is the bug this test looks for
            result = f"crashed: {type(exc).__name__}: {exc}"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=publish) for _ in range(PUBLISHERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["created"] + ["repeat"] * (PUBLISHERS - 1), outcomes
    assert NotesVersion.objects.filter(release=release).count() == 1
    assert AuditEvent.objects.filter(action="releasenotes.published").count() == 1
    assert len([e for e in published_events if e.key == "releasenotes.published"]) == 1
