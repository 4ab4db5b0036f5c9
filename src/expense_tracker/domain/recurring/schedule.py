"""Schedule maths for recurring expenses: pure functions over dates, no database, no clock.

Every occurrence is computed from the anchor (``start_on``) as "the n-th step", never from the previous occurrence,
so a monthly schedule on the 31st gives 31 Jan, 28/29 Feb, 31 Mar (stepping from 28 Feb would drift to the 28th for
ever). Months and years clamp the day to the month's last day (31 -> 30 Apr, 29 Feb yearly -> 28 Feb in other
years). Plain date arithmetic rather than ``dateutil.rrule``: rrule *skips* months without the day (BYMONTHDAY=31
has no February) instead of clamping.

Time zones only decide which date is "today" (:func:`today_for`): the schedule itself is a series of calendar dates,
so a DST change (a 23- or 25-hour day) can neither skip nor repeat one.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

Unit = Literal["day", "week", "month", "year"]
UNITS: tuple[Unit, ...] = ("day", "week", "month", "year")
LAST_DATE = dt.date(9999, 12, 31)


@dataclass(frozen=True)
class Rule:
    """When a schedule's expenses fall: every ``interval`` ``unit`` from ``start_on`` (inclusive)."""

    unit: Unit
    interval: int
    start_on: dt.date
    day_of_month: int | None = None
    """Months and years: the day to fall on (clamped to the month's length); None = ``start_on``'s day."""
    end_on: dt.date | None = None
    """Last date an occurrence may fall on (inclusive)."""
    max_count: int | None = None
    """At most this many occurrences in all."""

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"unit must be one of {', '.join(UNITS)}")
        if self.interval < 1:
            raise ValueError("interval must be at least 1")
        if self.day_of_month is not None and not 1 <= self.day_of_month <= 31:
            raise ValueError("day_of_month must be 1 to 31")


def _clamped(year: int, month: int, day: int) -> dt.date:
    return dt.date(year, month, min(day, calendar.monthrange(year, month)[1]))


def nth_date(rule: Rule, n: int) -> dt.date | None:
    """The date of step ``n`` (0 = the anchor's own period), or None past year 9999. May fall before ``start_on``
    (a day of month earlier than the start's day): :func:`occurrences` skips those."""
    start = rule.start_on
    try:
        if rule.unit == "day":
            return start + dt.timedelta(days=n * rule.interval)
        if rule.unit == "week":
            return start + dt.timedelta(weeks=n * rule.interval)
    except OverflowError:
        return None
    day = rule.day_of_month or start.day
    if rule.unit == "month":
        index = start.year * 12 + start.month - 1 + n * rule.interval
        year, month = divmod(index, 12)
        month += 1
    else:
        year, month = start.year + n * rule.interval, start.month
    if year > LAST_DATE.year:
        return None
    return _clamped(year, month, day)


def occurrences(rule: Rule, after: dt.date | None = None) -> Iterator[dt.date]:
    """The rule's dates in order, those after ``after`` only (exclusive), honouring ``end_on`` and ``max_count``.

    ``max_count`` counts every occurrence from ``start_on``, including the ones on or before ``after``.
    """
    count = 0
    n = 0
    if after is not None and rule.max_count is None and after > rule.start_on:
        n = _steps_before(rule, after)  # nothing to count: start just before ``after`` instead of at the anchor
    while True:
        date = nth_date(rule, n)
        n += 1
        if date is None or (rule.end_on is not None and date > rule.end_on):
            return
        if date < rule.start_on:
            continue
        count += 1
        if rule.max_count is not None and count > rule.max_count:
            return
        if after is None or date > after:
            yield date


def _steps_before(rule: Rule, day: dt.date) -> int:
    """A step whose date is on or before ``day`` (never past it), so iterating from it misses no date after ``day``."""
    start = rule.start_on
    if rule.unit == "day":
        span = (day - start).days // rule.interval
    elif rule.unit == "week":
        span = (day - start).days // (7 * rule.interval)
    elif rule.unit == "month":
        span = ((day.year - start.year) * 12 + day.month - start.month) // rule.interval
    else:
        span = (day.year - start.year) // rule.interval
    return max(span - 1, 0)


def due(rule: Rule, today: dt.date, after: dt.date | None = None, limit: int | None = None) -> list[dt.date]:
    """The dates after ``after`` that are due on ``today`` (on or before it), at most ``limit`` of them (oldest
    first: a bounded catch-up continues where it stopped)."""
    found: list[dt.date] = []
    for date in occurrences(rule, after):
        if date > today or (limit is not None and len(found) >= limit):
            break
        found.append(date)
    return found


def upcoming(rule: Rule, after: dt.date | None, until: dt.date, limit: int | None = None) -> list[dt.date]:
    """The dates after ``after`` up to ``until`` (inclusive)."""
    return due(rule, until, after, limit)


def today_for(timezone: str, now: dt.datetime) -> dt.date:
    """The calendar date in ``timezone`` at the instant ``now`` (aware): what "due today" means for that user."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(ZoneInfo(timezone)).date()
