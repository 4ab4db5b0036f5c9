"""Schedule maths (domain/recurring/schedule.py): literal dates over month ends, leap years, DST, far time zones."""

from __future__ import annotations

import datetime as dt
from itertools import islice
from zoneinfo import ZoneInfo

import pytest

from expense_tracker.domain.recurring.schedule import Rule, due, occurrences, today_for, upcoming

D = dt.date


def first(rule: Rule, count: int, after: dt.date | None = None) -> list[dt.date]:
    return list(islice(occurrences(rule, after), count))


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        # Monthly on the 31st: clamped to each month's last day, back to the 31st when there is one (no drift).
        (
            Rule("month", 1, D(2025, 1, 31)),
            [D(2025, 1, 31), D(2025, 2, 28), D(2025, 3, 31), D(2025, 4, 30), D(2025, 5, 31)],
        ),
        # The same in a leap year: 29 February.
        (Rule("month", 1, D(2024, 1, 31)), [D(2024, 1, 31), D(2024, 2, 29), D(2024, 3, 31), D(2024, 4, 30)]),
        # Explicit day 30 from a start on the 15th: the first occurrence is the 30th of the start month.
        (
            Rule("month", 1, D(2026, 1, 15), day_of_month=30),
            [D(2026, 1, 30), D(2026, 2, 28), D(2026, 3, 30), D(2026, 4, 30)],
        ),
        # A day before the start's day: the start month has none (it would be before the start).
        (Rule("month", 1, D(2026, 1, 20), day_of_month=5), [D(2026, 2, 5), D(2026, 3, 5), D(2026, 4, 5)]),
        # Every 3 months on the 31st, across a year end.
        (
            Rule("month", 3, D(2025, 8, 31)),
            [D(2025, 8, 31), D(2025, 11, 30), D(2026, 2, 28), D(2026, 5, 31), D(2026, 8, 31)],
        ),
        # Yearly on 29 February: 28 February in common years, 29 again in the next leap year.
        (
            Rule("year", 1, D(2024, 2, 29)),
            [D(2024, 2, 29), D(2025, 2, 28), D(2026, 2, 28), D(2027, 2, 28), D(2028, 2, 29)],
        ),
        # Every 2 years.
        (Rule("year", 2, D(2025, 6, 1)), [D(2025, 6, 1), D(2027, 6, 1), D(2029, 6, 1)]),
        # Weekly and fortnightly, across a month and a year end.
        (Rule("week", 1, D(2025, 12, 24)), [D(2025, 12, 24), D(2025, 12, 31), D(2026, 1, 7)]),
        (Rule("week", 2, D(2026, 2, 19)), [D(2026, 2, 19), D(2026, 3, 5), D(2026, 3, 19)]),
        # Daily over 28/29 February, every 10 days.
        (Rule("day", 1, D(2024, 2, 28)), [D(2024, 2, 28), D(2024, 2, 29), D(2024, 3, 1)]),
        (Rule("day", 10, D(2025, 2, 25)), [D(2025, 2, 25), D(2025, 3, 7), D(2025, 3, 17)]),
    ],
)
def test_occurrences(rule: Rule, expected: list[dt.date]) -> None:
    assert first(rule, len(expected)) == expected


def test_end_date_and_count_bound_the_series() -> None:
    assert first(Rule("month", 1, D(2026, 1, 31), end_on=D(2026, 4, 29)), 10) == [
        D(2026, 1, 31),
        D(2026, 2, 28),
        D(2026, 3, 31),
    ]
    assert first(Rule("week", 1, D(2026, 1, 1), max_count=3), 10) == [D(2026, 1, 1), D(2026, 1, 8), D(2026, 1, 15)]
    # The count includes occurrences before ``after``.
    assert first(Rule("week", 1, D(2026, 1, 1), max_count=3), 10, after=D(2026, 1, 8)) == [D(2026, 1, 15)]
    # The end date is inclusive.
    assert first(Rule("day", 1, D(2026, 1, 1), end_on=D(2026, 1, 2)), 10) == [D(2026, 1, 1), D(2026, 1, 2)]


