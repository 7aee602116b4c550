"""Tampering is found at the right sequence number by both verifiers.

``audit_verify`` walks the database; ``python -m audit.offline_verify`` walks
an export. Each case: an edited, a deleted, a reordered row and a cut-off tail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from audit.checkpoints import audit_checkpoint_take
from audit.models import AuditEvent
from audit.offline_verify import EXIT_BROKEN, EXIT_OK, EXIT_UNANCHORED
from audit.selectors import audit_chain_check
from releases.services import release_update
from tests.audit.conftest import event_index, export_bytes, join, key, lines_of, offline, tamper_sql

ROOT = Path(__file__).resolve().parents[2]


def _payments_seqs(project) -> list[int]:
    return list(
        AuditEvent.objects.filter(project_id=project.pk)
        .order_by("seq")
        .values_list("seq", flat=True)
    )


def _swap_rows(a: int, b: int) -> None:
    tamper_sql("UPDATE audit_auditevent SET seq = -1 WHERE seq = %s", [a])
    tamper_sql("UPDATE audit_auditevent SET seq = %s WHERE seq = %s", [a, b])
    tamper_sql("UPDATE audit_auditevent SET seq = %s WHERE seq = -1", [b])


# --- The database verifier (manage.py audit_verify) ---------------------------------------


def test_audit_verify__intact_trail_with_checkpoint__passes(trail, capsys):
    call_command("audit_verify")
    out = capsys.readouterr().out
    assert "Audit chain intact" in out
    assert "held to 3 signed checkpoints" in out  # the chain and both projects


def test_audit_verify__edited_row__names_its_seq(trail):
    tamper_sql("UPDATE audit_auditevent SET reason = %s WHERE seq = %s", ["nothing happened", 4])
    with pytest.raises(CommandError, match=r"sequence number 4\b.*edited"):
        call_command("audit_verify")


def test_audit_verify__deleted_row__names_its_seq(trail):
    tamper_sql("DELETE FROM audit_auditevent WHERE seq = %s", [5])
    with pytest.raises(CommandError, match=r"sequence number 5\b"):
        call_command("audit_verify")


def test_audit_verify__reordered_rows__names_the_first(trail):
    _swap_rows(6, 7)
    report = audit_chain_check()
    assert report.broken.seq == 6


def test_audit_verify__truncated_tail__is_caught_by_the_checkpoint(trail):
    head = AuditEvent.objects.order_by("-seq").first().seq
    tamper_sql("DELETE FROM audit_auditevent WHERE seq > %s", [head - 3])
    report = audit_chain_check()
    assert report.broken.seq == head - 2
    assert "cut off" in report.broken.problem


def test_audit_verify__rewritten_chain_after_checkpoint__is_caught(trail, project):
    """Someone edits a row and recomputes every hash after it: the edited row's MAC names it."""
    from audit.chain import compute_hash, compute_project_hash
    from audit.selectors import audit_event_dicts

    events = list(audit_event_dicts())
    events[2]["reason"] = "rewritten"
    prev = events[1]["hash"]
    for event in events[2:]:
        event["prev_hash"] = prev
        event["hash"] = compute_hash(event)
        prev = event["hash"]
        tamper_sql(
            "UPDATE audit_auditevent SET reason = %s, prev_hash = %s, hash = %s WHERE seq = %s",
            [event["reason"], event["prev_hash"], event["hash"], event["seq"]],
        )
    # The project links too, so only the MAC (and the checkpoint) is left to tell.
    heads = {}
    for row in AuditEvent.objects.exclude(project_id=None).order_by("seq"):
        position, link = heads.get(row.project_id, (0, "0" * 64))
        new = compute_project_hash(link, position + 1, row.hash)
        tamper_sql(
            "UPDATE audit_auditevent SET project_prev_hash = %s, project_hash = %s WHERE seq = %s",
            [link, new, row.seq],
        )
        heads[row.project_id] = (position + 1, new)
    report = audit_chain_check()
    assert report.broken is not None
    assert report.broken.seq == events[2]["seq"]
    assert "MAC" in report.broken.problem


def _forge_checkpoint(*, ed25519_signature: str) -> None:
    """A checkpoint row written into the table by someone with an HMAC key of their own guess."""
    from django.utils import timezone

    from audit.chain import key_id, statement_sign
    from audit.models import AuditCheckpoint

    head = AuditEvent.objects.order_by("-seq").first()
    wrong = b"an attacker's guess at the key"
    forged = AuditCheckpoint(
        created_at=timezone.now(),
        project_id=None,
        seq=head.seq,
        hash=head.hash,
        key_id=key_id(wrong),
        public_key_id="0123456789abcdef" if ed25519_signature else "",
        ed25519_signature=ed25519_signature,
    )
    forged.signature = statement_sign(forged.statement(), wrong)
    forged.save()


def test_audit_verify__forged_checkpoint__is_refused(trail):
    release_update(release=trail["release"], actor=trail["release"].release_manager, title="After")
    _forge_checkpoint(ed25519_signature="")
    with pytest.raises(CommandError, match="another key"):
        call_command("audit_verify")


