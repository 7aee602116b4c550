"""The fast canonical spelling of verification is byte for byte the reference spelling.

``compute_hash`` (json.dumps of a dict, keys sorted) is the reference: it is
what ``audit_record`` hashes. Verification spells the same JSON by hand for
speed (``audit.chain._walk_rows`` and ``row_payload``), and on PostgreSQL
from the database's own text of timestamps and JSON. Each test builds events
with awkward values, hashes them the reference way, and requires the fast
path to accept exactly those hashes (SHA-256 of two spellings match only if
the bytes do) and to refuse any change, at the right sequence number.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import connection, transaction

from audit.chain import (
    GENESIS_HASH,
    HASHED_FIELDS,
    ROW_FIELDS,
    Walk,
    canonical_json,
    compute_hash,
    compute_project_hash,
    row_hash,
    row_payload,
    verify_rows,
)
from audit.models import AuditEvent, format_timestamp
from audit.selectors import audit_chain_check
from tests.audit.conftest import tamper_sql

AWKWARD_TEXTS = [
    "",
    "plain",
    'a "quoted" word',
    "back\\slash and \\\\ two",
    "new\nline, carriage\rreturn, tab\t",
    "all the controls: " + "".join(chr(c) for c in range(1, 32)),
    "del \x7f and C1 \x85 \x9f",
    "line separators \u2028 \u2029",
    "emoji 🚀 and a pair 👩‍💻",
    "Latin-1: é ü ñ ß, CJK: 中文, RTL: עברית",
    "\\u0000 spelled, not a NUL",
    "</script><!--",
    "'single' quotes",
    'a\\"b\\\\"c',
    " padded ",
    "\b\f\v",
    "null",
    "123",
    "x" * 5000,
]

AWKWARD_DATA = [
    {},
    {"b": 1, "a": 2, "A": 3, "é": 4, "": 5},
    {"nested": {"z": [1, "two", None, True, False, {"y": [], "x": {}}]}, "list": [[], [[]]]},
    {"text": AWKWARD_TEXTS[5], 'quote"key': "v", "back\\key": "\n"},
    {"big": 2**70, "negative": -(2**63), "zero": 0},
    {"floats": [1.5, 0.1, 0.30000000000000004, -2.25, 1e-07, 123456.789]},
    {"unicode": "🚀 中文 \u2028", "k\x01": "\x1f"},
]

TIMESTAMPS = [
    datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC),  # no microseconds
    datetime(2026, 3, 1, 12, 0, 0, 5, tzinfo=UTC),  # leading zeros in the microseconds
    datetime(2026, 3, 1, 12, 0, 0, 999999, tzinfo=UTC),
    datetime(2024, 2, 29, 23, 59, 59, 120000, tzinfo=UTC),  # leap day
    datetime(
        2026, 3, 1, 13, 30, 0, 250, tzinfo=timezone(timedelta(hours=5, minutes=30))
    ),  # not UTC
]


def _awkward_events(n: int = 300, seed: int = 20260301) -> list[dict]:
    """Hashed fields (without seq and prev_hash) mixing every awkward value, reproducibly."""
    rnd = random.Random(seed)
    alphabet = "ab\"\\\n\r\t\x01\x1f\x7f é🚀中\u2028'/:{}[],"

    def text():
        if rnd.random() < 0.6:
            return rnd.choice(AWKWARD_TEXTS)
        return "".join(rnd.choice(alphabet) for _ in range(rnd.randrange(0, 12)))

    events = []
    for i in range(n):
        events.append(
            {
                "created_at": format_timestamp(
                    TIMESTAMPS[i % len(TIMESTAMPS)] + timedelta(seconds=i)
                ),
                "actor_kind": rnd.choice(["user", "token", "system", text()]),
                "actor_id": rnd.choice([None, 0, 7, 2**63 - 1, -1]),
                "actor_label": text(),
                "action": rnd.choice(["release.updated", text()]),
                "object_type": text(),
                "object_id": rnd.choice(["42", "", text()]),
                "object_repr": text(),
                "project_id": rnd.choice([None, 1, 2, 3]),
                "release_id": rnd.choice([None, 10, 2**40]),
                "from_state": text(),
                "to_state": text(),
                "reason": text(),
                "data": AWKWARD_DATA[i % len(AWKWARD_DATA)],
            }
        )
    return events


def _chain(events: list[dict], *, data_as=canonical_json, prev: str = GENESIS_HASH) -> list[tuple]:
    """Rows in ROW_FIELDS order, hashed and linked the reference way (as audit_record does)."""
    rows = []
    heads: dict = {}
    for seq, fields in enumerate(events, start=1):
        event = dict(fields, seq=seq, prev_hash=prev)
        event["hash"] = compute_hash(event)  # the reference: json.dumps of the whole dict
        project_id = event["project_id"]
        if project_id is not None:
            position, link = heads.get(project_id, (0, GENESIS_HASH))
            event["project_seq"] = position + 1
            event["project_prev_hash"] = link
            event["project_hash"] = compute_project_hash(link, position + 1, event["hash"])
            heads[project_id] = (position + 1, event["project_hash"])
        else:
            event.update(project_seq=None, project_prev_hash="", project_hash="")
        event["data"] = data_as(event["data"])
        event["mac"] = ""  # these walks leave MACs unchecked (no mac_key)
        rows.append(tuple(event[name] for name in ROW_FIELDS))
        prev = event["hash"]
    return rows


def _walk(rows, *, data_cache=None):
    walk = Walk(mode="all")
    broken = verify_rows(
        iter(rows), walk, start_seq=1, start_prev_hash=GENESIS_HASH, data_cache=data_cache
    )
    return walk, broken


def test_row_payload__is_the_reference_spelling_byte_for_byte():
    for seq, fields in enumerate(_awkward_events(), start=1):
        event = dict(fields, seq=seq, prev_hash=GENESIS_HASH)
        reference = canonical_json({name: event[name] for name in HASHED_FIELDS})
        row = tuple(event.get(name) for name in ROW_FIELDS)
        assert row_payload(row, canonical_json(event["data"])) == reference
        assert row_hash(row, canonical_json(event["data"])) == compute_hash(event)


def test_walk__accepts_the_reference_hashes_of_awkward_events():
    rows = _chain(_awkward_events())
    walk, broken = _walk(rows)
    assert broken is None, broken
    assert walk.count == len(rows)


def _database_like(value) -> str:
    """JSON spelled as a database might: keys in another order, spaces, ASCII escapes."""

    def shuffled(v):
        if isinstance(v, dict):
            return {k: shuffled(v[k]) for k in sorted(v, key=lambda k: (len(k), k), reverse=True)}
        return [shuffled(x) for x in v] if isinstance(v, list) else v

    return json.dumps(shuffled(value), ensure_ascii=True, separators=(", ", ": "))


def test_walk__database_json_text__is_canonicalised_to_the_reference():
    """On PostgreSQL ``data`` arrives as the database's JSON text (other key order, spaces)."""
    rows = _chain(_awkward_events(), data_as=_database_like)
    assert any(
        row[ROW_FIELDS.index("data")] != canonical_json(json.loads(row[ROW_FIELDS.index("data")]))
        for row in rows
    )
    walk, broken = _walk(rows, data_cache={})
    assert broken is None, broken
    assert walk.count == len(rows)


