"""Budget history, rollover and the month and year views of budget against spending.

A category's budget is a list of changes (table ``budget``): the row with the latest ``month`` on or before a month is
in force for it (NULL amount: no budget). Setting a budget from a month adds or replaces that month's row, so past
months keep theirs; a later change already made stays in force from its own month.

Rollover: with the flag, ``left = budget + carried_in - spent`` (negative when overspent) becomes the next month's
``carried_in``, as long as that month also has a budget with the flag in the same currency. The chain starts at the
first month with a budget and the flag (a month without either starts it again from zero); a change of currency
starts it again too, since money left in one currency is not a budget in another.

Spending comes from the per-month aggregates (``expense_month_total``): one statement for every category and month
a view needs (a year plus the months its rollover chains reach back), however many expenses there are. Spending in
other currencies is converted into the budget's currency with the user's exchange rates (as the reports do); what
has no rate for its day is listed per line as not converted, never dropped.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from advanced_alchemy.exceptions import NotFoundError
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import func, select

from expense_tracker.db.models import Budget, Category, ExpenseMonthTotal, User
from expense_tracker.domain.budgets.schemas import (
    BudgetEntry,
    BudgetHistory,
    BudgetMonth,
    BudgetTotal,
    BudgetYear,
    BudgetYearCell,
    BudgetYearMonthTotal,
    BudgetYearRow,
    BudgetYearSum,
    BudgetYearTotal,
    CategoryBudget,
)
from expense_tracker.domain.expenses.totals import Total, period_totals
from expense_tracker.domain.rates.conversion import ONE_DAY, RateTable
from expense_tracker.domain.rates.conversion import Conversion as RateConversion
from expense_tracker.domain.rates.services import Piece, convert_pieces, day_totals, load_rate_table
from expense_tracker.domain.reports.schemas import NotConverted, RateUsed
from expense_tracker.lib.currencies import check_chosen_currency
from expense_tracker.lib.money import check_decimals, quantize
from expense_tracker.lib.ownership import OwnedRowService
from expense_tracker.lib.problems import FieldValidationError
from expense_tracker.lib.timezones import month_start, next_month_start, today_in

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

ZERO = Decimal("0.00")
MonthKey = tuple[uuid.UUID, dt.date]
"""(category_id, first day of a month)."""


@dataclass(frozen=True)
class Change:
    """A row of a category's budget history."""

    month: dt.date
    amount: Decimal | None
    currency: str | None
    rollover: bool

    @property
    def rolls(self) -> bool:
        return self.amount is not None and self.rollover

    def same_as(self, other: Change | None) -> bool:
        if other is None:
            return self.amount is None
        return (self.amount, self.currency, self.rollover) == (other.amount, other.currency, other.rollover)


def in_force(history: Sequence[Change], month: dt.date) -> Change | None:
    """The change in force in ``month``: the latest on or before it (``history`` oldest first)."""
    found = None
    for change in history:
        if change.month > month:
            break
        found = change
    return found


def months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    months = []
    month = first
    while month <= last:
        months.append(month)
        month = next_month_start(month)
    return months


def chain_start(history: Sequence[Change], first: dt.date) -> dt.date:
    """The earliest month whose figures ``first``'s carried-in amount depends on: walk back while the months before
    ``first`` have a budget with rollover in one currency."""
    start = first
    before = [c for c in history if c.month < first]
    currency = None
    for change in reversed(before):
        if not change.rolls or (currency is not None and change.currency != currency):
            break
        currency = change.currency
        start = change.month
    return start


@dataclass
class Figure:
    """One category in one month, in ``currency``."""

    currency: str
    change: Change | None
    carried_in: Decimal
    spent: Decimal
    not_converted: list[NotConverted]

    @property
    def budget(self) -> Decimal | None:
        return self.change.amount if self.change is not None else None

    @property
    def available(self) -> Decimal | None:
        return quantize(self.budget + self.carried_in) if self.budget is not None else None

    @property
    def left(self) -> Decimal | None:
        available = self.available
        return quantize(available - self.spent) if available is not None else None