def test_series_stops_at_year_9999() -> None:
    assert first(Rule("year", 5000, D(2026, 1, 1)), 10) == [D(2026, 1, 1), D(7026, 1, 1)]
    assert first(Rule("day", 1000, D(9999, 1, 1)), 10) == [D(9999, 1, 1)]


def test_due_is_bounded_and_resumes_after_the_last_created() -> None:
    rule = Rule("month", 1, D(2025, 1, 31))
    assert due(rule, D(2025, 4, 29)) == [D(2025, 1, 31), D(2025, 2, 28), D(2025, 3, 31)]
    assert due(rule, D(2025, 4, 30)) == [D(2025, 1, 31), D(2025, 2, 28), D(2025, 3, 31), D(2025, 4, 30)]
    assert due(rule, D(2025, 12, 31), limit=2) == [D(2025, 1, 31), D(2025, 2, 28)]
    assert due(rule, D(2025, 12, 31), after=D(2025, 2, 28), limit=2) == [D(2025, 3, 31), D(2025, 4, 30)]
    assert due(rule, D(2025, 1, 30)) == []
    assert upcoming(rule, D(2025, 3, 31), D(2025, 6, 1)) == [D(2025, 4, 30), D(2025, 5, 31)]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"unit": "hour"}, "unit"),
        ({"interval": 0}, "interval"),
        ({"day_of_month": 32}, "day_of_month"),
        ({"day_of_month": 0}, "day_of_month"),
    ],
)
def test_invalid_rules_are_refused(bad: dict[str, object], message: str) -> None:
    values: dict[str, object] = {"unit": "day", "interval": 1, "start_on": D(2026, 1, 1), **bad}
    with pytest.raises(ValueError, match=message):
        Rule(**values)  # type: ignore[arg-type]


def _runs(zone: str, rule: Rule, start_utc: dt.datetime, hours: int) -> dict[dt.date, dt.datetime]:
    """A runner every 15 minutes for ``hours``: the local time at which each date was first due."""
    created: dict[dt.date, dt.datetime] = {}
    last: dt.date | None = None
    moment = start_utc
    while moment < start_utc + dt.timedelta(hours=hours):
        for date in due(rule, today_for(zone, moment), after=last):
            assert date not in created, f"{date} created twice"
            created[date] = moment.astimezone(ZoneInfo(zone))
            last = date
        moment += dt.timedelta(minutes=15)
    return created


@pytest.mark.parametrize(
    ("zone", "start_utc"),
    [
        # Spring forward: 2026-03-08 02:00 -> 03:00 in New York; fall back: 2026-11-01 02:00 -> 01:00.
        ("America/New_York", dt.datetime(2026, 3, 6, 12, tzinfo=dt.UTC)),
        ("America/New_York", dt.datetime(2026, 10, 30, 12, tzinfo=dt.UTC)),
        # Berlin: 2026-03-29 02:00 -> 03:00 and 2026-10-25 03:00 -> 02:00.
        ("Europe/Berlin", dt.datetime(2026, 3, 27, 12, tzinfo=dt.UTC)),
        ("Europe/Berlin", dt.datetime(2026, 10, 23, 12, tzinfo=dt.UTC)),
    ],
)
def test_daily_schedule_across_dst_changes_creates_each_day_once_just_after_local_midnight(
    zone: str, start_utc: dt.datetime
) -> None:
    local_start = start_utc.astimezone(ZoneInfo(zone)).date()
    rule = Rule("day", 1, local_start)
    created = _runs(zone, rule, start_utc, hours=5 * 24)
    # Every calendar day exactly once, none skipped on the 23-hour day nor repeated on the 25-hour one.
    assert list(created) == [local_start + dt.timedelta(days=i) for i in range(len(created))]
    assert len(created) == 6  # the start day and the five midnights that follow
    for date, seen in list(created.items())[1:]:
        assert seen.date() == date, (date, seen)
        assert seen.time() < dt.time(0, 15), (date, seen)


