from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter

from expense_tracker.constants import REPORT_YEAR_MAX, REPORT_YEAR_MIN
from expense_tracker.db.models import User
from expense_tracker.dependencies import Reports, Tags
from expense_tracker.domain.accounts.auth import SESSION_SECURITY
from expense_tracker.domain.reports.deps import Convert, Period, parse_month, provide_period, report_currency
from expense_tracker.domain.reports.schemas import Budget, ByCategory, Monthly, Summary
from expense_tracker.domain.tags.schemas import ByTag
from expense_tracker.lib.timezones import month_start, today_in


class ReportController(Controller):
    path = "/api/reports"
    tags = ["reports"]
    dependencies = {"period": Provide(provide_period)}
    security = SESSION_SECURITY

    @get("/summary", operation_id="reportSummary")
    async def summary(
        self,
        request: Request[User, Any, Any],
        reports: Reports,
        period: NamedDependency[Period],
        convert: Convert = None,
    ) -> Summary:
        """Total, count and average per currency for a period (default: this month); with ``convert``, also the
        total converted to the default currency (``converted``), naming the rates used and what had none."""
        start, end = period
        user = request.user
        wanted = user.convert_totals if convert is None else convert
        return await reports.summary(user.id, start, end, user.currency if wanted else None)

    @get("/by-category", operation_id="reportByCategory")
    async def by_category(
        self,
        request: Request[User, Any, Any],
        reports: Reports,
        period: NamedDependency[Period],
        currency: Annotated[str | None, QueryParameter(description="Default: the user's currency.")] = None,
        convert: Convert = None,
    ) -> ByCategory:
        """Sum, count and share of the period's total per category, in one currency; ``other_currencies`` lists what
        the period holds in other currencies. With ``convert``, every currency converted into ``currency``."""
        start, end = period
        user = request.user
        base = user.currency if (user.convert_totals if convert is None else convert) else None
        return await reports.by_category(user.id, start, end, report_currency(user, currency), base)

    @get("/monthly", operation_id="reportMonthly")
    async def monthly(
        self,
        request: Request[User, Any, Any],
        reports: Reports,
        months: Annotated[int, QueryParameter(ge=1, le=60)] = 12,
        currency: Annotated[str | None, QueryParameter()] = None,
        convert: Convert = None,
    ) -> Monthly:
        """Totals for the last ``months`` calendar months in the user's time zone, zero-filled, in one currency
        (``other_currencies`` lists the rest) or, with ``convert``, every currency converted into it."""
        user = request.user
        base = user.currency if (user.convert_totals if convert is None else convert) else None
        today = today_in(user.timezone)
        return await reports.monthly(user.id, today, months, report_currency(user, currency), base)

    @get("/budget", operation_id="reportBudget")
    async def budget(
        self,
        request: Request[User, Any, Any],
        reports: Reports,
        month: Annotated[
            str | None,
            QueryParameter(
                description=f"YYYY-MM, years {REPORT_YEAR_MIN} to {REPORT_YEAR_MAX}; default: the current month.",
                pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$",
            ),
        ] = None,
        currency: Annotated[str | None, QueryParameter()] = None,
    ) -> Budget:
        """Budget against spending per category for one calendar month. Each line is in its budget's currency:
        spending in other currencies is converted where a rate exists, else listed in ``not_converted``."""
        user = request.user
        first = month_start(today_in(user.timezone)) if month is None else parse_month(month)
        return await reports.budget(user.id, first, report_currency(user, currency), user.currency)

    @get("/by-tag", operation_id="reportByTag")
    async def by_tag(self, request: Request[User, Any, Any], tags: Tags, period: NamedDependency[Period]) -> ByTag:
        """Sum and count per tag and currency for a period (default: this month), never converted. An expense with
        two tags counts in both, so the lines can add up to more than the period's total; ``untagged`` lists, per
        currency, the expenses without a tag."""
        start, end = period
        return await tags.by_tag(request.user.id, start, end)
