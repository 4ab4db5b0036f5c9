"""Reports read the per-month aggregates (``expense_month_total``, kept by triggers), valid on PostgreSQL and SQLite.

Their cost does not grow with a user's history: whole months are a handful of aggregate rows, and a partial month at
either end of a period reads at most half a month of expense rows (see ``domain/expenses/totals.py``). Money is summed
in integer cents, exact on both databases.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from sqlalchemy import func, select

from expense_tracker.db.models import Budget as BudgetRow
from expense_tracker.db.models import Category, Expense, ExpenseMonthTotal
from expense_tracker.domain.expenses.totals import Total, TotalsKey, period_totals
from expense_tracker.domain.rates.conversion import ONE_DAY, RateTable, Sum
from expense_tracker.domain.rates.conversion import Conversion as RateConversion
from expense_tracker.domain.rates.services import (
    Piece,
    convert_period,
    convert_pieces,
    day_totals,
    load_rate_table,
)
from expense_tracker.domain.reports.schemas import (
    Budget,
    BudgetLine,
    ByCategory,
    CategoryShare,
    CurrencyTotal,
    Monthly,
    MonthTotal,
    NotConverted,
    RateUsed,
    Summary,
)
from expense_tracker.domain.reports.schemas import Conversion as ConversionSchema
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

    async def rate_table(self, user_id: uuid.UUID, base: str) -> RateTable:
        """The user's rates into ``base``, read once per request (the service lives for one request)."""
        tables: dict[tuple[uuid.UUID, str], RateTable] = self.__dict__.setdefault("_rate_tables", {})
        if (user_id, base) not in tables:
            tables[user_id, base] = await load_rate_table(self.session, user_id, base)
        return tables[user_id, base]

    async def summary(self, user_id: uuid.UUID, start: dt.date, end: dt.date, convert_to: str | None = None) -> Summary:
        """Per currency; with ``convert_to`` (the user's default currency, the rates' base) also converted."""
        found = await period_totals(self.session, user_id, start, end)
        by_currency: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for (_, currency), total in found.items():
            by_currency[currency][0] += total.cents
            by_currency[currency][1] += total.count
        currencies = []
        for currency, (cents, count) in sorted(by_currency.items()):
            amount = _cents(cents)
            currencies.append(
                CurrencyTotal(currency=currency, total=amount, count=count, average=quantize(amount / count))
            )
        converted = None
        if convert_to is not None:
            table = await self.rate_table(user_id, convert_to)
            _, conversions = await convert_period(
                self.session, user_id, table, start, end, lambda _: convert_to, found=found
            )
            converted = conversion_schema(conversions.get(convert_to) or RateConversion(convert_to))
        return Summary(
            date_from=start,
            date_to=end,
            count=sum(c.count for c in currencies),
            currencies=currencies,
            converted=converted,
        )

    async def by_category(
        self, user_id: uuid.UUID, start: dt.date, end: dt.date, currency: str, rates_base: str | None = None
    ) -> ByCategory:
        """In ``currency`` only, listing the other currencies; with ``rates_base`` (the user's default currency) every
        currency converted to ``currency``."""
        found = await period_totals(self.session, user_id, start, end)
        names: dict[uuid.UUID | None, tuple[str | None, str | None]] = {}
        if any(cid is not None for cid, _ in found):
            statement = select(Category.id, Category.name, Category.color).where(Category.user_id == user_id)
            names = {cid: (name, color) for cid, name, color in await self.session.execute(statement)}
        converted = None
        other: list[CurrencyTotal] = []
        rows: list[tuple[uuid.UUID | None, Decimal, int]] = []
        if rates_base is not None:
            table = await self.rate_table(user_id, rates_base)
            _, conversions = await convert_period(
                self.session, user_id, table, start, end, lambda _: currency, found=found
            )
            conversion = conversions.get(currency) or RateConversion(currency)
            rows = [(cid, conversion.total(cid), count) for cid, count in conversion.counts.items() if count]
            converted = conversion_schema(conversion)
        else:
            rows = [(cid, _cents(t.cents), t.count) for (cid, cur), t in found.items() if cur == currency]
            other = _currency_totals((cur, t) for (_, cur), t in found.items() if cur != currency)
        totals = [(cid, *names.get(cid, (None, None)), total, count) for cid, total, count in rows]
        grand = converted.total if converted is not None else sum((t[3] for t in totals), ZERO)
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
        return ByCategory(
            date_from=start,
            date_to=end,
            currency=currency,
            total=grand,
            categories=shares,
            converted=converted,
            other_currencies=other,
        )

    async def monthly(
        self, user_id: uuid.UUID, today: dt.date, months: int, currency: str, rates_base: str | None = None
    ) -> Monthly:
        """The last ``months`` calendar months up to and including ``today``'s, zero-filled, oldest first.

        Whole months only, so this reads nothing but ``months`` aggregate rows per category and currency (and, when
        converting, a currency's rows again only for a month in which its rate changes)."""
        agg = ExpenseMonthTotal
        first = month_start(today, months - 1)
        statement = (
            select(agg.month, agg.currency, func.sum(agg.total_cents), func.sum(agg.count))
            .where(agg.user_id == user_id, agg.month >= first, agg.month < next_month_start(today))
            .group_by(agg.month, agg.currency)
        )
        found: dict[tuple[dt.date, str], Total] = {}
        for month, cur, cents, count in (await self.session.execute(statement)).all():
            if int(count) > 0:
                found[_as_date(month), cur] = Total(int(cents), int(count))
        converted = None
        other: list[CurrencyTotal] = []
        if rates_base is not None:
            table = await self.rate_table(user_id, rates_base)

            async def fetch(cur: str, a: dt.date, b: dt.date) -> dict[Any, Total]:
                part = await period_totals(self.session, user_id, a, b, currency=cur)
                total = Total(sum(t.cents for t in part.values()), sum(t.count for t in part.values()))
                return {month_start(a): total}

            async def fetch_days(cur: str, a: dt.date, b: dt.date) -> list[tuple[Any, dt.date, Total]]:
                rows = await day_totals(self.session, user_id, cur, a, b)
                return [(month_start(day), day, total) for _, day, total in rows]

            pieces = [Piece(m, cur, m, next_month_start(m) - ONE_DAY, t) for (m, cur), t in found.items()]
            conversions = await convert_pieces(pieces, table, lambda _: currency, fetch, fetch_days)
            conversion = conversions.get(currency) or RateConversion(currency)
            values = {m: (conversion.total(m), conversion.counts.get(m, 0)) for m in conversion.counts}
            converted = conversion_schema(conversion)
        else:
            values = {m: (_cents(t.cents), t.count) for (m, cur), t in found.items() if cur == currency}
            other = _currency_totals((cur, t) for (_, cur), t in found.items() if cur != currency)
        result = []
        for back in range(months - 1, -1, -1):
            start = month_start(today, back)
            total, count = values.get(start, (ZERO, 0))
            result.append(MonthTotal(month=f"{start:%Y-%m}", total=total, count=count))
        return Monthly(currency=currency, months=result, converted=converted, other_currencies=other)

    async def budget(self, user_id: uuid.UUID, month: dt.date, currency: str, base: str | None = None) -> Budget:
        """``month`` is a first day: the month's aggregate rows per category and currency, joined to the user's
        categories in one statement. Each line's spending is in its budget's currency (``currency`` without a
        budget): other currencies are converted with the user's rates into ``base`` (their default currency) where a
        rate exists, and listed as not converted where none does."""
        base = base or currency
        agg = ExpenseMonthTotal
        spent = (
            select(
                agg.category_id,
                agg.currency,
                func.sum(agg.total_cents).label("cents"),
                func.sum(agg.count).label("count"),
            )
            .where(agg.user_id == user_id, agg.month == month, agg.category_id.is_not(None))
            .group_by(agg.category_id, agg.currency)
            .subquery()
        )

        # The budget in force in ``month`` (budget history, migration 0014): the latest change on or before it, read
        # in the same statement (a correlated lookup on the (category_id, month) unique index).
        def in_force(column: Any) -> Any:
            return (
                select(column)
                .where(BudgetRow.category_id == Category.id, BudgetRow.month <= month)
                .order_by(BudgetRow.month.desc())
                .limit(1)
                .scalar_subquery()
            )

        statement = (
            select(
                Category,
                in_force(BudgetRow.amount),
                in_force(BudgetRow.currency),
                spent.c.currency,
                spent.c.cents,
                spent.c.count,
            )
            .outerjoin(spent, spent.c.category_id == Category.id)
            .where(Category.user_id == user_id)
            .order_by(Category.name, Category.id)
        )
        categories: dict[uuid.UUID, Category] = {}
        budgets: dict[uuid.UUID, tuple[Decimal | None, str | None]] = {}
        found: dict[TotalsKey, Total] = {}
        for category, amount, budget_currency, cur, cents, count in (await self.session.execute(statement)).all():
            categories[category.id] = category
            budgets[category.id] = (amount, budget_currency) if amount is not None else (None, None)
            if cur is not None and int(count) > 0:
                found[category.id, cur] = Total(int(cents), int(count))

        def budget_of(cid: uuid.UUID | None) -> tuple[Decimal | None, str | None]:
            return budgets.get(cid, (None, None)) if cid is not None else (None, None)

        def target_of(cid: uuid.UUID | None) -> str:
            amount, budget_currency = budget_of(cid)
            if amount is None:
                return currency
            return budget_currency or base

        # Always read (one indexed lookup), so the statement count does not depend on the data.
        table = await self.rate_table(user_id, base)
        last = next_month_start(month) - ONE_DAY
        _, conversions = await convert_period(self.session, user_id, table, month, last, target_of, found=found)
        lines = []
        rates: dict[str, RateUsed] = {}
        for conversion in conversions.values():
            for rate in conversion.rates_used.values():
                known = rates.get(rate.currency)
                if known is None or rate.valid_from > known.valid_from:
                    rates[rate.currency] = RateUsed(currency=rate.currency, rate=rate.rate, valid_from=rate.valid_from)
        for category in categories.values():
            target = target_of(category.id)
            conversion = conversions.get(target) or RateConversion(target)
            amount = conversion.total(category.id)
            budget, budget_currency = budget_of(category.id)
            lines.append(
                BudgetLine(
                    category_id=category.id,
                    name=category.name,
                    color=category.color,
                    budget=budget,
                    spent=amount,
                    remaining=quantize(budget - amount) if budget is not None else None,
                    percent=percent(amount, budget) if budget else None,
                    budget_currency=(budget_currency or base) if budget is not None else None,
                    not_converted=_not_converted(conversion.not_converted(category.id)),
                )
            )
        return Budget(
            month=f"{month:%Y-%m}",
            currency=currency,
            lines=lines,
            rates=sorted(rates.values(), key=lambda r: r.currency),
            rates_up_to=max((r.valid_from for r in rates.values()), default=None),
        )


