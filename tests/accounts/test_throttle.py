"""Failed sign-ins are limited per account and per address, with a lock-out and an audit event."""

from __future__ import annotations

import pytest
from django.test import Client

from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _try(password: str, username: str = "alice", address: str = "10.0.0.1"):
    return Client(REMOTE_ADDR=address).post("/login/", {"username": username, "password": password})


def test_account__locked_after_max_failures__even_right_password(settings, people):
    settings.SHIPCHECK_LOGIN_MAX_FAILURES = 3
    for _ in range(2):
        assert "correct username and password" in _try("wrong").content.decode()
    locked = _try("wrong")
    assert locked.status_code == 200
    assert "Too many failed sign-ins" in locked.content.decode()
    # From another address, with the right password: still locked.
    right = _try("pass", address="10.0.0.2")
    assert right.status_code == 200 and "Too many failed sign-ins" in right.content.decode()
    event = AuditEvent.objects.get(action="auth.locked_out")
    assert event.data["username"] == "alice" and event.data["locked"] == ["account"]
    assert event.object_id == str(people.alice.pk)
    # Other people are not affected.
    assert _try("pass", username="bob", address="10.0.0.3").status_code == 302


def test_address__locked_after_max_failures_across_accounts(settings, people):
    settings.SHIPCHECK_LOGIN_MAX_FAILURES_PER_ADDRESS = 4
    for name in ("alice", "bob", "quinn", "pat"):
        _try("wrong", username=name, address="10.9.9.9")
    blocked = _try("pass", username="ada", address="10.9.9.9")
    assert "Too many failed sign-ins" in blocked.content.decode()
    event = AuditEvent.objects.get(action="auth.locked_out")
    assert "address" in event.data["locked"] and event.data["address"] == "10.9.9.9"
    assert _try("pass", username="ada", address="10.9.9.10").status_code == 302


def test_lockout__ends_after_the_window(settings, people):
    settings.SHIPCHECK_LOGIN_MAX_FAILURES = 1
    settings.SHIPCHECK_LOGIN_LOCKOUT_SECONDS = 1
    _try("wrong")
    assert "Too many failed sign-ins" in _try("pass").content.decode()
    import time

    time.sleep(1.2)
    assert _try("pass").status_code == 302


def test_success__clears_the_account_count(settings, people):
    settings.SHIPCHECK_LOGIN_MAX_FAILURES = 3
    _try("wrong")
    _try("wrong")
    assert _try("pass").status_code == 302
    _try("wrong")
    _try("wrong")
    assert _try("pass").status_code == 302
    assert not AuditEvent.objects.filter(action="auth.locked_out").exists()
