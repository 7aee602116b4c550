"""Ten browsers accept the same invitation link at the same instant: it works once.

Real threads on real PostgreSQL connections; SQLite serialises every writer and
cannot show the race, so this runs only when the suite runs on PostgreSQL.
"""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from accounts.services import invitation_accept, invitation_create
from audit.models import AuditEvent
from core.exceptions import DomainError
from projects.models import Membership

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL (set DATABASE_URL)"
    ),
]

BROWSERS = 10


def test_accept__ten_at_once__one_account_one_acceptance(people, project):
    _, secret = invitation_create(
        project=project, email="race@example.com", roles=["qa"], actor=people.adam
    )
    start = threading.Barrier(BROWSERS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def accept(n: int):
        try:
            start.wait(timeout=30)
            invitation_accept(
                token=secret,
                username=f"racer{n}",
                password="a-long-password-1",
                password_again="a-long-password-1",
            )
            result = "accepted"
        except DomainError as exc:
            result = f"refused: {exc.code}"
        except Exception as exc:  # noqa: BLE001 - anything else is the bug this test looks for
            result = f"crashed: {type(exc).__name__}: {exc}"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=accept, args=(n,)) for n in range(BROWSERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert outcomes.count("accepted") == 1, outcomes
    assert set(outcomes) == {"accepted", "refused: invitation_accepted"}, outcomes
    assert get_user_model().objects.filter(username__startswith="racer").count() == 1
    assert Membership.objects.filter(user__username__startswith="racer").count() == 1
    assert AuditEvent.objects.filter(action="invitation.accepted").count() == 1