def _as_date(value: Any) -> dt.date:
    # SQLite returns the month as text through a grouped aggregate.
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _currency_totals(items: Iterable[tuple[str, Total]]) -> list[CurrencyTotal]:
    by_currency: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for currency, total in items:
        by_currency[currency][0] += total.cents
        by_currency[currency][1] += total.count
    result = []
    for currency, (cents, count) in sorted(by_currency.items()):
        if count > 0:
            amount = _cents(cents)
            result.append(CurrencyTotal(currency=currency, total=amount, count=count, average=quantize(amount / count)))
    return result


def _not_converted(items: dict[str, Sum]) -> list[NotConverted]:
    return [NotConverted(currency=cur, total=_cents(s.cents), count=s.count) for cur, s in items.items()]


def conversion_schema(conversion: RateConversion[Any]) -> ConversionSchema:
    return ConversionSchema(
        currency=conversion.target,
        total=conversion.grand_total(),
        count=conversion.converted_count(),
        rates_up_to=conversion.rates_up_to(),
        rates=[
            RateUsed(currency=r.currency, rate=r.rate, valid_from=r.valid_from)
            for r in sorted(conversion.rates_used.values(), key=lambda r: r.currency)
        ],
        not_converted=_not_converted(conversion.not_converted()),
    )
