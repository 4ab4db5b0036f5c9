from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, get, put
from litestar.params import FromPath, JSONBody, QueryParameter

from expense_tracker.constants import REPORT_YEAR_MAX, REPORT_YEAR_MIN
from expense_tracker.db.models import User
from expense_tracker.dependencies import Budgets
from expense_tracker.domain.accounts.auth import SESSION_SECURITY
from expense_tracker.domain.budgets.deps import parse_budget_month, parse_year
from expense_tracker.domain.budgets.schemas import BudgetHistory, BudgetMonth, BudgetSet, BudgetYear
from expense_tracker.lib.timezones import month_start, today_in

MonthParam = Annotated[
    str | None,
    QueryParameter(
        description=f"YYYY-MM, years {REPORT_YEAR_MIN} to {REPORT_YEAR_MAX}; "
        "default: the current month in your time zone."
    ),
]


class BudgetController(Controller):
    path = "/api/budgets"
    tags = ["budgets"]
    security = SESSION_SECURITY

    @get("/", operation_id="listBudgets")
    async def month(self, request: Request[User, Any, Any], budgets: Budgets, month: MonthParam = None) -> BudgetMonth:
        """Each category's budget in force in ``month``, what rollover carried into it, the spending and what is left
        (in the budget's currency; other currencies converted with your rates, those without a rate listed)."""
        user = request.user
        first = parse_budget_month(month, today_in(user.timezone))
        return await budgets.month(user.id, first, user.currency)

    @put("/{category_id:uuid}/{month:str}", operation_id="setBudget")
    async def set_budget(
        self,
        request: Request[User, Any, Any],
        category_id: FromPath[uuid.UUID],
        month: FromPath[str],
        data: JSONBody[BudgetSet],
        budgets: Budgets,
    ) -> BudgetHistory:
        """Set a category's budget from ``month`` (YYYY-MM) on, until its next change; earlier months keep theirs.
        ``amount: null`` means no budget from that month. Returns the category's budget history."""
        user = request.user
        today = today_in(user.timezone)
        first = parse_budget_month(month, today)
        return await budgets.set_budget(
            user.id, category_id, first, data.amount, data.currency, data.rollover, user.currency, today
        )

    @get("/history/{category_id:uuid}", operation_id="budgetHistory")
    async def history(
        self, request: Request[User, Any, Any], category_id: FromPath[uuid.UUID], budgets: Budgets
    ) -> BudgetHistory:
        """Every change of a category's budget, oldest first: each applies from its month until the next."""
        return await budgets.history(request.user.id, category_id)

    @get("/year", operation_id="budgetYear")
    async def year(
        self,
        request: Request[User, Any, Any],
        budgets: Budgets,
        year: Annotated[
            str | None,
            QueryParameter(description=f"YYYY, {REPORT_YEAR_MIN} to {REPORT_YEAR_MAX}; default: the current year."),
        ] = None,
    ) -> BudgetYear:
        """Budget against spending for the 12 months of ``year`` per category, with totals per month and currency."""
        user = request.user
        return await budgets.year(user.id, parse_year(year, month_start(today_in(user.timezone))), user.currency)