def test_dst_day_in_the_literal_new_york_series() -> None:
    rule = Rule("day", 1, D(2026, 3, 7))
    created = _runs("America/New_York", rule, dt.datetime(2026, 3, 7, 5, tzinfo=dt.UTC), hours=72)
    assert list(created) == [D(2026, 3, 7), D(2026, 3, 8), D(2026, 3, 9), D(2026, 3, 10)]
    # 8 March starts at 05:00 UTC (EST), 9 March at 04:00 UTC (EDT): each first due at 00:00 local.
    assert created[D(2026, 3, 8)].astimezone(dt.UTC) == dt.datetime(2026, 3, 8, 5, tzinfo=dt.UTC)
    assert created[D(2026, 3, 9)].astimezone(dt.UTC) == dt.datetime(2026, 3, 9, 4, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("zone", "now_utc", "today"),
    [
        # UTC+14: already the next day from 10:00 UTC.
        ("Pacific/Kiritimati", dt.datetime(2026, 2, 28, 9, 59, tzinfo=dt.UTC), D(2026, 2, 28)),
        ("Pacific/Kiritimati", dt.datetime(2026, 2, 28, 10, 0, tzinfo=dt.UTC), D(2026, 3, 1)),
        # UTC-11: still the previous day until 11:00 UTC.
        ("Pacific/Pago_Pago", dt.datetime(2026, 3, 1, 10, 59, tzinfo=dt.UTC), D(2026, 2, 28)),
        ("Pacific/Pago_Pago", dt.datetime(2026, 3, 1, 11, 0, tzinfo=dt.UTC), D(2026, 3, 1)),
    ],
)
def test_due_in_far_time_zones_around_midnight(zone: str, now_utc: dt.datetime, today: dt.date) -> None:
    assert today_for(zone, now_utc) == today
    rule = Rule("month", 1, D(2026, 1, 1))  # on the 1st
    expected = [D(2026, 1, 1), D(2026, 2, 1)] + ([D(2026, 3, 1)] if today == D(2026, 3, 1) else [])
    assert due(rule, today_for(zone, now_utc)) == expected


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        today_for("UTC", dt.datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("rule", "after", "expected"),
    [
        (Rule("day", 3, D(1900, 1, 1)), D(2026, 3, 1), [D(2026, 3, 4), D(2026, 3, 7)]),
        (Rule("week", 2, D(1900, 1, 1)), D(2026, 3, 1), [D(2026, 3, 9), D(2026, 3, 23)]),
        (Rule("month", 1, D(1900, 1, 31)), D(2026, 2, 27), [D(2026, 2, 28), D(2026, 3, 31)]),
        (Rule("month", 1, D(1900, 1, 31)), D(2026, 2, 28), [D(2026, 3, 31), D(2026, 4, 30)]),
        (Rule("month", 5, D(1900, 1, 31), day_of_month=30), D(2026, 1, 1), [D(2026, 4, 30), D(2026, 9, 30)]),
        (Rule("year", 4, D(1904, 2, 29)), D(2024, 2, 28), [D(2024, 2, 29), D(2028, 2, 29)]),
        (Rule("year", 1, D(1904, 2, 29)), D(2025, 1, 1), [D(2025, 2, 28), D(2026, 2, 28)]),
    ],
)
def test_occurrences_after_a_date_long_after_the_start(rule: Rule, after: dt.date, expected: list[dt.date]) -> None:
    """Jumping close to ``after`` (not stepping from 1900) gives exactly the dates stepping would."""
    assert first(rule, 2, after) == expected
    # A count (even a huge one) makes the series step from the anchor: the same dates.
    counted = Rule(rule.unit, rule.interval, rule.start_on, rule.day_of_month, max_count=10**9)
    assert first(counted, 2, after) == expected