@pytest.mark.parametrize(
    "field", [name for name in HASHED_FIELDS if name not in ("seq", "prev_hash")]
)
def test_walk__any_changed_field__is_found_at_its_seq(field):
    rows = _chain(_awkward_events(60))
    index = ROW_FIELDS.index(field)
    for target in (3, 17, 41):
        row = list(rows[target - 1])
        value = row[index]
        if field == "data":
            row[index] = canonical_json({**json.loads(value), "added": "\n"})
        elif field == "created_at":
            row[index] = value.replace("Z", "0Z")
        elif isinstance(value, str):
            row[index] = value + '"'
        else:
            row[index] = 1 if value is None else None
        tampered = [*rows[: target - 1], tuple(row), *rows[target:]]
        walk, broken = _walk(tampered)
        assert broken is not None and broken.seq == target, (field, target, broken)
        assert "edited" in broken.problem
        assert walk.count == target - 1


def test_walk__text_moved_across_a_field_boundary__is_refused():
    """Unescaped spelling would read both rows alike; the canonical one does not."""
    events = _awkward_events(5)
    events[2].update(object_id='a","object_repr":"b', object_repr="c")
    rows = _chain(events)
    row = list(rows[2])
    row[ROW_FIELDS.index("object_id")] = "a"
    row[ROW_FIELDS.index("object_repr")] = 'b","object_repr":"c'
    _walk_, broken = _walk([*rows[:2], tuple(row), *rows[3:]])
    assert broken is not None and broken.seq == 3


def test_walk__unusual_types__are_spelled_as_the_reference():
    """A number given as text, a bool, a float where an integer belongs: each hashed as json.dumps would."""
    events = _awkward_events(6)
    events[0]["actor_id"] = True
    events[1]["project_id"] = None
    events[1]["release_id"] = 2.5
    events[2]["object_id"] = 42
    events[3]["actor_id"] = "7"
    rows = _chain(events)
    walk, broken = _walk(rows)
    assert broken is None, broken
    # ... and a value that differs only in its type is still a different value.
    row = list(rows[3])
    row[ROW_FIELDS.index("actor_id")] = 7
    _walk_, broken = _walk([*rows[:3], tuple(row), *rows[4:]])
    assert broken is not None and broken.seq == 4


