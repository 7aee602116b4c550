"""Which rows a metric reads: projects the reader may see, environments, range and interval.

``scope_parse(user, params)`` turns the query string shared by the dashboard, the
drill-down lists, the CSV exports and the API into a ``Scope``, or raises a
ValidationFailed / NotFound a person can read. Ranges longer than ``MAX_RANGE_DAYS`` are
capped (with a message), reversed ones refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from django.utils import timezone

from core.exceptions import NotFound, ValidationFailed
from metrics.definitions import METRIC_KEYS
from projects.choices import Tier
from projects.models import Environment, Project
from projects.principals import Caller
from projects.selectors import project_list

INTERVALS = ("daily", "weekly", "monthly", "all")
DEFAULT_DAYS = 90
# A year and a day: a whole year in any interval, while every query stays bounded.
MAX_RANGE_DAYS = 366
SCOPE_PARAMS = ("project", "environment", "from", "to", "interval")


@dataclass(frozen=True)
class Bucket:
    key: date | None  # the local date the interval starts (None for "all")
    start: datetime
    end: datetime  # exclusive

    @property
    def days(self) -> float:
        return max((self.end - self.start).total_seconds() / 86400.0, 1e-9)

    @property
    def label(self) -> str:
        return self.key.isoformat() if self.key else "all"

    def params(self, tz: ZoneInfo) -> dict[str, str]:
        """The from/to query parameters that select exactly this interval."""
        last = (self.end - timedelta(microseconds=1)).astimezone(tz)
        return {"from": self.start.astimezone(tz).date().isoformat(), "to": last.date().isoformat()}


@dataclass(frozen=True)
class Scope:
    projects: tuple[Project, ...]
    project: Project | None  # the one project asked for, if any
    environment_ids: tuple[int, ...]
    environment_label: str
    environment_name: str  # "" for production (the default)
    start: datetime
    end: datetime  # exclusive
    interval: str
    tz: ZoneInfo
    messages: tuple[str, ...] = ()
    params: dict[str, str] = field(default_factory=dict)

    @property
    def project_ids(self) -> tuple[int, ...]:
        return tuple(p.pk for p in self.projects)

    @property
    def tz_name(self) -> str:
        return self.tz.key

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(microseconds=1)).astimezone(self.tz).date()

    @property
    def first_day(self) -> date:
        return self.start.astimezone(self.tz).date()

    def whole(self) -> Bucket:
        return Bucket(None, self.start, self.end)

    def buckets(self) -> list[Bucket]:
        """The intervals of the series, clipped to the range (local days, Monday weeks)."""
        if self.interval == "all":
            return [self.whole()]
        day = self.first_day
        if self.interval == "weekly":
            day -= timedelta(days=day.weekday())
        elif self.interval == "monthly":
            day = day.replace(day=1)
        step = {
            "daily": relativedelta(days=1),
            "weekly": relativedelta(weeks=1),
            "monthly": relativedelta(months=1),
        }[self.interval]
        out = []
        while True:
            start = _local(day, self.tz)
            if start >= self.end:
                break
            end = _local(day + step, self.tz)
            out.append(Bucket(day, max(start, self.start), min(end, self.end)))
            day = day + step
        return out

    def query(self, **extra: str) -> dict[str, str]:
        """The query parameters of this scope (for links), with ``extra`` on top."""
        out = {k: v for k, v in self.params.items() if v}
        out.update({k: v for k, v in extra.items() if v is not None})
        return out

    def narrowed(self, bucket: Bucket) -> Scope:
        return replace(self, start=bucket.start, end=bucket.end)


def _local(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz)


def _text(params: Any, name: str, limit: int = 100) -> str:
    value = params.get(name, "")
    value = (value if isinstance(value, str) else str(value)).strip()
    if "\x00" in value or len(value) > limit:
        raise ValidationFailed(f"The {name} parameter is not valid.", details={name: "invalid"})
    return value


def _day(value: str, name: str) -> date:
    try:
        day = date.fromisoformat(value[:10]) if len(value) >= 10 else date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            f"'{value[:40]}' is not a date: write '{name}' as YYYY-MM-DD.",
            details={name: "invalid date"},
        ) from None
    if not 1970 <= day.year <= 9998:
        raise ValidationFailed(
            f"The '{name}' date must lie between 1970 and 9998.", details={name: "out of range"}
        )
    return day


def parse_metric(params: Any, *, required: bool = True) -> str:
    metric = _text(params, "metric", 60)
    if not metric and not required:
        return ""
    if metric not in METRIC_KEYS:
        known = ", ".join(METRIC_KEYS)
        if not metric:
            raise ValidationFailed(
                f"Name a metric: one of {known}.", details={"metric": "required"}
            )
        raise ValidationFailed(
            f"Unknown metric '{metric[:60]}'. Choose one of {known}.",
            details={"metric": "unknown"},
        )
    return metric


def scope_parse(
    user: Caller, params: Any, *, project: Project | None = None, default_interval: str = "weekly"
) -> Scope:
    """The scope a query string asks for, narrowed to what ``user`` may see.

    ``project`` (slug or id; or the page's own project) must be visible, else NotFound.
    ``environment`` is an environment name (or id) of the chosen projects; without it the
    production-tier environments are read. ``from``/``to`` are local dates, ``to``
    inclusive; without them the last 90 days. ``interval``: daily, weekly, monthly or all.
    """
    visible = project_list(user=user).order_by("name")
    messages: list[str] = []
    chosen: Project | None = project
    raw_project = _text(params, "project")
    if chosen is None and raw_project:
        lookup = {"pk": int(raw_project)} if raw_project.isdigit() else {"slug": raw_project}
        chosen = visible.filter(**lookup).first()
        if chosen is None:
            raise NotFound("No such project.", details={"project": "not found"})
    projects = (chosen,) if chosen is not None else tuple(visible)

    raw_env = _text(params, "environment", 60)
    envs = Environment.objects.filter(project__in=[p.pk for p in projects])
    if raw_env and raw_env != "production":
        envs = envs.filter(pk=int(raw_env)) if raw_env.isdigit() else envs.filter(name=raw_env)
        env_rows = list(envs.values_list("pk", "display_name", "name"))
        if not env_rows:
            where = chosen.name if chosen is not None else "any of your projects"
            raise ValidationFailed(
                f"There is no environment '{raw_env[:60]}' in {where}.",
                details={"environment": "not found"},
            )
        label = env_rows[0][1] or env_rows[0][2]
        env_name = env_rows[0][2]
    else:
        env_rows = list(envs.filter(tier=Tier.PRODUCTION).values_list("pk", "display_name", "name"))
        label, env_name = "Production", ""

    tz = timezone.get_current_timezone()
    if not isinstance(tz, ZoneInfo):  # pragma: no cover - settings always name a zone
        tz = ZoneInfo(str(tz))
    today = timezone.localdate(timezone=tz)
    raw_from, raw_to = _text(params, "from", 40), _text(params, "to", 40)
    last = _day(raw_to, "to") if raw_to else today
    first = _day(raw_from, "from") if raw_from else last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise ValidationFailed(
            f"The range is reversed: 'from' ({first}) is after 'to' ({last}).",
            details={"from": "after to"},
        )
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        first = last - timedelta(days=MAX_RANGE_DAYS - 1)
        messages.append(f"Ranges are capped at {MAX_RANGE_DAYS} days: showing {first} to {last}.")
    interval = _text(params, "interval", 20) or default_interval
    if interval not in INTERVALS:
        raise ValidationFailed(
            f"Unknown interval '{interval[:20]}'. Choose one of {', '.join(INTERVALS)}.",
            details={"interval": "unknown"},
        )
    query = {
        "project": chosen.slug if chosen is not None else "",
        "environment": env_name,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "interval": interval,
    }
    return Scope(
        projects=projects,
        project=chosen,
        environment_ids=tuple(pk for pk, _d, _n in env_rows),
        environment_label=label,
        environment_name=env_name,
        start=_local(first, tz),
        end=_local(last + timedelta(days=1), tz),
        interval=interval,
        tz=tz,
        messages=tuple(messages),
        params=query,
    )