def test_audit_verify__forged_ed25519_checkpoint__is_refused(trail):
    release_update(release=trail["release"], actor=trail["release"].release_manager, title="After")
    _forge_checkpoint(ed25519_signature="ab" * 64)
    with pytest.raises(CommandError, match="Ed25519 signature does not verify"):
        call_command("audit_verify")


# --- The offline verifier: the whole chain (an operator's export) ---------------------------


def test_offline__full_export__verifies_and_is_anchored(trail, root, tmp_path):
    result = offline(tmp_path, export_bytes(root))
    assert result.status == EXIT_OK, result.as_dict()
    assert result.mode == "all"
    assert result.rows == AuditEvent.objects.count()


@pytest.mark.parametrize(
    "case, seq, expected",
    [
        ("edit", 4, 4),
        ("delete", 5, 5),
        ("reorder", 6, 6),
        ("truncate", 7, 8),
    ],
)
def test_offline__full_export__tampering__found_at_seq(trail, root, tmp_path, case, seq, expected):
    lines = lines_of(export_bytes(root))
    i = event_index(lines, seq)
    if case == "edit":
        event = json.loads(lines[i])
        event["to_state"] = "approved"
        lines[i] = json.dumps(event).encode()
    elif case == "delete":
        del lines[i]
    elif case == "reorder":
        lines[i], lines[i + 1] = lines[i + 1], lines[i]
    else:  # the file is cut after seq 7, end line and all
        lines = lines[: i + 1]
    result = offline(tmp_path, join(lines))
    assert result.status == EXIT_BROKEN, result.as_dict()
    assert result.broken.seq == expected, result.as_dict()


def test_offline__truncated_tail_in_database__export_is_caught(trail, root, tmp_path):
    head = AuditEvent.objects.order_by("-seq").first().seq
    tamper_sql("DELETE FROM audit_auditevent WHERE seq > %s", [head - 2])
    result = offline(tmp_path, export_bytes(root))
    assert result.status == EXIT_BROKEN
    assert result.broken.seq == head - 1


def test_offline__tail_cut_and_end_line_rewritten__caught_by_checkpoint(trail, root, tmp_path):
    lines = lines_of(export_bytes(root))
    end = json.loads(lines[-1])
    kept = lines[:-3]  # drop two events and the end line
    last = json.loads(kept[-1])
    end.update(rows=len(kept) - 1, last_seq=last["seq"])
    result = offline(tmp_path, join([*kept, json.dumps(end).encode()]), with_key=False)
    assert result.status == EXIT_BROKEN
    assert result.broken.seq == last["seq"] + 1


def test_offline__edited_header__caught_by_seal(trail, root, tmp_path):
    lines = lines_of(export_bytes(root))
    header = json.loads(lines[0])
    header["checkpoints"] = []
    lines[0] = json.dumps(header).encode()
    result = offline(tmp_path, join(lines))
    assert result.status == EXIT_BROKEN
    assert "header" in result.broken.problem


def test_offline__forged_checkpoint__is_refused(trail, root, tmp_path):
    lines = lines_of(export_bytes(root))
    header = json.loads(lines[0])
    header["checkpoints"][0]["seq"] -= 1
    lines[0] = json.dumps(header).encode()
    result = offline(tmp_path, join(lines))
    assert result.status == EXIT_BROKEN
    assert "signature" in result.broken.problem


def test_offline__without_key__intact_but_unanchored(trail, root, tmp_path):
    result = offline(tmp_path, export_bytes(root), with_key=False)
    assert result.status == EXIT_UNANCHORED
    assert any("no key" in note for note in result.notes)


# --- The offline verifier: one project (what an auditor may export) ---------------------------


def test_offline__project_export__verifies(trail, people, project, tmp_path):
    data = export_bytes(people.aud, {"project": "payments"})
    result = offline(tmp_path, data)
    assert result.status == EXIT_OK, result.as_dict()
    assert result.mode == "project"
    assert result.rows == len(_payments_seqs(project))


@pytest.mark.parametrize("case", ["edit", "delete", "reorder", "truncate"])
def test_offline__project_export__tampering__found_at_seq(trail, people, project, tmp_path, case):
    seqs = _payments_seqs(project)
    target = seqs[3]
    lines = lines_of(export_bytes(people.aud, {"project": "payments"}))
    i = event_index(lines, target)
    if case == "edit":
        event = json.loads(lines[i])
        event["actor_label"] = "somebody else"
        lines[i] = json.dumps(event).encode()
        expected = target
    elif case == "delete":
        del lines[i]
        expected = seqs[4]  # the row after the gap is the first that no longer links
    elif case == "reorder":
        lines[i], lines[i + 1] = lines[i + 1], lines[i]
        expected = seqs[4]  # the first row out of place
    else:
        lines = lines[: i + 1]
        expected = seqs[-1]  # the event the project's signed checkpoint vouches for
    result = offline(tmp_path, join(lines), with_key=False)
    assert result.status == EXIT_BROKEN, result.as_dict()
    assert result.broken.seq == expected, result.as_dict()