@dataclass
class Figures:
    categories: list[tuple[uuid.UUID, str, str]]
    """(id, name, colour) by name."""
    histories: dict[uuid.UUID, list[Change]]
    by_month: dict[MonthKey, Figure]
    rates: dict[str, RateUsed] = field(default_factory=dict)

    def rates_used(self) -> list[RateUsed]:
        return sorted(self.rates.values(), key=lambda r: r.currency)

    def rates_up_to(self) -> dt.date | None:
        return max((r.valid_from for r in self.rates.values()), default=None)


def _as_date(value: Any) -> dt.date:
    # SQLite returns a grouped date column as text.
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _percent(part: Decimal, whole: Decimal | None) -> Decimal | None:
    if whole is None or whole <= 0:
        return None
    return (part * 100 / whole).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


async def load_histories(session: AsyncSession, user_id: uuid.UUID) -> dict[uuid.UUID, list[Change]]:
    """Every budget change of the user's categories, oldest first per category (a handful of rows per category)."""
    statement = (
        select(Budget.category_id, Budget.month, Budget.amount, Budget.currency, Budget.rollover)
        .where(Budget.user_id == user_id)
        .order_by(Budget.category_id, Budget.month)
    )
    histories: dict[uuid.UUID, list[Change]] = defaultdict(list)
    for cid, month, amount, currency, rollover in await session.execute(statement):
        histories[cid].append(Change(_as_date(month), amount, currency, bool(rollover)))
    return dict(histories)


async def compute_figures(
    session: AsyncSession, user_id: uuid.UUID, first: dt.date, last: dt.date, default_currency: str
) -> Figures:
    """Budget, carried-in amount and spending of every category of the user for each month ``first``..``last``.

    Statements: categories with their budget rows, rates, and one over the aggregates for all months (plus, only for a
    currency whose rate changes within a month, that currency's sums again per rate period, as the reports do)."""
    # The categories and their budget changes in one statement (a handful of rows per category).
    statement = (
        select(Category.id, Category.name, Category.color)
        .add_columns(Budget.month, Budget.amount, Budget.currency, Budget.rollover)
        .outerjoin(Budget, Budget.category_id == Category.id)
        .where(Category.user_id == user_id)
        .order_by(Category.name, Category.id, Budget.month)
    )
    categories: list[tuple[uuid.UUID, str, str]] = []
    histories: dict[uuid.UUID, list[Change]] = {}
    for cid, name, color, month, amount, currency, rollover in await session.execute(statement):
        if cid not in histories:
            categories.append((cid, name, color))
            histories[cid] = []
        if month is not None:
            histories[cid].append(Change(_as_date(month), amount, currency, bool(rollover)))
    starts = {cid: chain_start(histories.get(cid, []), first) for cid, _, _ in categories}
    earliest = min(starts.values(), default=first)

    agg = ExpenseMonthTotal
    statement = (
        select(agg.category_id, agg.month, agg.currency, func.sum(agg.total_cents), func.sum(agg.count))
        .where(
            agg.user_id == user_id,
            agg.category_id.is_not(None),
            agg.month >= earliest,
            agg.month <= last,
        )
        .group_by(agg.category_id, agg.month, agg.currency)
    )
    pieces = []
    for cid, month, cur, cents, count in await session.execute(statement):
        if int(count) > 0 and cid in starts:
            day = _as_date(month)
            pieces.append(Piece((cid, day), cur, day, next_month_start(day) - ONE_DAY, Total(int(cents), int(count))))

    def target_of(key: MonthKey) -> str:
        change = in_force(histories.get(key[0], []), key[1])
        if change is None or change.amount is None:
            return default_currency
        return change.currency or default_currency

    async def fetch(cur: str, a: dt.date, b: dt.date) -> dict[Any, Total]:
        part = await period_totals(session, user_id, a, b, currency=cur)
        return {(cid, month_start(a)): total for (cid, _), total in part.items() if cid is not None}

    async def fetch_days(cur: str, a: dt.date, b: dt.date) -> list[tuple[Any, dt.date, Total]]:
        rows = await day_totals(session, user_id, cur, a, b)
        return [((cid, month_start(day)), day, total) for cid, day, total in rows if cid is not None]

    # Always read (one indexed lookup), so the statement count does not depend on the data.
    table: RateTable = await load_rate_table(session, user_id, default_currency)
    conversions = await convert_pieces(pieces, table, target_of, fetch, fetch_days)

    figures = Figures(categories=categories, histories=histories, by_month={})
    for conversion in conversions.values():
        for rate in conversion.rates_used.values():
            known = figures.rates.get(rate.currency)
            if known is None or rate.valid_from > known.valid_from:
                figures.rates[rate.currency] = RateUsed(
                    currency=rate.currency, rate=rate.rate, valid_from=rate.valid_from
                )

    for cid, _, _ in categories:
        history = histories.get(cid, [])
        previous: Figure | None = None
        for month in months_between(starts[cid], last):
            key = (cid, month)
            change = in_force(history, month)
            target = target_of(key)
            conversion = conversions.get(target) or RateConversion(target)
            carried = ZERO
            if (
                change is not None
                and change.rolls
                and previous is not None
                and previous.change is not None
                and previous.change.rolls
                and previous.currency == target
            ):
                carried = previous.left or ZERO
            figure = Figure(
                currency=target,
                change=change,
                carried_in=carried,
                spent=conversion.total(key),
                not_converted=[
                    NotConverted(currency=cur, total=quantize(Decimal(s.cents).scaleb(-2)), count=s.count)
                    for cur, s in conversion.not_converted(key).items()
                ],
            )
            if month >= first:
                figures.by_month[key] = figure
            previous = figure
    return figures