@pytest.mark.parametrize("mode", ["all", "selection"])
def test_walk__prev_hash_not_yet_vouched_for__is_spelled_as_the_reference(mode):
    """The first row of a stretch or of an export links to a hash the walk has not checked: spelled escaped."""
    rows = _chain(_awkward_events(8), prev='f00d"\\\n","seq":1')
    walk = Walk(mode=mode)
    assert verify_rows(iter(rows), walk, start_seq=1, start_prev_hash=None) is None
    assert walk.count == len(rows)
    row = list(rows[0])
    row[ROW_FIELDS.index("prev_hash")] = 'f00d\\"\n","seq":1'
    broken = verify_rows(
        iter([tuple(row), *rows[1:]]), Walk(mode=mode), start_seq=1, start_prev_hash=None
    )
    assert broken is not None and broken.seq == 1


# --- Through the database: PostgreSQL spells timestamps and JSON, SQLite the keyset path -----------


def _append(**fields) -> AuditEvent:
    """Write one event the way audit_record does, at a chosen time (audit_record always uses now)."""
    head = AuditEvent.objects.order_by("-seq").first()
    event = {
        "seq": head.seq + 1 if head else 1,
        "actor_kind": "user",
        "actor_id": None,
        "actor_label": "",
        "action": "",
        "object_type": "",
        "object_id": "",
        "object_repr": "",
        "project_id": None,
        "release_id": None,
        "from_state": "",
        "to_state": "",
        "reason": "",
        "data": {},
        "prev_hash": head.hash if head else GENESIS_HASH,
        **fields,
    }
    event["hash"] = compute_hash(dict(event, created_at=format_timestamp(event["created_at"])))
    if event["project_id"] is not None:
        last = AuditEvent.objects.filter(project_id=event["project_id"]).order_by("-seq").first()
        position, link = (last.project_seq, last.project_hash) if last else (0, GENESIS_HASH)
        event.update(
            project_seq=position + 1,
            project_prev_hash=link,
            project_hash=compute_project_hash(link, position + 1, event["hash"]),
        )
    from audit.chain import event_mac
    from audit.checkpoints import mac_key

    event["mac"] = event_mac(mac_key(), event["hash"], event.get("project_hash"))
    event["data_text"] = canonical_json(event["data"])
    return AuditEvent.objects.create(**event)


def _awkward_trail(count: int = 60) -> list[AuditEvent]:
    """Awkward events in the database, each text cut to its column's length."""
    limits = {
        f.name: f.max_length
        for f in AuditEvent._meta.get_fields()
        if getattr(f, "max_length", None)
    }
    written = []
    for i, fields in enumerate(_awkward_events(count)):
        fields = {
            name: value[: limits[name]] if isinstance(value, str) and name in limits else value
            for name, value in fields.items()
        }
        fields["created_at"] = TIMESTAMPS[i % len(TIMESTAMPS)] + timedelta(minutes=i)
        written.append(_append(**fields))
    return written


def test_database_walk__awkward_events__verify(db):
    written = _awkward_trail()
    # Every value came back from the database as written (the reference hash still matches).
    for event in AuditEvent.objects.order_by("seq"):
        assert compute_hash(event.hashed_fields()) == event.hash
    report = audit_chain_check()
    assert report.broken is None, report.broken
    assert report.count == len(written)


def test_database_walk__awkward_event_edited__is_found_at_its_seq(db):
    written = _awkward_trail(30)
    target = written[12].seq
    tamper_sql(
        "UPDATE audit_auditevent SET reason = reason || %s WHERE seq = %s", ["\u2028", target]
    )
    report = audit_chain_check()
    assert report.broken is not None and report.broken.seq == target
    assert "edited" in report.broken.problem
    assert report.count == target - 1


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="parallel verification runs on PostgreSQL"
)
@pytest.mark.django_db(transaction=True)
def test_database_walk__awkward_events__same_verdict_in_parallel():
    written = _awkward_trail(40)
    assert audit_chain_check(workers=3).broken is None
    target = written[25].seq
    tamper_sql("UPDATE audit_auditevent SET object_repr = %s WHERE seq = %s", ['"', target])
    single, parallel = audit_chain_check(workers=1), audit_chain_check(workers=3)
    assert single.broken.seq == parallel.broken.seq == target
    assert single.count == parallel.count == target - 1


def test_database_walk__inside_a_transaction__leaves_it_usable(db):
    written = _awkward_trail(20)
    tamper_sql(
        "UPDATE audit_auditevent SET to_state = %s WHERE seq = %s", ["edited", written[4].seq]
    )
    with transaction.atomic():
        report = audit_chain_check()
        assert report.broken.seq == written[4].seq
        assert AuditEvent.objects.count() == len(written)