def test_offline__project_export_with_date_range__links_to_the_event_before(
    trail, people, project, tmp_path
):
    from audit.models import format_timestamp

    seqs = _payments_seqs(project)
    start = AuditEvent.objects.get(seq=seqs[2]).created_at
    data = export_bytes(people.aud, {"project": "payments", "from": format_timestamp(start)})
    result = offline(tmp_path, data)
    assert result.status == EXIT_OK, result.as_dict()
    assert result.rows == len(seqs) - 2
    # Deleting the first row of the range is noticed through the anchor in the header.
    lines = lines_of(data)
    del lines[1]
    assert offline(tmp_path, join(lines), with_key=False).broken.seq == seqs[3]


def test_offline__selection__checks_rows_and_seal(trail, people, tmp_path):
    data = export_bytes(people.aud, {"action": "release.updated"})
    result = offline(tmp_path, data)
    assert result.status == EXIT_OK, result.as_dict()
    assert result.mode == "selection"
    lines = lines_of(data)
    del lines[2]
    result = offline(tmp_path, join(lines))
    assert result.status == EXIT_BROKEN  # the seal counts the rows


# --- The command line ------------------------------------------------------------------------


def test_offline_cli__runs_without_django_and_reports(trail, root, tmp_path):
    path = tmp_path / "trail.jsonl"
    lines = lines_of(export_bytes(root))
    path.write_bytes(join(lines))
    env = {
        "PATH": os.environ.get("PATH", ""),
        "SHIPCHECK_AUDIT_SIGNING_KEY": key().decode(),
        "PYTHONPATH": str(ROOT),
    }
    ok = subprocess.run(
        [sys.executable, "-m", "audit.offline_verify", str(path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "VERIFIED" in ok.stdout
    del lines[event_index(lines, 3)]
    path.write_bytes(join(lines))
    broken = subprocess.run(
        [sys.executable, "-m", "audit.offline_verify", str(path), "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert broken.returncode == 1
    assert json.loads(broken.stdout)["broken_at_seq"] == 3
    imports = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, audit.offline_verify; print(sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('django', 'config', 'projects', 'releases')))",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=True,
    )
    assert imports.stdout.strip() == "[]"


# --- The PostgreSQL fast path ------------------------------------------------------------------


def test_audit_verify__control_characters_and_unicode__verify(release, people):
    from django.db import transaction

    from audit.services import audit_record

    awkward = 'tab\there, bell\x07, del\x7f, line\u2028sep, quote " and back\\slash, emoji 🚀, é'
    with transaction.atomic():
        audit_record(
            actor=people.alice,
            action="release.noted",
            obj=release,
            project=release.project_id,
            release=release,
            reason=awkward,
            object_repr=awkward,
            data={"k\x01": awkward, "n": [1.5, 2]},
        )
    report = audit_chain_check()
    assert report.broken is None, report.broken


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="parallel verification runs on PostgreSQL"
)
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "case, seq", [("intact", None), ("edit", 5), ("delete", 8), ("seam", 9), ("project link", 11)]
)
def test_audit_verify__parallel_stretches__find_the_same_break(trail, case, seq):
    """Three processes walk three stretches; a break anywhere, at a seam too, is found where one walk finds it."""
    head = AuditEvent.objects.order_by("-seq").first().seq
    if case == "edit":
        tamper_sql("UPDATE audit_auditevent SET reason = %s WHERE seq = %s", ["changed", seq])
    elif case == "delete":
        tamper_sql("DELETE FROM audit_auditevent WHERE seq = %s", [seq])
    elif case == "seam":  # the first row of the second stretch no longer links back
        seq = -(-head // 3) + 1
        tamper_sql("UPDATE audit_auditevent SET prev_hash = %s WHERE seq = %s", ["0" * 64, seq])
    elif case == "project link":
        row = (
            AuditEvent.objects.filter(seq__gte=seq)
            .exclude(project_seq=None)
            .order_by("seq")
            .first()
        )
        seq = row.seq
        tamper_sql(
            "UPDATE audit_auditevent SET project_prev_hash = %s WHERE seq = %s", ["1" * 64, seq]
        )
    single = audit_chain_check(workers=1)
    parallel = audit_chain_check(workers=3)
    assert (parallel.broken.seq if parallel.broken else None) == (
        single.broken.seq if single.broken else None
    )
    assert (parallel.broken.seq if parallel.broken else None) == seq
    assert parallel.count == single.count


@pytest.mark.django_db(transaction=True)
def test_checkpoints__are_append_only_like_events(release, audit_guard_on):
    from django.db import DatabaseError, transaction

    from audit.models import AuditCheckpoint

    audit_checkpoint_take()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditCheckpoint.objects.update(hash="0" * 64)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditCheckpoint.objects.all().delete()
    assert AuditCheckpoint.objects.count() == 2
