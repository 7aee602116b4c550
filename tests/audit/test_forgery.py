"""An attacker with database access but without the application's keys.

Each tamper case is done behind the triggers' back (on PostgreSQL a superuser
disables them) and must be named at the right sequence number by both
verifiers: ``audit_verify`` (one process, and in parallel on PostgreSQL) and
the offline verifier on an export taken after the tampering. Then: signed
checkpoints (Ed25519) published outside the database, and the purge path that
an ordinary role cannot open.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.db import DatabaseError, connection, transaction

from audit.chain import (
    GENESIS_HASH,
    compute_hash,
    compute_project_hash,
    ed25519_valid,
    public_key_id,
)
from audit.checkpoints import (
    PUBLISHED_FILE,
    AuditTampered,
    audit_checkpoint_take,
    public_key,
)
from audit.models import AuditCheckpoint, AuditEvent
from audit.offline_verify import EXIT_BROKEN, EXIT_OK, verify_file
from audit.selectors import audit_chain_check, audit_event_dicts
from releases.services import release_update
from tests.audit.conftest import export_bytes, key, tamper_sql

on_postgres = connection.vendor == "postgresql"


def _parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _rewrite_from(seq: int, **changes) -> None:
    """Change event ``seq`` and recompute every later hash and project link, as a careful forger would."""
    events = list(audit_event_dicts())
    index = next(i for i, e in enumerate(events) if e["seq"] == seq)
    events[index].update(changes)
    prev = events[index - 1]["hash"] if index else GENESIS_HASH
    for event in events[index:]:
        event["prev_hash"] = prev
        event["hash"] = compute_hash(event)
        prev = event["hash"]
        tamper_sql(
            "UPDATE audit_auditevent SET actor_label = %s, created_at = %s, prev_hash = %s,"
            " hash = %s WHERE seq = %s",
            [
                event["actor_label"],
                _parse_time(event["created_at"]),
                event["prev_hash"],
                event["hash"],
                event["seq"],
            ],
        )
    heads: dict = {}
    for row in AuditEvent.objects.exclude(project_id=None).order_by("seq"):
        position, link = heads.get(row.project_id, (0, GENESIS_HASH))
        new = compute_project_hash(link, position + 1, row.hash)
        tamper_sql(
            "UPDATE audit_auditevent SET project_prev_hash = %s, project_hash = %s WHERE seq = %s",
            [link, new, row.seq],
        )
        heads[row.project_id] = (position + 1, new)


def _forge_append(project) -> int:
    """Append an event with a correctly computed hash and project link, and a made-up MAC."""
    head = AuditEvent.objects.order_by("-seq").first()
    project_head = AuditEvent.objects.filter(project_id=project.pk).order_by("-seq").first()
    fields = {
        "seq": head.seq + 1,
        "created_at": "2030-01-01T00:00:00.000000Z",
        "actor_kind": "user",
        "actor_id": 1,
        "actor_label": "alice",
        "action": "approval.approved",
        "object_type": "approvals.approval",
        "object_id": "999",
        "object_repr": "production approval",
        "project_id": project.pk,
        "release_id": None,
        "from_state": "",
        "to_state": "approved",
        "reason": "looks good",
        "data": {},
        "prev_hash": head.hash,
    }
    event_hash = compute_hash(fields)
    project_seq = project_head.project_seq + 1
    project_hash = compute_project_hash(project_head.project_hash, project_seq, event_hash)
    tamper_sql(
        "INSERT INTO audit_auditevent (seq, created_at, actor_kind, actor_id, actor_label, action,"
        " object_type, object_id, object_repr, project_id, release_id, from_state, to_state,"
        " reason, data, prev_hash, hash, project_seq, project_prev_hash, project_hash, mac, data_text)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        [
            fields["seq"],
            _parse_time(fields["created_at"]),
            "user",
            1,
            "alice",
            fields["action"],
            fields["object_type"],
            "999",
            fields["object_repr"],
            project.pk,
            None,
            "",
            "approved",
            "looks good",
            "{}",
            head.hash,
            event_hash,
            project_seq,
            project_head.project_hash,
            project_hash,
            "f" * 64,
            "{}",
        ],
    )
    return fields["seq"]


def _tamper(case: str, project) -> int:
    """Do one tamper case; return the sequence number both verifiers must name."""
    head = AuditEvent.objects.order_by("-seq").first().seq
    if case == "edit":
        tamper_sql("UPDATE audit_auditevent SET reason = %s WHERE seq = %s", ["nothing", 5])
        return 5
    if case == "delete":
        tamper_sql("DELETE FROM audit_auditevent WHERE seq = %s", [6])
        return 6
    if case == "reorder":
        tamper_sql("UPDATE audit_auditevent SET seq = -1 WHERE seq = %s", [7])
        tamper_sql("UPDATE audit_auditevent SET seq = 7 WHERE seq = %s", [8])
        tamper_sql("UPDATE audit_auditevent SET seq = 8 WHERE seq = -1")
        return 7
    if case == "truncated tail":
        tamper_sql("DELETE FROM audit_auditevent WHERE seq >= %s", [head - 1])
        return head - 1
    if case == "forged append":
        return _forge_append(project)
    if case == "edited actor":
        _rewrite_from(4, actor_label="emma")
        return 4
    if case == "edited time":
        event = next(e for e in audit_event_dicts() if e["seq"] == 9)
        earlier = _parse_time(event["created_at"]) - timedelta(days=2)
        _rewrite_from(9, created_at=earlier.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
        return 9
    raise AssertionError(case)


CASES = [
    "edit",
    "delete",
    "reorder",
    "truncated tail",
    "forged append",
    "edited actor",
    "edited time",
]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("case", CASES)
def test_tampering__is_named_at_its_seq_by_both_verifiers(case, trail, project, root, tmp_path):
    expected = _tamper(case, project)

    report = audit_chain_check(workers=1)
    assert report.broken is not None and report.broken.seq == expected, report.broken
    if on_postgres:
        parallel = audit_chain_check(workers=2)
        assert parallel.broken is not None and parallel.broken.seq == expected, parallel.broken

    path = tmp_path / "export.jsonl"
    path.write_bytes(export_bytes(root))
    result = verify_file(str(path), key(), public_key=public_key())
    assert result.status == EXIT_BROKEN, result.as_dict()
    assert result.broken.seq == expected, result.as_dict()


@pytest.mark.django_db(transaction=True)
def test_forged_append__names_the_mac_and_is_never_signed(trail, project):
    forged = _forge_append(project)
    report = audit_chain_check()
    assert report.broken.seq == forged
    assert "MAC" in report.broken.problem
    before = AuditCheckpoint.objects.count()
    with pytest.raises(AuditTampered, match=f"sequence number {forged}"):
        audit_checkpoint_take()
    assert AuditCheckpoint.objects.count() == before


def test_checkpoints__ed25519_signed__verify_with_the_public_key_only(trail):
    statements = [c.statement() for c in AuditCheckpoint.objects.all()]
    assert statements and all(s["format"] == 2 for s in statements)
    raw = public_key()
    for statement in statements:
        assert statement["public_key_id"] == public_key_id(raw)
        assert statement["head_hash"] == statement["hash"]
        assert ed25519_valid(statement, raw)
        altered = dict(statement, seq=statement["seq"] + 1)
        assert not ed25519_valid(altered, raw)


def test_offline__public_key_without_the_hmac_key__verifies_what_checkpoints_vouch_for(
    trail, root, tmp_path
):
    path = tmp_path / "export.jsonl"
    path.write_bytes(export_bytes(root))
    result = verify_file(str(path), None, public_key=public_key())
    assert result.status == EXIT_OK, result.as_dict()
    assert any("Ed25519" in note for note in result.notes)


class _Collector(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Collector.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_checkpoints__published_to_a_file_and_a_webhook(
    trail, settings, tmp_path, django_capture_on_commit_callbacks
):
    server = HTTPServer(("127.0.0.1", 0), _Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Collector.received = []
    settings.SHIPCHECK_AUDIT_CHECKPOINT_DIR = str(tmp_path / "published")
    settings.SHIPCHECK_AUDIT_CHECKPOINT_WEBHOOK = f"http://127.0.0.1:{server.server_port}/hook"
    try:
        release_update(release=trail["release"], actor=trail["release"].release_manager, title="X")
        with django_capture_on_commit_callbacks(execute=True):
            taken = audit_checkpoint_take()
    finally:
        server.shutdown()
    lines = (tmp_path / "published" / PUBLISHED_FILE).read_text().splitlines()
    published = [json.loads(line) for line in lines]
    assert [s["seq"] for s in published] == [c.seq for c in taken]
    assert all(ed25519_valid(s, public_key()) for s in published)
    assert _Collector.received[0]["checkpoints"] == published


@pytest.mark.django_db(transaction=True)
def test_tail_cut_with_its_checkpoints__is_caught_by_the_published_copy(
    trail, project, root, settings, tmp_path
):
    """The database deletes its newest events and the checkpoints that vouch for them."""
    settings.SHIPCHECK_AUDIT_CHECKPOINT_DIR = str(tmp_path)
    release_update(release=trail["release"], actor=trail["release"].release_manager, title="Y")
    audit_checkpoint_take()  # committed: published on commit
    head = AuditEvent.objects.order_by("-seq").first().seq
    tamper_sql("DELETE FROM audit_auditevent WHERE seq = %s", [head])
    with connection.cursor() as cursor:
        if on_postgres:
            cursor.execute("ALTER TABLE audit_auditcheckpoint DISABLE TRIGGER USER")
        cursor.execute("DELETE FROM audit_auditcheckpoint WHERE seq >= %s", [head])
        if on_postgres:
            cursor.execute("ALTER TABLE audit_auditcheckpoint ENABLE TRIGGER USER")
    settings.SHIPCHECK_AUDIT_CHECKPOINT_DIR = ""
    assert audit_chain_check().broken is None  # the database alone cannot tell
    report = audit_chain_check(published=str(tmp_path / PUBLISHED_FILE))
    assert report.broken is not None and report.broken.seq == head

    path = tmp_path / "export.jsonl"
    path.write_bytes(export_bytes(root))
    published = [json.loads(line) for line in (tmp_path / PUBLISHED_FILE).read_text().splitlines()]
    result = verify_file(str(path), key(), public_key=public_key(), published=published)
    assert result.status == EXIT_BROKEN and result.broken.seq == head, result.as_dict()


# --- The purge path (PostgreSQL) -------------------------------------------------------------


@pytest.mark.skipif(not on_postgres, reason="database roles are PostgreSQL's")
def test_purge_path__an_ordinary_role_cannot_update_or_delete_events(release):
    """A role with every ordinary grant on the table, and the purge setting on, is still refused."""
    role = f"shipcheck_test_writer_{connection.settings_dict['NAME']}"[:60]
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE ROLE "{role}" NOLOGIN')
        cursor.execute(
            f'GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON audit_auditevent TO "{role}"'
        )
        cursor.execute(f'SET ROLE "{role}"')
        cursor.execute("SET shipcheck.audit_purge = 'on'")
        try:
            for statement in (
                "UPDATE audit_auditevent SET reason = 'rewritten' WHERE seq = 1",
                "DELETE FROM audit_auditevent WHERE seq = 1",
                "TRUNCATE audit_auditevent",
                'GRANT shipcheck_audit_purger TO "' + role + '"',
            ):
                with pytest.raises(DatabaseError), transaction.atomic():
                    cursor.execute(statement)
        finally:
            cursor.execute("RESET ROLE")
        assert AuditEvent.objects.get(seq=1).reason == ""
        # Granted the purger role by someone who may, the same session gets through.
        cursor.execute(f'GRANT shipcheck_audit_purger TO "{role}"')
        cursor.execute(f'SET ROLE "{role}"')
        try:
            with transaction.atomic():
                cursor.execute("UPDATE audit_auditevent SET reason = 'purged' WHERE seq = 1")
        finally:
            cursor.execute("RESET ROLE")
        assert AuditEvent.objects.get(seq=1).reason == "purged"
