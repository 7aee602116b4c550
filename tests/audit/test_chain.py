import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from audit.models import AuditEvent
from audit.selectors import audit_chain_verify
from releases.services import release_update


def test_chain__verifies_after_changes(release, people):
    release_update(release=release, actor=people.alice, title="Quicker checkout")
    count, broken = audit_chain_verify()
    assert broken is None
    assert count == AuditEvent.objects.count() >= 2
    seqs = list(AuditEvent.objects.values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))


@pytest.mark.django_db(transaction=True)
def test_triggers__refuse_update_and_delete(release, audit_guard_on):
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(seq=1).update(reason="rewritten")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(seq=1).delete()
    assert AuditEvent.objects.get(seq=1).reason == ""


def _tamper(sql, params):
    """Alter the table behind the triggers' back, as an attacker with DB access would."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
            cursor.execute(sql, params)
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")
        else:
            cursor.execute(sql, params)


def test_audit_verify__names_the_altered_sequence_number(release, people):
    release_update(release=release, actor=people.alice, title="Quicker checkout")
    call_command("audit_verify")
    _tamper("UPDATE audit_auditevent SET reason = %s WHERE seq = %s", ["nothing to see", 2])
    with pytest.raises(CommandError, match="sequence number 2"):
        call_command("audit_verify")


def test_audit_verify__detects_deleted_row(release, people):
    release_update(release=release, actor=people.alice, title="A")
    release_update(release=release, actor=people.alice, title="B")
    _tamper("DELETE FROM audit_auditevent WHERE seq = %s", [2])
    count, broken = audit_chain_verify()
    assert broken.seq == 2
    assert count == 1


def test_chain__awkward_numbers_in_data__verify_as_the_database_returns_them(release, people):
    """jsonb returns 1e+16 as 10000000000000000: the hash must be of what is read back."""
    from audit.services import audit_record

    numbers = {
        "big": 1e16,
        "bigger": 1e23,
        "fraction": 1.5e16,
        "small": 1.5e-05,
        "plain": 0.1,
        "whole": 3.0,
        "negative": -2e20,
        "huge_int": 10**30,
    }
    with transaction.atomic():
        event = audit_record(
            actor=people.alice,
            action="test.numbers",
            release=release,
            project=release.project,
            data=numbers,
        )

    stored = AuditEvent.objects.get(pk=event.pk).data
    assert (
        stored["big"] == 10**16
        and stored["bigger"] == 10**23
        and stored["negative"] == -(2 * 10**20)
    )
    assert stored["small"] == 1.5e-05 and stored["plain"] == 0.1 and stored["whole"] == 3.0
    count, broken = audit_chain_verify()
    assert broken is None
    assert count == AuditEvent.objects.count()
