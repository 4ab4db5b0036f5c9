"""Request parameters of the reports, shared by the JSON API and the reports page."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from litestar import Request
from litestar.params import QueryParameter

from expense_tracker.constants import REPORT_YEAR_MAX, REPORT_YEAR_MIN
from expense_tracker.db.models import User
from expense_tracker.lib.money import parse_currency
from expense_tracker.lib.problems import FieldValidationError
from expense_tracker.lib.query import parse_range
from expense_tracker.lib.timezones import month_start, today_in

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")

Period = tuple[dt.date, dt.date]
Convert = Annotated[
    bool | None,
    QueryParameter(
        description="Convert every currency to the default currency with your exchange rates. "
        "Default: your convert_totals setting."
    ),
]


def report_period(user: User, date_from: str | None, date_to: str | None) -> Period:
    """The report period; defaults to the current calendar month in the user's time zone."""
    today = today_in(user.timezone)
    first = month_start(today)
    start, end = parse_range(date_from, date_to, default_from=first, default_to=today)
    return start or first, end or today


async def provide_period(
    request: Request[User, Any, Any],
    # Strings parsed here, not ``dt.date``: Litestar's lax conversion would read the text "null" as no date.
    date_from: Annotated[
        str | None, QueryParameter(name="from", format="date", description="YYYY-MM-DD. Default: 1st of this month.")
    ] = None,
    date_to: Annotated[
        str | None, QueryParameter(name="to", format="date", description="YYYY-MM-DD, inclusive. Default: today.")
    ] = None,
) -> Period:
    return report_period(request.user, date_from, date_to)


def parse_month(raw: str) -> dt.date:
    """``YYYY-MM`` -> its first day; the year is bounded so the next month's first day always exists."""
    match = _MONTH.match(raw)
    if not match or not REPORT_YEAR_MIN <= int(match[1]) <= REPORT_YEAR_MAX:
        raise FieldValidationError(
            [{"field": "month", "message": f"must be YYYY-MM, years {REPORT_YEAR_MIN} to {REPORT_YEAR_MAX}"}]
        )
    return dt.date(int(match[1]), int(match[2]), 1)


def report_currency(user: User, currency: str | None) -> str:
    if not currency:
        return user.currency
    try:
        return parse_currency(currency)
    except ValueError as exc:
        raise FieldValidationError([{"field": "currency", "message": str(exc)}]) from None
