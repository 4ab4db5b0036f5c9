"""Reports computed in SQL (sums, counts and grouping happen in the database), valid on PostgreSQL and SQLite.

Money sums are quantized to cents afterwards: PostgreSQL sums NUMERIC exactly, SQLite sums binary floats, and the
two then agree to the cent for any realistic total.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from sqlalchemy import Integer, extract, func, select

from expense_tracker.db.models import Category, Expense
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


def _money(value: object) -> Decimal:
    return quantize(Decimal(str(value))) if value is not None else ZERO


def percent(part: Decimal, whole: Decimal) -> Decimal:
    if not whole:
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

    def _in_period(self, user_id: uuid.UUID, start: dt.date, end: dt.date) -> tuple[object, ...]:
        return (Expense.user_id == user_id, Expense.spent_on >= start, Expense.spent_on <= end)

    async def summary(self, user_id: uuid.UUID, start: dt.date, end: dt.date) -> Summary:
        statement = (
            select(Expense.currency, func.sum(Expense.amount), func.count(Expense.id))
            .where(*self._in_period(user_id, start, end))  # type: ignore[arg-type]
            .group_by(Expense.currency)
            .order_by(Expense.currency)
        )
        rows = (await self.session.execute(statement)).all()
        currencies = []
        for currency, total, count in rows:
            amount = _money(total)
            currencies.append(
                CurrencyTotal(currency=currency, total=amount, count=count, average=quantize(amount / count))
            )
        return Summary(date_from=start, date_to=end, count=sum(c.count for c in currencies), currencies=currencies)

    async def by_category(self, user_id: uuid.UUID, start: dt.date, end: dt.date, currency: str) -> ByCategory:
        statement = (
            select(
                Expense.category_id,
                Category.name,
                Category.color,
                func.sum(Expense.amount),
                func.count(Expense.id),
            )
            .outerjoin(Category, Category.id == Expense.category_id)
            .where(*self._in_period(user_id, start, end), Expense.currency == currency)  # type: ignore[arg-type]
            .group_by(Expense.category_id, Category.name, Category.color)
        )
        rows = (await self.session.execute(statement)).all()
        totals = [(cid, name, color, _money(total), count) for cid, name, color, total, count in rows]
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
        """The last ``months`` calendar months up to and including ``today``'s, zero-filled, oldest first."""
        first = month_start(today, months - 1)
        year = extract("year", Expense.spent_on).cast(Integer)
        month = extract("month", Expense.spent_on).cast(Integer)
        statement = (
            select(year, month, func.sum(Expense.amount), func.count(Expense.id))
            .where(
                Expense.user_id == user_id,
                Expense.currency == currency,
                Expense.spent_on >= first,
                Expense.spent_on < next_month_start(today),
            )
            .group_by(year, month)
        )
        found = {(int(y), int(m)): (_money(t), c) for y, m, t, c in (await self.session.execute(statement)).all()}
        result = []
        for back in range(months - 1, -1, -1):
            start = month_start(today, back)
            total, count = found.get((start.year, start.month), (ZERO, 0))
            result.append(MonthTotal(month=f"{start:%Y-%m}", total=total, count=count))
        return Monthly(currency=currency, months=result)

    async def budget(self, user_id: uuid.UUID, month: dt.date, currency: str) -> Budget:
        spent = (
            select(Expense.category_id, func.sum(Expense.amount).label("spent"))
            .where(
                Expense.user_id == user_id,
                Expense.currency == currency,
                Expense.spent_on >= month,
                Expense.spent_on < next_month_start(month),
            )
            .group_by(Expense.category_id)
            .subquery()
        )
        statement = (
            select(Category, spent.c.spent)
            .outerjoin(spent, spent.c.category_id == Category.id)
            .where(Category.user_id == user_id)
            .order_by(Category.name)
        )
        lines = []
        for category, spent_total in (await self.session.execute(statement)).all():
            amount = _money(spent_total)
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
