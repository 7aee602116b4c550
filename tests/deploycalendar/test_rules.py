"""The pure time rules: GitLab's cron vectors, daylight saving, half-open edges, bounds."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from deploycalendar.rules import (
    MAX_OCCURRENCES,
    RuleError,
    TimeRule,
    active_at,
    evaluate,
    localize,
    occurrences,
    rule_from_cron,
    rule_summary,
    rule_validate,
    wall_time_note,
    zone_get,
)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def weekend(tz: str) -> TimeRule:
    # Friday 18:00 to Monday 08:00, every week, from a Friday in January.
    return TimeRule(
        start=datetime(2026, 1, 2, 18, 0),
        end=datetime(2026, 1, 5, 8, 0),
        tz=tz,
        rrule="FREQ=WEEKLY;BYDAY=FR",
    )


class TestGitLabCronVectors:
    rule = rule_from_cron("0 23 * * 5", "0 7 * * 1", "UTC", since=date(2025, 12, 29))

    @pytest.mark.parametrize(
        "instant", ["2026-01-03T12:00", "2026-01-05T06:59", "2026-01-02T23:00"]
    )
    def test_active(self, instant):
        assert active_at(self.rule, utc(instant)) is not None

    @pytest.mark.parametrize(
        "instant", ["2026-01-05T07:01", "2026-01-08T12:00", "2026-01-05T07:00", "2026-01-02T22:59"]
    )
    def test_not_active(self, instant):
        assert active_at(self.rule, utc(instant)) is None

    def test_the_pair_becomes_a_weekly_rule(self):
        assert self.rule.rrule == "FREQ=WEEKLY;BYDAY=FR"
        assert self.rule.end - self.rule.start == timedelta(hours=56)

    @pytest.mark.parametrize(
        "start,end",
        [
            ("0 23 1 * 5", "0 7 * * 1"),
            ("x 23 * * 5", "0 7 * * 1"),
            ("0 23 * *", "0 7 * * 1"),
            ("0 23 * * 1,5", "0 7 * * 1"),
            ("0 24 * * 5", "0 7 * * 1"),
        ],
    )
    def test_bad_pairs_are_refused_with_a_sentence(self, start, end):
        with pytest.raises(RuleError):
            rule_from_cron(start, end, "UTC", since=date(2026, 1, 1))


class TestDaylightSaving:
    def test_berlin_weekend_ends_at_local_eight_after_spring_forward(self):
        # Summer time begins Sun 2026-03-29; Monday 08:00 CEST is 06:00 UTC.
        rule = weekend("Europe/Berlin")
        assert active_at(rule, utc("2026-03-30T05:30")) is not None
        assert active_at(rule, utc("2026-03-30T06:30")) is None
        # The start was still in winter time: Fri 18:00 CET is 17:00 UTC.
        assert active_at(rule, utc("2026-03-27T16:59")) is None
        assert active_at(rule, utc("2026-03-27T17:00")) is not None

    def test_new_york_weekend_across_its_own_change(self):
        # Summer time begins Sun 2026-03-08; Monday 08:00 EDT is 12:00 UTC.
        rule = weekend("America/New_York")
        assert active_at(rule, utc("2026-03-09T11:30")) is not None
        assert active_at(rule, utc("2026-03-09T12:30")) is None
        # Fri 18:00 EST is 23:00 UTC.
        assert active_at(rule, utc("2026-03-06T22:59")) is None
        assert active_at(rule, utc("2026-03-06T23:00")) is not None

    def test_autumn_weekend_ends_at_local_eight(self):
        # Winter time begins Sun 2026-10-25; Monday 08:00 CET is 07:00 UTC.
        rule = weekend("Europe/Berlin")
        assert active_at(rule, utc("2026-10-26T06:59")) is not None
        assert active_at(rule, utc("2026-10-26T07:00")) is None

    def test_a_time_in_the_gap_moves_forward(self):
        berlin = ZoneInfo("Europe/Berlin")
        resolved = localize(datetime(2026, 3, 29, 2, 30), berlin)
        assert resolved.astimezone(UTC) == utc("2026-03-29T01:30")
        assert resolved.strftime("%H:%M %Z") == "03:30 CEST"
        assert "does not exist" in wall_time_note(datetime(2026, 3, 29, 2, 30), "Europe/Berlin")

    def test_a_time_in_the_fold_is_the_first(self):
        berlin = ZoneInfo("Europe/Berlin")
        resolved = localize(datetime(2026, 10, 25, 2, 30), berlin)
        assert resolved.astimezone(UTC) == utc("2026-10-25T00:30")
        assert "happens twice" in wall_time_note(datetime(2026, 10, 25, 2, 30), "Europe/Berlin")
        assert wall_time_note(datetime(2026, 10, 26, 2, 30), "Europe/Berlin") == ""

    def test_a_daily_window_at_the_gap_opens_once_that_day(self):
        rule = TimeRule(
            start=datetime(2026, 3, 27, 2, 30),
            end=datetime(2026, 3, 27, 3, 30),
            tz="Europe/Berlin",
            rrule="FREQ=DAILY",
        )
        day = occurrences(rule, utc("2026-03-28T22:00"), utc("2026-03-29T22:00"))
        # 02:30-03:30 lies wholly in that day's gap: both ends read as 03:30, so it is empty.
        assert day == []
        assert len(occurrences(rule, utc("2026-03-29T22:00"), utc("2026-03-30T22:00"))) == 1


class TestHalfOpenAndEdges:
    def test_across_midnight(self):
        rule = TimeRule(
            start=datetime(2026, 1, 1, 22, 0),
            end=datetime(2026, 1, 2, 2, 0),
            tz="UTC",
            rrule="FREQ=DAILY",
        )
        assert active_at(rule, utc("2026-02-10T23:59")) is not None
        assert active_at(rule, utc("2026-02-11T01:59")) is not None
        assert active_at(rule, utc("2026-02-11T02:00")) is None
        assert active_at(rule, utc("2026-02-10T22:00")) is not None
        assert active_at(rule, utc("2026-02-10T21:59:59")) is None

    def test_across_the_years_end(self):
        rule = TimeRule(
            start=datetime(2025, 12, 20, 0, 0),
            end=datetime(2026, 1, 5, 6, 0),
            tz="Europe/Berlin",
            rrule="FREQ=YEARLY",
        )
        assert active_at(rule, utc("2026-12-31T12:00")) is not None
        assert active_at(rule, utc("2027-01-05T04:59")) is not None
        assert active_at(rule, utc("2027-01-05T05:00")) is None  # 06:00 CET
        assert active_at(rule, utc("2026-12-19T22:59")) is None
        assert active_at(rule, utc("2026-12-19T23:00")) is not None
        assert rule_summary(rule) == "every year 20 Dec 00:00 to 5 Jan 06:00 Europe/Berlin"

    def test_one_off_edges(self):
        rule = TimeRule(start=datetime(2026, 5, 1, 9), end=datetime(2026, 5, 1, 10), tz="UTC")
        assert active_at(rule, utc("2026-05-01T09:00")) is not None
        assert active_at(rule, utc("2026-05-01T09:59:59.999999")) is not None
        assert active_at(rule, utc("2026-05-01T10:00")) is None
        assert active_at(rule, utc("2026-05-01T08:59:59")) is None

    def test_exdates_skip_an_occurrence(self):
        rule = TimeRule(
            start=datetime(2026, 1, 2, 18),
            end=datetime(2026, 1, 5, 8),
            tz="UTC",
            rrule="FREQ=WEEKLY;BYDAY=FR",
            exdates=(datetime(2026, 1, 9, 18),),
        )
        assert active_at(rule, utc("2026-01-10T12:00")) is None
        assert active_at(rule, utc("2026-01-17T12:00")) is not None


class TestEvaluate:
    window = TimeRule(
        start=datetime(2026, 1, 6, 10),
        end=datetime(2026, 1, 6, 16),
        tz="Europe/Berlin",
        rrule="FREQ=WEEKLY;BYDAY=TU,WE,TH",
    )

    def test_inside_the_window(self):
        verdict = evaluate(utc("2026-01-07T10:00"), windows=[("w", self.window)], freezes=[])
        assert verdict.allowed

    def test_outside_gives_the_next_opening(self):
        verdict = evaluate(utc("2026-01-08T15:00"), windows=[("w", self.window)], freezes=[])
        assert not verdict.allowed and verdict.outside_windows
        assert verdict.next_opening == utc("2026-01-13T09:00")

    def test_deny_beats_allow_and_the_opening_skips_the_freeze(self):
        freeze = TimeRule(
            start=datetime(2026, 1, 13), end=datetime(2026, 1, 14, 12), tz="Europe/Berlin"
        )
        verdict = evaluate(
            utc("2026-01-07T10:00"), windows=[("w", self.window)], freezes=[("f", freeze)]
        )
        assert verdict.allowed
        verdict = evaluate(
            utc("2026-01-13T10:00"), windows=[("w", self.window)], freezes=[("f", freeze)]
        )
        assert not verdict.allowed and verdict.freeze == "f"
        assert verdict.next_opening == utc("2026-01-14T11:00")

    def test_no_window_no_restriction(self):
        assert evaluate(utc("2026-01-10T03:00"), windows=[], freezes=[]).allowed

    def test_never_opening_is_none(self):
        freeze = TimeRule(
            start=datetime(2020, 1, 1), end=datetime(2020, 1, 2), tz="UTC", rrule="FREQ=DAILY"
        )
        verdict = evaluate(utc("2026-01-10T03:00"), windows=[], freezes=[("f", freeze)])
        assert not verdict.allowed and verdict.next_opening is None
        assert rule_summary(self.window) == "Tue–Thu 10:00–16:00 Europe/Berlin"


class TestBadInput:
    def test_unknown_zone(self):
        with pytest.raises(RuleError, match="IANA"):
            zone_get("Mars/Olympus")
        assert rule_validate(TimeRule(datetime(2026, 1, 1), datetime(2026, 1, 2), "Nowhere"))

    def test_end_before_start_and_zero_length(self):
        assert (
            "after the start"
            in rule_validate(TimeRule(datetime(2026, 1, 2), datetime(2026, 1, 1), "UTC"))[0]
        )
        assert rule_validate(TimeRule(datetime(2026, 1, 1), datetime(2026, 1, 1), "UTC"))

    @pytest.mark.parametrize(
        "text",
        [
            "FREQ=SOMETIMES",
            "FREQ=WEEKLY;BYDAY=XX",
            "nonsense",
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
        ],
    )
    def test_impossible_or_unreadable_recurrence(self, text):
        assert rule_validate(TimeRule(datetime(2026, 1, 1), datetime(2026, 1, 1, 1), "UTC", text))

    def test_overlapping_recurrence(self):
        assert rule_validate(
            TimeRule(datetime(2026, 1, 1), datetime(2026, 1, 3), "UTC", "FREQ=DAILY")
        )

    def test_end_that_vanishes_in_the_gap(self):
        assert rule_validate(
            TimeRule(datetime(2026, 3, 29, 2, 0), datetime(2026, 3, 29, 3, 0), "Europe/Berlin")
        )

    def test_expansion_is_bounded(self):
        rule = TimeRule(
            datetime(2026, 1, 1), datetime(2026, 1, 1, 0, 1), "UTC", "FREQ=MINUTELY;INTERVAL=2"
        )
        assert (
            len(occurrences(rule, utc("2026-01-01T00:00"), utc("2027-01-01T00:00")))
            <= MAX_OCCURRENCES
        )
