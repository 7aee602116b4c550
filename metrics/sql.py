"""The few SQL pieces that differ between PostgreSQL and SQLite, and SQLite's stand-ins.

Every metric is one SQL statement run by the database (docs/metrics.md): rows are
never looped over in Python. Three things are spelled differently per engine:

* seconds between two moments: ``EXTRACT(EPOCH FROM (a - b))`` on PostgreSQL,
  ``(julianday(a) - julianday(b)) * 86400`` on SQLite;
* a percentile: PostgreSQL's ``PERCENTILE_CONT(p) WITHIN GROUP (ORDER BY x)``; SQLite has no
  ordered-set aggregates, so ``metrics_percentile(x, p)`` is registered on every SQLite
  connection (``register_sqlite_functions``): an aggregate run by SQLite itself that
  interpolates exactly like PERCENTILE_CONT (position ``p * (n - 1)`` in the sorted values,
  linear between the two neighbours; NULLs ignored);
* the local day, week (from Monday) or month a moment falls in, in the site's time zone:
  ``date_trunc(kind, x AT TIME ZONE tz)`` on PostgreSQL, ``metrics_bucket(kind, x, tz)`` on SQLite.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection

KINDS = {"daily": "day", "weekly": "week", "monthly": "month"}
_TZ_NAME = re.compile(r"^[A-Za-z0-9_+\-/]{1,64}$")


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def seconds(end: str, start: str) -> str:
    """SQL for the seconds from ``start`` to ``end`` (two column expressions)."""
    if is_postgres():
        return f"EXTRACT(EPOCH FROM ({end} - {start}))"
    return f"((julianday({end}) - julianday({start})) * 86400.0)"


def percentile(fraction: float, expr: str) -> str:
    fraction = float(fraction)
    if is_postgres():
        return f"PERCENTILE_CONT({fraction}) WITHIN GROUP (ORDER BY {expr})"
    return f"metrics_percentile({expr}, {fraction})"


def bucket(interval: str, expr: str, tz_name: str) -> str:
    """SQL for the start (a local date) of the day, week or month ``expr`` falls in."""
    if interval not in KINDS:
        return "NULL"
    if not _TZ_NAME.match(tz_name):
        raise ValueError(f"Unexpected time zone name {tz_name!r}")
    kind = KINDS[interval]
    if is_postgres():
        return f"CAST(date_trunc('{kind}', {expr} AT TIME ZONE '{tz_name}') AS date)"
    return f"metrics_bucket('{kind}', {expr}, '{tz_name}')"


def as_date(value: Any) -> date | None:
    """A bucket key as the database answers it (a date, or ISO text from SQLite)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def moment(value: datetime) -> Any:
    """A datetime parameter as the engine stores it (SQLite: naive UTC text)."""
    return connection.ops.adapt_datetimefield_value(value)


def aware(value: Any) -> datetime | None:
    """A datetime read by a raw query, made aware (SQLite answers naive UTC text)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def fetch(sql: str, params: dict[str, Any]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def in_list(name: str, values: tuple[int, ...] | list[int], params: dict[str, Any]) -> str:
    """``(%(name0)s, %(name1)s …)`` with the values added to ``params``; never empty."""
    keys = []
    for i, value in enumerate(values or [0]):
        key = f"{name}{i}"
        params[key] = int(value) if values else -1
        keys.append(f"%({key})s")
    return "(" + ", ".join(keys) + ")"


def in_text(name: str, values: list[str], params: dict[str, Any]) -> str:
    """``in_list`` for text values; an empty list matches nothing (``('')``: no sha is empty)."""
    keys = []
    for i, value in enumerate(values or [""]):
        key = f"{name}{i}"
        params[key] = str(value)
        keys.append(f"%({key})s")
    return "(" + ", ".join(keys) + ")"


# --- SQLite stand-ins -----------------------------------------------------------------------


class _Percentile:
    """PERCENTILE_CONT for SQLite: collects the group's values, interpolates at the end."""

    def __init__(self) -> None:
        self.values: list[float] = []
        self.fraction = 0.5

    def step(self, value: float | None, fraction: float) -> None:
        self.fraction = float(fraction)
        if value is not None:
            self.values.append(float(value))

    def finalize(self) -> float | None:
        if not self.values:
            return None
        ordered = sorted(self.values)
        position = self.fraction * (len(ordered) - 1)
        low = int(position)
        high = min(low + 1, len(ordered) - 1)
        return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _parse_stored(value: str) -> datetime:
    moment_ = datetime.fromisoformat(value)
    return moment_.replace(tzinfo=UTC) if moment_.tzinfo is None else moment_


def _bucket(kind: str, value: str | None, tz_name: str) -> str | None:
    if value is None:
        return None
    local = _parse_stored(value).astimezone(ZoneInfo(tz_name)).date()
    if kind == "week":
        local -= timedelta(days=local.weekday())
    elif kind == "month":
        local = local.replace(day=1)
    return local.isoformat()


def register_sqlite_functions(sender: Any, connection: Any, **kwargs: Any) -> None:
    """``connection_created`` receiver: the percentile aggregate and the bucket function."""
    if connection.vendor != "sqlite":
        return
    raw = connection.connection
    raw.create_aggregate("metrics_percentile", 2, _Percentile)
    raw.create_function("metrics_bucket", 3, _bucket, deterministic=True)
