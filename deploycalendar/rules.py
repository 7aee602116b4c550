"""Time rules: when a window is open or a freeze holds, evaluated in the rule's own zone.

Pure (no Django): a ``TimeRule`` is what an iCalendar VEVENT says, so it round-trips:
``start`` is a wall-clock DTSTART in ``tz`` (TZID), ``end`` its wall-clock DTEND, ``rrule`` the
RRULE value (``FREQ=WEEKLY;BYDAY=FR``) or empty for a one-off, ``exdates`` wall-clock EXDATEs.

Rules this module states once and every caller inherits:

* Intervals are half-open: an occurrence covers ``[start, end)``.
* Each occurrence's start and end are wall-clock times in the rule's zone ("Friday 18:00 to
  Monday 08:00" ends at 08:00 local even when the clocks changed over the weekend), as RFC 5545
  reads a DTEND with a TZID.
* A wall-clock time that does not exist (the spring-forward gap: 02:30 in Europe/Berlin on the
  last Sunday of March) moves forward by the length of the gap (03:30); a time that exists
  twice (the autumn fold) is the first of the two (summer time). ``zoneinfo`` does exactly this
  with ``fold=0``, so we make it explicit and test it. An occurrence that lies wholly in a
  gap (02:15–02:45 on that Sunday) is empty that day.
* Expansion is bounded: never more than ``MAX_OCCURRENCES`` per call, and never further than
  ``HORIZON`` ahead when looking for the next opening.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from dateutil.rrule import rrulestr

# A year of weekly rules is 53 occurrences, of daily ones 366; 2000 leaves room for
# "every weekday, several windows" and still bounds a feed or a calendar page.
MAX_OCCURRENCES = 2000
# How far ahead the next opening is looked for: a rule that never opens within a year says so.
HORIZON = timedelta(days=400)


class RuleError(ValueError):
    """Bad input for a time rule; the message is a sentence a person reads."""


def zone_get(name: str) -> ZoneInfo:
    """The IANA zone ``name``, or RuleError naming the bad value."""
    if not name or name not in _zone_names():
        raise RuleError(f"'{name}' is not an IANA time zone (for example Europe/Berlin or UTC).")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):  # pragma: no cover - listed but unreadable
        raise RuleError(f"'{name}' is not an IANA time zone.") from None


_ZONES: set[str] = set()


def _zone_names() -> set[str]:
    if not _ZONES:
        _ZONES.update(available_timezones())
        _ZONES.add("UTC")
    return _ZONES


def localize(wall: datetime, tz: ZoneInfo) -> datetime:
    """``wall`` (naive, in ``tz``) as an aware time, gaps moved forward, folds taken first."""
    first = wall.replace(tzinfo=tz, fold=0)
    # A time in a gap does not survive the round trip through UTC.
    back = first.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    if back != wall:
        # zoneinfo reads a gap time with the offset before the change (fold=0); the
        # difference of the two offsets is the gap, and we move forward by it.
        later = wall.replace(tzinfo=tz, fold=1)
        gap = (first.utcoffset() or timedelta()) - (later.utcoffset() or timedelta())
        return (wall + abs(gap)).replace(tzinfo=tz, fold=0)
    return first


def wall_time_note(wall: datetime, tz_name: str) -> str:
    """A sentence when ``wall`` falls in a gap or fold of ``tz_name``, else empty."""
    tz = zone_get(tz_name)
    first = wall.replace(tzinfo=tz, fold=0)
    second = wall.replace(tzinfo=tz, fold=1)
    if first.utcoffset() == second.utcoffset():
        return ""
    shown = wall.strftime("%Y-%m-%d %H:%M")
    resolved = localize(wall, tz)
    if resolved.replace(tzinfo=None) != wall:
        return (
            f"{shown} does not exist in {tz_name} (the clocks jump forward); "
            f"it is read as {resolved.strftime('%H:%M %Z')}."
        )
    return (
        f"{shown} happens twice in {tz_name} (the clocks go back); "
        f"the first one ({first.strftime('%Z')}) is meant."
    )


@dataclass(frozen=True)
class Interval:
    start: datetime  # aware
    end: datetime  # aware, exclusive

    def contains(self, instant: datetime) -> bool:
        return self.start <= instant < self.end


@dataclass(frozen=True)
class TimeRule:
    start: datetime  # naive wall clock in tz
    end: datetime  # naive wall clock in tz, after start
    tz: str
    rrule: str = ""
    exdates: tuple[datetime, ...] = field(default=())

    @property
    def zone(self) -> ZoneInfo:
        return zone_get(self.tz)

    @property
    def wall_length(self) -> timedelta:
        return self.end - self.start


def rule_validate(rule: TimeRule) -> list[str]:
    """Every problem of ``rule`` as a sentence; empty when it is sound."""
    problems: list[str] = []
    try:
        tz = zone_get(rule.tz)
    except RuleError as exc:
        return [str(exc)]
    if rule.end <= rule.start:
        problems.append("The end must be after the start (a window of zero length never opens).")
        return problems
    if localize(rule.end, tz) <= localize(rule.start, tz):
        problems.append("The end falls inside the clock change and is not after the start.")
    if rule.rrule:
        try:
            recurrence = _recurrence(rule)
        except (ValueError, TypeError) as exc:
            problems.append(f"The recurrence rule '{rule.rrule}' cannot be read: {exc}.")
            return problems
        first = recurrence.after(rule.start - timedelta(seconds=1), inc=True)
        if first is None:
            problems.append(f"The recurrence rule '{rule.rrule}' never happens.")
        else:
            second = recurrence.after(first)
            if second is not None and second < first + rule.wall_length:
                problems.append(
                    "Occurrences overlap: the rule repeats before an occurrence has ended."
                )
    return problems


def _recurrence(rule: TimeRule):
    text = rule.rrule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    if "DTSTART" in text.upper():
        raise ValueError("DTSTART belongs in the start, not in the rule")
    return rrulestr(text, dtstart=rule.start, forceset=False, ignoretz=True)


def _wall_starts(rule: TimeRule, lower: datetime, upper: datetime) -> Iterable[datetime]:
    """Wall-clock starts in [lower, upper] (naive), bounded, without the exceptions."""
    excluded = set(rule.exdates)
    if not rule.rrule:
        if lower <= rule.start <= upper and rule.start not in excluded:
            yield rule.start
        return
    for count, start in enumerate(_recurrence(rule).xafter(lower, inc=True)):
        if start > upper or count >= MAX_OCCURRENCES:
            return
        if start not in excluded:
            yield start


def occurrences(rule: TimeRule, start: datetime, end: datetime) -> list[Interval]:
    """Occurrences of ``rule`` that overlap [start, end) (aware bounds), oldest first, bounded."""
    tz = rule.zone
    # Wall-clock bounds widened by a day on each side for offsets and by the rule's length,
    # so that an occurrence that began before ``start`` and still runs is found.
    lower = start.astimezone(tz).replace(tzinfo=None) - rule.wall_length - timedelta(days=1)
    upper = end.astimezone(tz).replace(tzinfo=None) + timedelta(days=1)
    found: list[Interval] = []
    for wall in _wall_starts(rule, lower, upper):
        interval = Interval(localize(wall, tz), localize(wall + rule.wall_length, tz))
        # An occurrence that lies wholly in a spring-forward gap is empty that day.
        if interval.end > start and interval.start < end and interval.end > interval.start:
            found.append(interval)
    return found


def active_at(rule: TimeRule, instant: datetime) -> Interval | None:
    """The occurrence that covers ``instant``, if any."""
    for interval in occurrences(rule, instant, instant + timedelta(microseconds=1)):
        if interval.contains(instant):
            return interval
    return None


def next_start(
    rule: TimeRule, instant: datetime, *, horizon: timedelta = HORIZON
) -> Interval | None:
    """The first occurrence that starts at or after ``instant``, within ``horizon``."""
    tz = rule.zone
    lower = instant.astimezone(tz).replace(tzinfo=None) - timedelta(days=1)
    upper = (instant + horizon).astimezone(tz).replace(tzinfo=None)
    for wall in _wall_starts(rule, lower, upper):
        interval = Interval(localize(wall, tz), localize(wall + rule.wall_length, tz))
        if interval.start >= instant:
            return interval
    return None


@dataclass(frozen=True)
class Verdict:
    """Whether one may deploy at ``instant`` under some windows and freezes."""

    allowed: bool
    freeze: object | None = None  # the label of the freeze that holds, if any
    freeze_interval: Interval | None = None
    outside_windows: bool = False
    next_opening: datetime | None = None


def evaluate(
    instant: datetime,
    *,
    windows: Sequence[tuple[object, TimeRule]],
    freezes: Sequence[tuple[object, TimeRule]],
    horizon: timedelta = HORIZON,
) -> Verdict:
    """Deny beats allow: a freeze closes even an open window; no window means no restriction.

    ``windows`` and ``freezes`` pair any label with a rule; the verdict names the freeze's label.
    ``next_opening`` is the first instant at or after ``instant`` when no freeze holds and
    (if there are windows) a window is open; None if nothing opens within ``horizon``.
    """
    freeze_label, freeze_interval = _frozen(instant, freezes)
    inside = not windows or _window_at(instant, windows) is not None
    if freeze_label is None and inside:
        return Verdict(allowed=True)
    return Verdict(
        allowed=False,
        freeze=freeze_label,
        freeze_interval=freeze_interval,
        outside_windows=not inside,
        next_opening=next_opening(instant, windows=windows, freezes=freezes, horizon=horizon),
    )


def _frozen(
    instant: datetime, freezes: Sequence[tuple[object, TimeRule]]
) -> tuple[object | None, Interval | None]:
    best: tuple[object | None, Interval | None] = (None, None)
    for label, rule in freezes:
        interval = active_at(rule, instant)
        # The freeze that holds longest is the one worth naming.
        if interval is not None and (best[1] is None or interval.end > best[1].end):
            best = (label, interval)
    return best


def _window_at(instant: datetime, windows: Sequence[tuple[object, TimeRule]]) -> Interval | None:
    for _label, rule in windows:
        interval = active_at(rule, instant)
        if interval is not None:
            return interval
    return None


def next_opening(
    instant: datetime,
    *,
    windows: Sequence[tuple[object, TimeRule]],
    freezes: Sequence[tuple[object, TimeRule]],
    horizon: timedelta = HORIZON,
) -> datetime | None:
    """The first instant >= ``instant`` that is inside a window (if any) and in no freeze."""
    limit = instant + horizon
    moment = instant
    for _ in range(MAX_OCCURRENCES):
        if moment >= limit:
            return None
        _label, interval = _frozen(moment, freezes)
        if interval is not None:
            moment = interval.end
            continue
        if windows and _window_at(moment, windows) is None:
            starts = [next_start(rule, moment, horizon=limit - moment) for _l, rule in windows]
            upcoming = [s.start for s in starts if s is not None]
            if not upcoming:
                return None
            moment = min(upcoming)
            continue
        return moment
    return None


# --- Plain words ---------------------------------------------------------------------------

_DAYS = {"MO": "Mon", "TU": "Tue", "WE": "Wed", "TH": "Thu", "FR": "Fri", "SA": "Sat", "SU": "Sun"}
_DAY_ORDER = list(_DAYS)


def _days_phrase(codes: list[str]) -> str:
    idx = sorted(_DAY_ORDER.index(c) for c in codes)
    if len(idx) > 2 and idx == list(range(idx[0], idx[-1] + 1)):
        return f"{_DAYS[_DAY_ORDER[idx[0]]]}–{_DAYS[_DAY_ORDER[idx[-1]]]}"
    return ", ".join(_DAYS[_DAY_ORDER[i]] for i in idx)


def rule_summary(rule: TimeRule) -> str:
    """The rule in plain words: "Tue–Thu 10:00–16:00 Europe/Berlin", "every year 20 Dec 00:00 to 5 Jan 06:00"."""
    hm = "%H:%M"
    parts = dict(p.split("=", 1) for p in rule.rrule.upper().split(";") if "=" in p)
    freq = parts.get("FREQ", "")
    same_day = rule.start.date() == rule.end.date()
    if not freq:
        return f"{rule.start:%a %-d %b %Y %H:%M} to {rule.end:%a %-d %b %Y %H:%M} {rule.tz}"
    if freq == "WEEKLY" or (freq == "DAILY" and "BYDAY" in parts):
        codes = [c[-2:] for c in parts.get("BYDAY", _DAY_ORDER[rule.start.weekday()]).split(",")]
        if same_day:
            text = f"{_days_phrase(codes)} {rule.start:{hm}}–{rule.end:{hm}} {rule.tz}"
        else:
            end_day = _DAYS[_DAY_ORDER[rule.end.weekday()]]
            text = (
                f"every {_days_phrase(codes)} {rule.start:{hm}} to {end_day} {rule.end:{hm}} "
                f"{rule.tz}"
            )
    elif freq == "DAILY":
        text = f"every day {rule.start:{hm}}–{rule.end:{hm}} {rule.tz}"
    elif freq == "YEARLY":
        text = f"every year {rule.start:%-d %b %H:%M} to {rule.end:%-d %b %H:%M} {rule.tz}"
    elif freq == "MONTHLY":
        text = f"every month from day {rule.start.day} {rule.start:{hm}}, {_length(rule)} {rule.tz}"
    else:
        text = f"{rule.rrule} from {rule.start:%Y-%m-%d %H:%M} {rule.tz}"
    if "UNTIL" in parts or "COUNT" in parts:
        text += " (for a limited time)"
    if rule.exdates:
        text += f", except {len(rule.exdates)} date{'s' if len(rule.exdates) > 1 else ''}"
    return text


def _length(rule: TimeRule) -> str:
    hours = rule.wall_length.total_seconds() / 3600
    return f"for {hours:g} hours"


# --- Cron pairs (GitLab's deploy-freeze format) ----------------------------------------------

_CRON_DOW = ["SU", "MO", "TU", "WE", "TH", "FR", "SA", "SU"]


def _cron_field(text: str, low: int, high: int, what: str) -> list[int]:
    values: set[int] = set()
    for part in text.split(","):
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not match:
            raise RuleError(f"The {what} field '{text}' is not a number, a list or a range.")
        first = int(match.group(1))
        last = int(match.group(2) or first)
        if not (low <= first <= last <= high):
            raise RuleError(f"The {what} field '{text}' is outside {low}–{high}.")
        values.update(range(first, last + 1))
    return sorted(values)


def _cron_parse(expression: str) -> tuple[int, int, list[str]]:
    fields = expression.split()
    if len(fields) != 5:
        raise RuleError(f"'{expression}' is not a cron expression of five fields.")
    minute, hour, dom, month, dow = fields
    if dom != "*" or month != "*":
        raise RuleError(
            f"'{expression}': only minute, hour and day of the week can be imported; "
            "write day-of-month and month as '*' (a yearly freeze is entered as dates)."
        )
    minutes = _cron_field(minute, 0, 59, "minute")
    hours = _cron_field(hour, 0, 23, "hour")
    if len(minutes) != 1 or len(hours) != 1:
        raise RuleError(f"'{expression}': the minute and the hour must be one number each.")
    days = list(range(7)) if dow == "*" else _cron_field(dow, 0, 7, "day of the week")
    m, h = minutes[0], hours[0]
    return m, h, sorted({_CRON_DOW[d] for d in days}, key=_DAY_ORDER.index)


def rule_from_cron(start_cron: str, end_cron: str, tz: str, *, since: date) -> TimeRule:
    """A weekly rule equal to GitLab's freeze "from ``start_cron`` to ``end_cron`` in ``tz``".

    GitLab: a freeze holds when the last start <= now < the first end after that start. Each
    start day must reach its end after the same length, or the pair is refused.
    """
    zone_get(tz)
    s_min, s_hour, s_days = _cron_parse(start_cron)
    e_min, e_hour, e_days = _cron_parse(end_cron)
    lengths: set[timedelta] = set()
    first_start: datetime | None = None
    for offset in range(7):
        day = since + timedelta(days=offset)
        if _DAY_ORDER[day.weekday()] not in s_days:
            continue
        start = datetime(day.year, day.month, day.day, s_hour, s_min)
        first_start = first_start or start
        for ahead in range(0, 8):
            end_day = day + timedelta(days=ahead)
            end = datetime(end_day.year, end_day.month, end_day.day, e_hour, e_min)
            if end > start and _DAY_ORDER[end_day.weekday()] in e_days:
                lengths.add(end - start)
                break
    if first_start is None or len(lengths) != 1:
        raise RuleError(
            "This cron pair gives freezes of different lengths on different days; "
            "enter it as several freezes."
        )
    (length,) = lengths
    return TimeRule(
        start=first_start,
        end=first_start + length,
        tz=tz,
        rrule=f"FREQ=WEEKLY;BYDAY={','.join(s_days)}",
    )
