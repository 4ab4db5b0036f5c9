from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import QueryParameter
from litestar.response import Template

from expense_tracker.constants import REPORT_YEAR_MAX, REPORT_YEAR_MIN
from expense_tracker.db.models import User
from expense_tracker.dependencies import Budgets, Reports, Tags
from expense_tracker.domain.reports.deps import parse_month, report_period
from expense_tracker.domain.web.common import HTML_OPT, render, with_query
from expense_tracker.lib.charts import NARROW_WIDTH, Bar, bar_chart, column_chart, responsive
from expense_tracker.lib.formatting import axis_money, day, money, month_label, month_short, month_title, year_label
from expense_tracker.lib.problems import FieldValidationError
from expense_tracker.lib.timezones import month_start, today_in


def _month_links(month: dt.date, date_from: str | None, date_to: str | None) -> list[tuple[str, str, str]]:
    """(rel, label, href) for the budget's previous and next months, keeping the page's period; none past the years
    the reports accept."""
    links = []
    for rel, other in (("prev", month_start(month, 1)), ("next", month_start(month, -1))):
        if REPORT_YEAR_MIN <= other.year <= REPORT_YEAR_MAX:
            href = with_query("/reports", {"from": date_from, "to": date_to, "month": f"{other:%Y-%m}"})
            links.append((rel, month_title(other), href))
    return links


class ReportPages(Controller):
    include_in_schema = False
    opt = HTML_OPT

    @get("/reports")
    async def reports(
        self,
        request: Request[User, Any, Any],
        reports: Reports,
        budgets: Budgets,
        tags: Tags,
        date_from: Annotated[str | None, QueryParameter(name="from")] = None,
        date_to: Annotated[str | None, QueryParameter(name="to")] = None,
        month: Annotated[str | None, QueryParameter(name="month")] = None,
    ) -> Template:
        user = request.user
        today = today_in(user.timezone)
        # Each parameter on its own: a bad one is shown next to its field (400, the page with the defaults in its
        # place), never a dead-end error page; the others still apply.
        errors: dict[str, str] = {}
        try:
            start, end = report_period(user, date_from, date_to)
        except FieldValidationError as exc:
            errors |= exc.by_field()
            start, end = report_period(user, None, None)
        budget_month = month_start(today)
        if month and month.strip():
            try:
                budget_month = parse_month(month.strip())
            except FieldValidationError as exc:
                errors |= exc.by_field()
        rates_base = user.currency if user.convert_totals else None
        monthly = await reports.monthly(user.id, today, 12, user.currency, rates_base)
        by_category = await reports.by_category(user.id, start, end, user.currency, rates_base)
        # Budget history and rollover (domain/budgets): the budget in force that month plus what was carried in.
        budget = await budgets.month(user.id, budget_month, user.currency)
        by_tag = await tags.by_tag(user.id, start, end)
        year_total = sum((m.total for m in monthly.months), Decimal(0))
        # Charts say which currency they show: converted, or that currency only (the others are listed beside them).
        shown = f"converted to {user.currency}" if rates_base else f"{user.currency} only"
        months = [
            Bar(
                month_label(m.month),
                m.total,
                money(m.total, user.currency),
                tick=month_short(m.month),
                group=year_label(m.month),
            )
            for m in monthly.months
        ]
        trend_title = f"Spending per month, last 12 months ({shown})"
        trend_desc = f"Total over the 12 months: {money(year_total, user.currency)}."

        def axis(value: Decimal) -> str:
            return axis_money(value, user.currency)

        trend = responsive(
            column_chart(months, trend_title, trend_desc, "trend", axis_label=axis),
            column_chart(months, trend_title, trend_desc, "trend-narrow", axis_label=axis, width=NARROW_WIDTH),
        )
        categories = [Bar(c.name, c.total, money(c.total, user.currency), c.color) for c in by_category.categories]
        split_title = f"Spending by category, {day(start)} to {day(end)} ({shown})"
        split_desc = f"Total: {money(by_category.total, user.currency)}."
        split = responsive(
            bar_chart(categories, split_title, split_desc, "by-category"),
            bar_chart(categories, split_title, split_desc, "by-category-narrow", narrow=True),
        )
        return render(
            request,
            "reports.html",
            monthly=monthly,
            by_category=by_category,
            by_tag=by_tag,
            budget=budget,
            trend_svg=trend,
            split_svg=split,
            start=start,
            end=end,
            budget_month=month_title(budget_month),
            budget_nav=_month_links(budget_month, *((None, None) if errors else (date_from, date_to))),
            errors=errors,
            form={
                "from": date_from if errors else start.isoformat(),
                "to": date_to if errors else end.isoformat(),
                "month": month if errors.get("month") else f"{budget_month:%Y-%m}",
            },
            status_code=400 if errors else 200,
        )
