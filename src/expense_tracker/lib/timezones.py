"""IANA time zone validation and "today" in a user's zone."""

from __future__ import annotations

import datetime as dt
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from expense_tracker.constants import TIMEZONE_REGIONS


@cache
def timezone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def parse_timezone(value: str) -> str:
    name = value.strip()
    if name not in timezone_names():
        raise ValueError("must be an IANA time zone name such as Europe/Berlin")
    return name


def today_in(timezone: str, now: dt.datetime | None = None) -> dt.date:
    moment = now or dt.datetime.now(dt.UTC)
    return moment.astimezone(ZoneInfo(timezone)).date()


def month_start(day: dt.date, months_back: int = 0) -> dt.date:
    """First day of the calendar month ``months_back`` months before ``day``'s month."""
    index = day.year * 12 + (day.month - 1) - months_back
    return dt.date(index // 12, index % 12 + 1, 1)


def next_month_start(day: dt.date) -> dt.date:
    return month_start(day, months_back=-1)


def same_days_last_month(today: dt.date) -> tuple[dt.date, dt.date]:
    """The 1st to ``today``'s day of the previous month (its last day when that month is shorter): the period
    month-to-date is fairly compared with. On 31 March that is 1-28 (or 29) February."""
    start = month_start(today, 1)
    last_day = next_month_start(start) - dt.timedelta(days=1)
    return start, min(start.replace(day=min(today.day, last_day.day)), last_day)


@cache
def timezone_groups() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The settings page's choice: ``(region, names)`` for each IANA region (Africa, America, ... Pacific), plus UTC.

    Only canonical ``Region/City`` names are offered. Left out: ``Factory``, ``localtime``, ``posixrules``, ``Etc/*``
    (fixed offsets whose sign is inverted, ``Etc/GMT+5`` is UTC-5), the legacy names outside a region (``US/Eastern``,
    ``GB``, ``EST5EDT``...) and, per CLDR's zone aliases (via Babel), old spellings inside one (``Asia/Calcutta`` for
    ``Asia/Kolkata``, ``Europe/Kiev``): each would duplicate a city's zone. They stay valid values
    (:func:`parse_timezone`), so an account that already uses one keeps it; the page then shows it as an extra choice.
    """
    from babel.core import get_global

    names = timezone_names()
    aliases = get_global("zone_aliases")
    grouped: dict[str, list[str]] = {region: [] for region in TIMEZONE_REGIONS}
    for name in names:
        region, _, city = name.partition("/")
        if region in grouped and city and aliases.get(name) not in names:
            grouped[region].append(name)
    return (*((region, tuple(sorted(names))) for region, names in grouped.items() if names), ("UTC", ("UTC",)))
