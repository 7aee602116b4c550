"""Exports on PostgreSQL, streamed with COPY.

One ``COPY (SELECT ... ORDER BY seq) TO STDOUT`` streams every matching row:
one statement (one consistent snapshot), flat memory, and the database
producing rows while Python writes the previous ones. For JSON Lines the
database sends the raw columns in COPY's text format and Python spells each
line (measured: spelling JSON in SQL costs the database about seven times
what plain COPY does, spelling it here a fraction of that); for CSV the
database writes the CSV itself, formula-escaped in SQL. The filters are the
same Django queryset as everywhere else, compiled to SQL with its parameters
inlined by the driver (COPY accepts no parameters).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from json.encoder import encode_basestring as _encode_str
from typing import TYPE_CHECKING, cast

from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

if TYPE_CHECKING:
    from django.db.backends.postgresql.operations import DatabaseOperations

_TIMESTAMP = "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
# The columns of a JSON line, in the order the SQLite path writes them.
_COLUMNS = (
    "seq",
    _TIMESTAMP,
    "actor_kind",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "project_id",
    "release_id",
    "from_state",
    "to_state",
    "reason",
    "data::text",
    "prev_hash",
    "hash",
    "project_seq",
    "project_prev_hash",
    "project_hash",
    "mac",
)
# COPY's text format escapes these after a backslash. NULL is written as
# ``null`` (COPY's NULL option): only integer columns can be NULL here, and
# ``null`` is what JSON wants for them.
_COPY_ESCAPES = {"\\": "\\", "n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "v": "\v"}
_COPY_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
COPY_OPTIONS = "WITH (NULL 'null')"


def _unescape(field: str) -> str:
    return _COPY_ESCAPE.sub(lambda m: _COPY_ESCAPES.get(m.group(1), m.group(1)), field)


def _json_line(block: bytes) -> str:
    """One COPY text row (the columns of ``_COLUMNS``) as one JSON line."""
    text = block.decode("utf-8")
    fields = text[:-1].split("\t")
    if "\\" in text:  # rare: a value holds a backslash or a control character
        fields = [_unescape(f) for f in fields]
    (
        seq,
        created,
        kind,
        actor_id,
        label,
        action,
        otype,
        oid,
        orepr,
        pid,
        rid,
        fs,
        ts,
        reason,
        data,
        prev,
        h,
        pseq,
        pprev,
        phash,
        mac,
    ) = fields
    s = _encode_str
    return (
        f'{{"seq":{seq},"created_at":{s(created)},"actor_kind":{s(kind)},"actor_id":{actor_id}'
        f',"actor_label":{s(label)},"action":{s(action)},"object_type":{s(otype)},"object_id":{s(oid)}'
        f',"object_repr":{s(orepr)},"project_id":{pid},"release_id":{rid},"from_state":{s(fs)}'
        f',"to_state":{s(ts)},"reason":{s(reason)},"data":{data},"prev_hash":{s(prev)},"hash":{s(h)}'
        f',"project_seq":{pseq},"project_prev_hash":{s(pprev)},"project_hash":{s(phash)}'
        f',"mac":{s(mac)}}}\n'
    )


_TEXT_COLUMNS = frozenset(
    {
        "actor_kind",
        "actor_label",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "from_state",
        "to_state",
        "reason",
        "prev_hash",
        "hash",
        "project_prev_hash",
        "project_hash",
        "mac",
    }
)
# The prefixes of audit.exports.csv_cell, as SQL literals: = + - @ tab CR and the quote itself.
_FORMULA_PREFIXES = "('=', '+', '-', '@', chr(9), chr(13), chr(39))"
# Chunks handed to the web server: large enough to be cheap, small enough to keep memory flat.
CHUNK_BYTES = 256 * 1024


def _csv_column(name: str) -> str:
    if name == "created_at":
        return _TIMESTAMP
    value = "data::text" if name == "data" else name
    if name in _TEXT_COLUMNS or name == "data":
        return f"CASE WHEN left({value}, 1) IN {_FORMULA_PREFIXES} THEN chr(39) || {value} ELSE {value} END"
    return value


def _select(queryset: QuerySet, upper: int, expressions: list[str]) -> str:
    """The export's filtered, ordered SELECT of ``expressions``, parameters inlined by the driver."""
    names = [f"c{i}" for i in range(len(expressions))]
    qs = (
        queryset.filter(seq__lte=upper)
        .order_by("seq")
        .annotate(
            # The expressions are this module's constants, never user input.
            **{
                name: RawSQL(expression, [])  # noqa: S611
                for name, expression in zip(names, expressions, strict=True)
            }
        )
        .values_list(*names)
    )
    sql, params = qs.query.get_compiler(connection=connection).as_sql()
    # Only ever called on PostgreSQL, whose operations spell SQL with its parameters.
    return cast("DatabaseOperations", connection.ops).compose_sql(sql, params)


def _copy(sql: str, *, options: str = "") -> Iterator[bytes]:
    """Stream ``COPY (sql) TO STDOUT`` in chunks of whole rows (PostgreSQL sends one message per row)."""
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY ({sql}) TO STDOUT {options}") as copy,
    ):
        parts: list[bytes] = []
        size = 0
        for block in copy:
            parts.append(bytes(block))
            size += len(block)
            if size >= CHUNK_BYTES:
                yield b"".join(parts)
                parts, size = [], 0
        if parts:
            yield b"".join(parts)


def jsonl_rows(queryset: QuerySet, upper: int, progress: dict) -> Iterator[bytes]:
    """The event lines; ``progress`` learns the count, the first and last seq and the last hash."""
    sql = _select(queryset, upper, list(_COLUMNS))
    first = last = None
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY ({sql}) TO STDOUT {COPY_OPTIONS}") as copy,
    ):
        lines: list[str] = []
        size = 0
        for block in copy:
            line = _json_line(bytes(block))
            lines.append(line)
            size += len(line)
            if size >= CHUNK_BYTES:
                first = first or lines[0]
                last = lines[-1]
                progress["count"] += len(lines)
                yield "".join(lines).encode("utf-8")
                lines, size = [], 0
        if lines:
            first = first or lines[0]
            last = lines[-1]
            progress["count"] += len(lines)
            yield "".join(lines).encode("utf-8")
    if first and last:
        progress["first"] = json.loads(first)["seq"]
        last_event = json.loads(last)
        progress["last"], progress["last_hash"] = last_event["seq"], last_event["hash"]


def csv_rows(queryset: QuerySet, upper: int, columns) -> Iterator[bytes]:
    return _copy(
        _select(queryset, upper, [_csv_column(name) for name in columns]),
        options="WITH (FORMAT csv)",
    )
