"""Reports read the per-month aggregates (``expense_month_total``, kept by triggers), valid on PostgreSQL and SQLite.

Their cost does not grow with a user's history: whole months are a handful of aggregate rows, and a partial month at
either end of a period reads at most half a month of expense rows (see ``domain/expenses/totals.py``). Money is summed
in integer cents, exact on both databases.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from sqlalchemy import func, select

from expense_tracker.db.models import Category, Expense, ExpenseMonthTotal
from expense_tracker.domain.expenses.totals import period_totals
from expense_tracker.domain.reports.schemas import (
    Budget,
    BudgetLine,
    ByCategory,
    CategoryShare,
    CurrencyTotal,
    Monthly,
    MonthTotal,
    Summary,
)
from expense_tracker.lib.money import quantize
from expense_tracker.lib.timezones import month_start, next_month_start

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

ZERO = Decimal("0.00")
UNCATEGORISED = "Uncategorized"
UNCATEGORISED_COLOR = "#95a5a6"


def _cents(cents: int) -> Decimal:
    return quantize(Decimal(cents).scaleb(-2))


def percent(part: Decimal, whole: Decimal) -> Decimal:
    # A share of a total that refunds brought to 0 or below means nothing (and would flip signs): 0 instead.
    if whole <= 0:
        return ZERO
    return (part * 100 / whole).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


class ReportService(SQLAlchemyAsyncRepositoryService[Expense]):
    """Read-only aggregates over the user's expenses; a repository service so it is provided like the others."""

    class Repo(SQLAlchemyAsyncRepository[Expense]):
        model_type = Expense

    repository_type = Repo

    @property
    def session(self) -> AsyncSession:
        session: AsyncSession = self.repository.session
        return session

    async def summary(self, user_id: uuid.UUID, start: dt.date, end: dt.date) -> Summary:
        by_currency: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for (_, currency), total in (await period_totals(self.session, user_id, start, end)).items():
            by_currency[currency][0] += total.cents
            by_currency[currency][1] += total.count
        currencies = []
        for currency, (cents, count) in sorted(by_currency.items()):
            amount = _cents(cents)
            currencies.append(
                CurrencyTotal(currency=currency, total=amount, count=count, average=quantize(amount / count))
            )
        return Summary(date_from=start, date_to=end, count=sum(c.count for c in currencies), currencies=currencies)

    async def by_category(self, user_id: uuid.UUID, start: dt.date, end: dt.date, currency: str) -> ByCategory:
        found = await period_totals(self.session, user_id, start, end, currency=currency)
        names: dict[uuid.UUID | None, tuple[str | None, str | None]] = {}
        if any(cid is not None for cid, _ in found):
            statement = select(Category.id, Category.name, Category.color).where(Category.user_id == user_id)
            names = {cid: (name, color) for cid, name, color in await self.session.execute(statement)}
        totals = [
            (cid, *names.get(cid, (None, None)), _cents(total.cents), total.count) for (cid, _), total in found.items()
        ]
        grand = sum((t[3] for t in totals), ZERO)
        shares = [
            CategoryShare(
                category_id=cid,
                name=name or UNCATEGORISED,
                color=color or UNCATEGORISED_COLOR,
                total=total,
                count=count,
                share=percent(total, grand),
            )
            for cid, name, color, total, count in sorted(totals, key=lambda t: (-t[3], t[1] or ""))
        ]
        return ByCategory(date_from=start, date_to=end, currency=currency, total=grand, categories=shares)

    async def monthly(self, user_id: uuid.UUID, today: dt.date, months: int, currency: str) -> Monthly:
        """The last ``months`` calendar months up to and including ``today``'s, zero-filled, oldest first.

        Whole months only, so this reads nothing but ``months`` aggregate rows per category."""
        agg = ExpenseMonthTotal
        statement = (
            select(agg.month, func.sum(agg.total_cents), func.sum(agg.count))
            .where(
                agg.user_id == user_id,
                agg.currency == currency,
                agg.month >= month_start(today, months - 1),
                agg.month < next_month_start(today),
            )
            .group_by(agg.month)
        )
        found = {m: (_cents(t), int(c)) for m, t, c in (await self.session.execute(statement)).all()}
        result = []
        for back in range(months - 1, -1, -1):
            start = month_start(today, back)
            total, count = found.get(start, (ZERO, 0))
            result.append(MonthTotal(month=f"{start:%Y-%m}", total=total, count=count))
        return Monthly(currency=currency, months=result)

    async def budget(self, user_id: uuid.UUID, month: dt.date, currency: str) -> Budget:
        """``month`` is a first day: a few aggregate rows per category, joined to the user's categories."""
        agg = ExpenseMonthTotal
        spent = (
            select(agg.category_id, func.sum(agg.total_cents).label("cents"))
            .where(agg.user_id == user_id, agg.month == month, agg.currency == currency, agg.category_id.is_not(None))
            .group_by(agg.category_id)
            .subquery()
        )
        statement = (
            select(Category, spent.c.cents)
            .outerjoin(spent, spent.c.category_id == Category.id)
            .where(Category.user_id == user_id)
            .order_by(Category.name)
        )
        lines = []
        for category, spent_cents in (await self.session.execute(statement)).all():
            amount = _cents(spent_cents or 0)
            budget = category.monthly_budget
            lines.append(
                BudgetLine(
                    category_id=category.id,
                    name=category.name,
                    color=category.color,
                    budget=budget,
                    spent=amount,
                    remaining=quantize(budget - amount) if budget is not None else None,
                    percent=percent(amount, budget) if budget else None,
                )
            )
        return Budget(month=f"{month:%Y-%m}", currency=currency, lines=lines)