def check_budget(
    amount: Decimal | None,
    currency: str | None,
    default_currency: str,
    stored: str | None,
    fields: tuple[str, str] = ("amount", "currency"),
) -> str | None:
    """The budget's currency (``currency``, else ``stored``, else the default one), refusing a currency no longer in
    use (unless it is the stored one) and more decimals than the currency has (1500.50 JPY: refused, never rounded)."""
    if amount is None:
        return None
    chosen = currency or stored or default_currency
    if chosen != default_currency and (problem := check_chosen_currency(chosen, stored)):
        raise FieldValidationError([{"field": fields[1], "message": problem}])
    try:
        check_decimals(amount, chosen)
    except ValueError as exc:
        raise FieldValidationError([{"field": fields[0], "message": str(exc)}]) from None
    return chosen


async def write_budget(
    session: AsyncSession,
    category: Category,
    month: dt.date,
    amount: Decimal | None,
    currency: str | None,
    rollover: bool,
    today: dt.date,
) -> None:
    """Make ``(amount, currency, rollover)`` the category's budget from ``month`` (a first day) on, until its next
    change; ``currency`` already checked (:func:`check_budget`). Keeps the history free of rows that change nothing,
    and ``category.monthly_budget``/``budget_currency`` equal to the budget of ``today``'s month (older app versions
    read those)."""
    rows = list(
        (await session.scalars(select(Budget).where(Budget.category_id == category.id).order_by(Budget.month))).all()
    )
    new = Change(month, amount, currency if amount is not None else None, rollover if amount is not None else False)
    at_month = next((r for r in rows if r.month == month), None)
    before = in_force([_change(r) for r in rows if r.month < month], month)
    after = next((r for r in rows if r.month > month), None)
    if new.same_as(before):
        # The months from here on already had this budget: no row needed (an existing one is removed).
        if at_month is not None:
            await session.delete(at_month)
    elif at_month is not None:
        at_month.amount, at_month.currency, at_month.rollover = new.amount, new.currency, new.rollover
    else:
        session.add(
            Budget(
                user_id=category.user_id,
                category_id=category.id,
                month=month,
                amount=new.amount,
                currency=new.currency,
                rollover=new.rollover,
            )
        )
    if after is not None and _change(after).same_as(new):
        await session.delete(after)  # the next change would now change nothing
    await session.flush()
    await sync_category(session, category, today)


