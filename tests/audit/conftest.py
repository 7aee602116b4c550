"""Fixtures for the audit tests: a trail across two projects, exports and tampering helpers."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection

from audit.checkpoints import audit_checkpoint_take
from audit.exports import ExportPlan, csv_stream, jsonl_stream
from audit.offline_verify import verify_file
from compliance.filters import audit_filters_parse
from releases.services import release_create, release_update


@pytest.fixture
def root(db):
    return get_user_model().objects.create_superuser("root", "root@example.com", "pass")


@pytest.fixture
def trail(release, people, project, other_project):
    """Events interleaved between two projects, with a checkpoint at the head."""
    other = release_create(
        project=other_project, version="9.0.0", title="Elsewhere", actor=people.olga
    )
    for n in range(4):
        release_update(release=release, actor=people.alice, title=f"Checkout, take {n}")
        release_update(release=other, actor=people.olga, title=f"Other, take {n}")
    audit_checkpoint_take()
    return {"release": release, "other": other}


def export_bytes(user, params=None, fmt="jsonl") -> bytes:
    plan = ExportPlan(audit_filters_parse(user, params or {}))
    stream = jsonl_stream(plan) if fmt == "jsonl" else csv_stream(plan)
    return b"".join(stream)


def key() -> bytes:
    return settings.SHIPCHECK_AUDIT_SIGNING_KEY.encode()


def offline(tmp_path, data: bytes, *, with_key=True):
    path = tmp_path / "export.jsonl"
    path.write_bytes(data)
    return verify_file(str(path), key() if with_key else None)


def lines_of(data: bytes) -> list[bytes]:
    return data.rstrip(b"\n").split(b"\n")


def join(lines: list[bytes]) -> bytes:
    return b"\n".join(lines) + b"\n"


def event_index(lines: list[bytes], seq: int) -> int:
    for index, line in enumerate(lines):
        if json.loads(line).get("seq") == seq:
            return index
    raise AssertionError(f"no line with seq {seq}")


def tamper_sql(sql: str, params=()) -> None:
    """Change the table behind the triggers' back, as someone with database access could."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
            cursor.execute(sql, params)
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")
        else:
            cursor.execute(sql, params)
