"""``manage.py audit_verify --workers``: how many processes walk the chain."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from audit.models import AuditEvent
from tests.audit.conftest import tamper_sql


@pytest.mark.parametrize("workers", ["0", "-1", "33"])
def test_audit_verify__workers_out_of_range__clear_message(trail, workers):
    with pytest.raises(CommandError, match="from 1 to 32"):
        call_command("audit_verify", f"--workers={workers}")


def test_audit_verify__workers_not_a_number__refused(trail):
    with pytest.raises(CommandError, match="invalid int value"):
        call_command("audit_verify", "--workers=two")


@pytest.mark.django_db(transaction=True)
def test_audit_verify__several_workers__same_verdict(trail, capsys):
    call_command("audit_verify", "--workers=3")
    assert f"{AuditEvent.objects.count()} events verified" in capsys.readouterr().out
    tamper_sql("UPDATE audit_auditevent SET reason = %s WHERE seq = %s", ["changed", 6])
    with pytest.raises(
        CommandError, match=r"sequence number 6\b.*edited.*5 events verified before it"
    ):
        call_command("audit_verify", "--workers=3")


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="parallel verification runs on PostgreSQL"
)
@pytest.mark.django_db(transaction=True)
def test_audit_verify__several_workers_on_an_empty_trail__passes(capsys):
    call_command("audit_verify", "--workers=2")
    assert "0 events verified" in capsys.readouterr().out
