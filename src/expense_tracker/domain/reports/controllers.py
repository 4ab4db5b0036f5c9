from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter

from expense_tracker.constants import REPORT_YEAR_MAX, REPORT_YEAR_MIN
from expense_tracker.db.models import User
from expense_tracker.dependencies import DbSession
from expense_tracker.domain.accounts.auth import SESSION_SECURITY
from expense_tracker.domain.reports.schemas import Budget, ByCategory, Monthly, Summary
from expense_tracker.domain.reports.services import ReportService
from expense_tracker.lib.money import parse_currency
from expense_tracker.lib.problems import FieldValidationError
from expense_tracker.lib.query import DATE_MESSAGE, optional, parse_date
from expense_tracker.lib.timezones import month_start, today_in

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


Period = tuple[dt.date, dt.date]


def report_period(user: User, date_from: str | None, date_to: str | None) -> Period:
    """The report period; defaults to the current calendar month in the user's time zone."""
    today = today_in(user.timezone)
    start = optional("from", date_from, parse_date, DATE_MESSAGE) or month_start(today)
    end = optional("to", date_to, parse_date, DATE_MESSAGE) or today
    if start > end:
        raise FieldValidationError([{"field": "from", "message": "must not be after 'to'"}])
    return start, end


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


class ReportController(Controller):
    path = "/api/reports"
    tags = ["reports"]
    dependencies = {"period": Provide(provide_period)}
    security = SESSION_SECURITY

    @get("/summary", operation_id="reportSummary")
    async def summary(
        self,
        request: Request[User, Any, Any],
        db_session: DbSession,
        period: NamedDependency[Period],
    ) -> Summary:
        """Total, count and average per currency for a period (default: this month)."""
        start, end = period
        return await ReportService(db_session).summary(request.user.id, start, end)

    @get("/by-category", operation_id="reportByCategory")
    async def by_category(
        self,
        request: Request[User, Any, Any],
        db_session: DbSession,
        period: NamedDependency[Period],
        currency: Annotated[str | None, QueryParameter(description="Default: the user's currency.")] = None,
    ) -> ByCategory:
        """Sum, count and share of the period's total per category, in one currency."""
        start, end = period
        return await ReportService(db_session).by_category(
            request.user.id, start, end, report_currency(request.user, currency)
        )

    @get("/monthly", operation_id="reportMonthly")
    async def monthly(
        self,
        request: Request[User, Any, Any],
        db_session: DbSession,
        months: Annotated[int, QueryParameter(ge=1, le=60)] = 12,
        currency: Annotated[str | None, QueryParameter()] = None,
    ) -> Monthly:
        """Totals for the last ``months`` calendar months in the user's time zone, zero-filled."""
        user = request.user
        return await ReportService(db_session).monthly(
            user.id, today_in(user.timezone), months, report_currency(user, currency)
        )

    @get("/budget", operation_id="reportBudget")
    async def budget(
        self,
        request: Request[User, Any, Any],
        db_session: DbSession,
        month: Annotated[
            str | None,
            QueryParameter(
                description=f"YYYY-MM, years {REPORT_YEAR_MIN} to {REPORT_YEAR_MAX}; default: the current month.",
                pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$",
            ),
        ] = None,
        currency: Annotated[str | None, QueryParameter()] = None,
    ) -> Budget:
        """Budget against spending per category for one calendar month."""
        user = request.user
        first = month_start(today_in(user.timezone)) if month is None else parse_month(month)
        return await ReportService(db_session).budget(user.id, first, report_currency(user, currency))
