"""Twenty people press "promote" at the same instant: one deployment, one audit event.

Real threads on real PostgreSQL connections; SQLite serialises every writer and
cannot show the race, so this runs only when the suite runs on PostgreSQL.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from audit.models import AuditEvent
from audit.selectors import audit_chain_verify
from core.exceptions import DomainError
from releases.models import Deployment, Release
from releases.services import release_promote

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL (set DATABASE_URL)"
    ),
]

PROMOTERS = 20


def test_promote__twenty_at_once__yield_one_deployment_and_one_event(
    release, envs, people, gates_only
):
    gates_only()
    start = threading.Barrier(PROMOTERS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def promote():
        try:
            fresh = Release.objects.get(pk=release.pk)
            start.wait(timeout=30)
            release_promote(release=fresh, environment=envs["dev"], actor=people.bob)
            result = "deployed"
        except DomainError as exc:
            result = f"refused: {exc.code}"
        except Exception as exc:  # noqa: BLE001 - anything else is the bug this test looks for
            result = f"crashed: {type(exc).__name__}: {exc}"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=promote) for _ in range(PROMOTERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(outcomes) == PROMOTERS
    assert outcomes.count("deployed") == 1, outcomes
    assert set(outcomes) == {"deployed", "refused: gate_closed"}, outcomes
    assert Deployment.objects.count() == 1
    assert AuditEvent.objects.filter(action="deployment.started").count() == 1
    assert AuditEvent.objects.filter(action="release.status_changed").count() == 1
    count, broken = audit_chain_verify()
    assert broken is None, broken
    assert count == AuditEvent.objects.count()