def _change(row: Budget) -> Change:
    return Change(row.month, row.amount, row.currency, row.rollover)


async def sync_category(session: AsyncSession, category: Category, today: dt.date) -> None:
    """``category.monthly_budget``/``budget_currency`` := the budget in force in ``today``'s month."""
    statement = (
        select(Budget.amount, Budget.currency)
        .where(Budget.category_id == category.id, Budget.month <= month_start(today))
        .order_by(Budget.month.desc())
        .limit(1)
    )
    found = (await session.execute(statement)).first()
    amount, currency = (found[0], found[1]) if found is not None else (None, None)
    if (category.monthly_budget, category.budget_currency) != (amount, currency):
        category.monthly_budget, category.budget_currency = amount, currency
        await session.flush()


class BudgetService(OwnedRowService[Budget]):
    class Repo(SQLAlchemyAsyncRepository[Budget]):
        model_type = Budget

    repository_type = Repo

    @property
    def session(self) -> AsyncSession:
        session: AsyncSession = self.repository.session
        return session

    async def _category(self, user_id: uuid.UUID, category_id: uuid.UUID) -> Category:
        category = await self.session.scalar(
            select(Category).where(Category.id == category_id, Category.user_id == user_id)
        )
        if category is None:
            raise NotFoundError(f"category {category_id}")
        return category

    async def set_budget(
        self,
        user_id: uuid.UUID,
        category_id: uuid.UUID,
        month: dt.date,
        amount: Decimal | None,
        currency: str | None,
        rollover: bool,
        default_currency: str,
        today: dt.date,
    ) -> BudgetHistory:
        """The budget of one of the user's categories from ``month`` on; returns the category's new history."""
        category = await self._category(user_id, category_id)
        history = (await load_histories(self.session, user_id)).get(category_id, [])
        before = in_force([c for c in history if c.month < month], month)
        # Without a currency the budget keeps the one it had (a default-currency change never moves a budget).
        stored = (before.currency if before is not None else None) or category.budget_currency
        chosen = check_budget(amount, currency, default_currency, stored)
        await write_budget(self.session, category, month, amount, chosen, rollover, today)
        return await self.history(user_id, category_id)

    async def history(self, user_id: uuid.UUID, category_id: uuid.UUID) -> BudgetHistory:
        category = await self._category(user_id, category_id)
        rows = (await load_histories(self.session, user_id)).get(category_id, [])
        return BudgetHistory(
            category_id=category.id,
            name=category.name,
            entries=[
                BudgetEntry(month=f"{c.month:%Y-%m}", amount=c.amount, currency=c.currency, rollover=c.rollover)
                for c in rows
            ],
        )

    async def histories(self, user_id: uuid.UUID) -> dict[uuid.UUID, list[Change]]:
        return await load_histories(self.session, user_id)

    async def month(self, user_id: uuid.UUID, month: dt.date, default_currency: str) -> BudgetMonth:
        figures = await compute_figures(self.session, user_id, month, month, default_currency)
        lines = []
        totals: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO, ZERO, ZERO])
        for cid, name, color in figures.categories:
            figure = figures.by_month[cid, month]
            change = figure.change
            budgeted = change is not None and change.amount is not None
            lines.append(
                CategoryBudget(
                    category_id=cid,
                    name=name,
                    color=color,
                    currency=figure.currency,
                    budget=figure.budget,
                    budget_from=f"{change.month:%Y-%m}" if budgeted and change is not None else None,
                    rollover=budgeted and change is not None and change.rollover,
                    carried_in=figure.carried_in,
                    available=figure.available,
                    spent=figure.spent,
                    left=figure.left,
                    percent=_percent(figure.spent, figure.available),
                    not_converted=figure.not_converted,
                )
            )
            if figure.budget is not None:
                total = totals[figure.currency]
                for index, value in enumerate((figure.budget, figure.carried_in, figure.spent, figure.left or ZERO)):
                    total[index] += value
        return BudgetMonth(
            month=f"{month:%Y-%m}",
            currency=default_currency,
            lines=lines,
            totals=[
                BudgetTotal(
                    currency=cur,
                    budget=quantize(b),
                    carried_in=quantize(c),
                    available=quantize(b + c),
                    spent=quantize(s),
                    left=quantize(left),
                )
                for cur, (b, c, s, left) in sorted(totals.items())
            ],
            rates=figures.rates_used(),
            rates_up_to=figures.rates_up_to(),
        )

    async def year(self, user_id: uuid.UUID, year: int, default_currency: str) -> BudgetYear:
        months = [dt.date(year, m, 1) for m in range(1, 13)]
        figures = await compute_figures(self.session, user_id, months[0], months[-1], default_currency)
        rows = []
        # currency -> month -> [budget, spent]
        grand: dict[str, dict[dt.date, list[Decimal]]] = defaultdict(lambda: {m: [ZERO, ZERO] for m in months})
        for cid, name, color in figures.categories:
            cells = []
            sums: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
            for month in months:
                figure = figures.by_month[cid, month]
                cells.append(
                    BudgetYearCell(
                        month=f"{month:%Y-%m}",
                        currency=figure.currency,
                        budget=figure.budget,
                        carried_in=figure.carried_in,
                        spent=figure.spent,
                        left=figure.left,
                        not_converted=figure.not_converted,
                    )
                )
                if figure.budget is not None:
                    sums[figure.currency][0] += figure.budget
                    sums[figure.currency][1] += figure.spent
                    grand[figure.currency][month][0] += figure.budget
                    grand[figure.currency][month][1] += figure.spent
            rows.append(
                BudgetYearRow(
                    category_id=cid,
                    name=name,
                    color=color,
                    months=cells,
                    totals=[
                        BudgetYearSum(currency=cur, budget=quantize(b), spent=quantize(s), left=quantize(b - s))
                        for cur, (b, s) in sorted(sums.items())
                    ],
                )
            )
        totals = []
        for cur, by_month in sorted(grand.items()):
            budget = sum((b for b, _ in by_month.values()), ZERO)
            spent = sum((s for _, s in by_month.values()), ZERO)
            totals.append(
                BudgetYearTotal(
                    currency=cur,
                    months=[
                        BudgetYearMonthTotal(
                            month=f"{m:%Y-%m}", budget=quantize(b), spent=quantize(s), left=quantize(b - s)
                        )
                        for m, (b, s) in by_month.items()
                    ],
                    budget=quantize(budget),
                    spent=quantize(spent),
                    left=quantize(budget - spent),
                )
            )
        return BudgetYear(
            year=year,
            currency=default_currency,
            categories=rows,
            totals=totals,
            rates=figures.rates_used(),
            rates_up_to=figures.rates_up_to(),
        )

    async def refresh_categories(self, now: dt.datetime | None = None) -> int:
        """Maintenance: set every category's ``monthly_budget``/``budget_currency`` to its budget of the current month
        in its owner's time zone (a change set for a future month reaches them when that month comes). Returns how
        many categories changed."""
        moment = now or dt.datetime.now(dt.UTC)
        statement = (
            select(Category, User.timezone)
            .join(User, User.id == Category.user_id)
            .where(Category.id.in_(select(Budget.category_id)))
        )
        changed = 0
        for category, timezone in (await self.session.execute(statement)).all():
            before = (category.monthly_budget, category.budget_currency)
            await sync_category(self.session, category, today_in(timezone, moment))
            changed += before != (category.monthly_budget, category.budget_currency)
        return changed
