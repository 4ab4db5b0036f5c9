"""The budgets pages: one month's budgets with rollover (set a budget from a month on), and the year view."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template

from expense_tracker.constants import REPORT_YEAR_MAX, REPORT_YEAR_MIN
from expense_tracker.db.models import User
from expense_tracker.dependencies import Budgets
from expense_tracker.domain.budgets.deps import parse_budget_month, parse_year
from expense_tracker.domain.budgets.schemas import BudgetSet
from expense_tracker.domain.web.common import HTML_OPT, render, see_other, with_query
from expense_tracker.domain.web.forms import local_amount, parse_form
from expense_tracker.lib.formatting import month_title
from expense_tracker.lib.locales import current_locale, input_amount
from expense_tracker.lib.problems import FieldValidationError
from expense_tracker.lib.timezones import month_start, today_in


def month_links(path: str, month: dt.date, extra: dict[str, Any] | None = None) -> list[tuple[str, str, str]]:
    """(rel, label, href) for the previous and next months of a page showing ``month``; none past the years the
    reports accept."""
    links = []
    for rel, other in (("prev", month_start(month, 1)), ("next", month_start(month, -1))):
        if REPORT_YEAR_MIN <= other.year <= REPORT_YEAR_MAX:
            links.append((rel, month_title(other), with_query(path, {**(extra or {}), "month": f"{other:%Y-%m}"})))
    return links


def read_month(raw: str | None, today: dt.date) -> tuple[dt.date, dict[str, str]]:
    """The page's month (default: ``today``'s) or, when ``raw`` is bad, the current month and the error for it."""
    try:
        return parse_budget_month(raw, today), {}
    except FieldValidationError as exc:
        return month_start(today), exc.by_field()


class BudgetPages(Controller):
    path = "/budgets"
    include_in_schema = False
    opt = HTML_OPT

    async def _month_page(
        self,
        request: Request[User, Any, Any],
        budgets: Budgets,
        month: dt.date,
        status_code: int = 200,
        errors: dict[str, str] | None = None,
        error_for: str | None = None,
        edit_form: dict[str, Any] | None = None,
        month_raw: str | None = None,
    ) -> Template:
        user = request.user
        report = await budgets.month(user.id, month, user.currency)
        histories = await budgets.histories(user.id)
        locale = current_locale.get()
        forms = {
            str(line.category_id): {
                "amount": input_amount(line.budget, locale) if line.budget is not None else "",
                "currency": line.currency if line.budget is not None else "",
                "rollover": "yes" if line.rollover else "",
                "from": f"{month:%Y-%m}",
            }
            for line in report.lines
        }
        if error_for is not None and edit_form is not None:
            forms[error_for] = edit_form
        return render(
            request,
            "budgets.html",
            status_code=status_code,
            report=report,
            histories={cid: list(changes) for cid, changes in histories.items()},
            month=month,
            month_label=month_title(month),
            month_nav=month_links("/budgets", month),
            this_month=month_start(today_in(user.timezone)),
            forms=forms,
            errors=errors or {},
            error_for=error_for,
            month_value=month_raw if month_raw is not None else f"{month:%Y-%m}",
        )

    @get("/")
    async def month_page(
        self,
        request: Request[User, Any, Any],
        budgets: Budgets,
        month: Annotated[str | None, QueryParameter(name="month")] = None,
    ) -> Template:
        month_first, errors = read_month(month, today_in(request.user.timezone))
        return await self._month_page(
            request,
            budgets,
            month_first,
            status_code=400 if errors else 200,
            errors=errors,
            error_for="month" if errors else None,
            month_raw=month if errors else None,
        )

    @post("/{category_id:uuid}")
    async def set_budget(
        self,
        request: Request[User, Any, Any],
        category_id: FromPath[uuid.UUID],
        data: URLEncodedBody[dict[str, str]],
        budgets: Budgets,
    ) -> Template | Redirect:
        """A blank amount means "no budget from this month"; the amount is typed in the user's locale."""
        user = request.user
        today = today_in(user.timezone)
        shown, _ = read_month(data.get("month"), today)
        errors: dict[str, str] = {}
        try:
            first = parse_budget_month(data.get("from"), today)
        except FieldValidationError:
            errors["from"] = "Choose a month (YYYY-MM)."
            first = shown
        currency = str(data.get("currency", "")).strip().upper()
        values, amount_errors = local_amount(data, "amount", currency or user.currency)
        errors |= amount_errors
        body = None
        if not errors:
            raw_amount = str(values.get("amount", "")).strip()
            cleaned = {
                "amount": raw_amount or None,
                "currency": currency or None,
                "rollover": bool(data.get("rollover")),
            }
            body, errors = parse_form(BudgetSet, cleaned)
        if body is not None:
            try:
                await budgets.set_budget(
                    user.id, category_id, first, body.amount, body.currency, body.rollover, user.currency, today
                )
                return see_other(with_query("/budgets", {"month": f"{shown:%Y-%m}"}), msg="budget-saved")
            except FieldValidationError as exc:
                errors = exc.by_field()
        return await self._month_page(
            request, budgets, shown, 400, errors=errors, error_for=str(category_id), edit_form=dict(data)
        )

    @get("/year")
    async def year_page(
        self,
        request: Request[User, Any, Any],
        budgets: Budgets,
        year: Annotated[str | None, QueryParameter(name="year")] = None,
    ) -> Template:
        user = request.user
        today = today_in(user.timezone)
        errors: dict[str, str] = {}
        try:
            chosen = parse_year(year, today)
        except FieldValidationError as exc:
            errors = exc.by_field()
            chosen = today.year
        report = await budgets.year(user.id, chosen, user.currency)
        nav = [
            (rel, str(other), with_query("/budgets/year", {"year": other}))
            for rel, other in (("prev", chosen - 1), ("next", chosen + 1))
            if REPORT_YEAR_MIN <= other <= REPORT_YEAR_MAX
        ]
        return render(
            request,
            "budgets_year.html",
            status_code=400 if errors else 200,
            report=report,
            year_nav=nav,
            errors=errors,
            year_value=year if errors else str(chosen),
        )
