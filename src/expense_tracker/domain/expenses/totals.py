"""Sums and counts over any date range, read from ``expense_month_total`` instead of the expense rows.

Whole calendar months come from the aggregate table (one row per month x category x currency, whatever the history
size). A month the range covers only partly is computed from whichever side is smaller: the included days from the
rows, or the month's aggregate minus the excluded days' rows. Month-to-date late in a month therefore subtracts the
days after today, which normally hold no rows at all.

Money is in integer cents throughout (the aggregate table's unit), exact on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, Select, case, cast, func, or_, select, union_all

from expense_tracker.db.models import Expense, ExpenseMonthTotal
from expense_tracker.lib.timezones import month_start, next_month_start

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from expense_tracker.domain.expenses.schemas import ExpenseFilters

LAST_MONTH = dt.date(dt.MAXYEAR, 12, 1)
TotalsKey = tuple[uuid.UUID | None, str]
"""(category_id, currency)."""


@dataclass
class Total:
    cents: int = 0
    count: int = 0


@dataclass(frozen=True)
class _Plan:
    """How to compute a date range: aggregate months [months_from, months_to) plus signed day ranges of rows."""

    months_from: dt.date | None
    months_to: dt.date | None
    rows: tuple[tuple[dt.date, dt.date, int], ...]
    """(first day, last day, +1 to add the rows or -1 to subtract them)."""

    @property
    def reads_months(self) -> bool:
        return self.months_from is None or self.months_to is None or self.months_from < self.months_to


def _last_day(month: dt.date) -> dt.date:
    return next_month_start(month) - dt.timedelta(days=1)


def _days_with_rows(first: dt.date, last: dt.date, horizon: dt.date) -> int:
    """The days in [first, last] that normally hold expenses: those up to ``horizon``. Days after it (the future, where
    people rarely date an expense) cost nothing to read, so month-to-date subtracts the rest of the month (usually no
    rows) instead of reading today's and yesterday's rows, however many there are."""
    return max(0, (min(last, horizon) - first).days + 1)


def _plan(start: dt.date | None, end: dt.date | None, horizon: dt.date) -> _Plan:
    """Split [start, end] (either end open) into whole months and the cheaper side of each partial month: the side with
    fewer days up to ``horizon`` (today anywhere on Earth)."""
    months_from = None if start is None else month_start(start)
    months_to = None if end is None else next_month_start(end)
    rows: list[tuple[dt.date, dt.date, int]] = []
    # The partial months: the first (when start is not its 1st) and the last (when end is not its last day); one
    # month when both fall in it.
    partial: list[tuple[dt.date, dt.date]] = []
    if start is not None and end is not None and month_start(start) == month_start(end):
        if start.day != 1 or end != _last_day(end):
            partial.append((start, end))
    else:
        if start is not None and start.day != 1:
            partial.append((start, _last_day(start)))
        if end is not None and end != _last_day(end):
            partial.append((month_start(end), end))
    for first, last in partial:
        month = month_start(first)
        included = _days_with_rows(first, last, horizon)
        excluded = _days_with_rows(month, _last_day(month), horizon) - included
        if included <= excluded:
            rows.append((first, last, 1))
            # Not from the aggregate: shrink the month range past this month (it is at one end of the range).
            if month == months_from:
                months_from = next_month_start(month)
            if next_month_start(month) == months_to:
                months_to = month
        else:
            if first > month:
                rows.append((month, first - dt.timedelta(days=1), -1))
            if last < _last_day(month):
                rows.append((last + dt.timedelta(days=1), _last_day(month), -1))
    return _Plan(months_from, months_to, tuple(rows))


def _plan_range(start: dt.date | None, end: dt.date | None) -> _Plan:
    """:func:`_plan` for any range, the calendar's last month (9999-12) included: it has no next month to bound it by,
    so a range reaching into it reads that part from the rows (no real history is there: an empty index range)."""
    tail: tuple[tuple[dt.date, dt.date, int], ...] = ()
    if (end is not None and end >= LAST_MONTH) or (start is not None and start >= LAST_MONTH):
        tail = ((max(start or LAST_MONTH, LAST_MONTH), end or dt.date.max, 1),)
        end = LAST_MONTH - dt.timedelta(days=1)
    if start is not None and end is not None and start > end:
        return _Plan(LAST_MONTH, LAST_MONTH, tail)
    # Tomorrow in UTC is today somewhere (UTC+14): later days are the future in every user's time zone.
    plan = _plan(start, end, dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1))
    return _Plan(plan.months_from, plan.months_to, plan.rows + tail)


async def period_totals(
    session: AsyncSession,
    user_id: uuid.UUID,
    start: dt.date | None,
    end: dt.date | None,
    *,
    currency: str | None = None,
    category_id: uuid.UUID | None = None,
) -> dict[TotalsKey, Total]:
    """Cents and count per (category, currency) of the user's expenses with ``start <= spent_on <= end``.

    ``None`` leaves that end open. One statement, reading a handful of aggregate rows (plus, at each end of the
    range, the rows of the partial month's side with fewer days up to today). Keys with no expenses are absent.
    """
    found: dict[TotalsKey, Total] = defaultdict(Total)
    if start is not None and end is not None and start > end:
        return {}
    plan = _plan_range(start, end)
    # One statement, the aggregates' months UNION ALL the partial months' rows: one round trip, one snapshot (reads
    # run without a transaction), and the same statement count whatever the date.
    parts: list[Select[*tuple[Any, ...]]] = []
    if plan.reads_months:
        agg = ExpenseMonthTotal
        where: list[Any] = [agg.user_id == user_id]
        if plan.months_from is not None:
            where.append(agg.month >= plan.months_from)
        if plan.months_to is not None:
            where.append(agg.month < plan.months_to)
        if currency is not None:
            where.append(agg.currency == currency)
        if category_id is not None:
            where.append(agg.category_id == category_id)
        parts.append(
            select(agg.category_id, agg.currency, func.sum(agg.total_cents), func.sum(agg.count))
            .where(*where)
            .group_by(agg.category_id, agg.currency)
        )
    if plan.rows:
        sign = case(*((Expense.spent_on.between(a, b), s) for a, b, s in plan.rows), else_=0)
        # Each amount rounded to whole cents in SQL: exact on SQLite too, where the column holds floats.
        row_cents = cast(func.round(Expense.amount * 100), BigInteger)
        where = [Expense.user_id == user_id, or_(*(Expense.spent_on.between(a, b) for a, b, _ in plan.rows))]
        if currency is not None:
            where.append(Expense.currency == currency)
        if category_id is not None:
            where.append(Expense.category_id == category_id)
        parts.append(
            select(Expense.category_id, Expense.currency, func.sum(sign * row_cents), func.sum(sign))
            .where(*where)
            .group_by(Expense.category_id, Expense.currency)
        )
    if parts:
        statement = parts[0] if len(parts) == 1 else union_all(*parts)
        for cid, cur, cents, count in await session.execute(statement):
            total = found[(cid, cur)]
            total.cents += int(cents)
            total.count += int(count)
    # > 0, not != 0: only a bug could make a count negative, and a report would divide by it.
    return {key: total for key, total in found.items() if total.count > 0}


def countable_from_aggregates(filters: ExpenseFilters) -> bool:
    """Whether a listing's filters are only a date range and/or a category, which the aggregates can count."""
    # The aggregates know nothing of tags either: a tag filter is counted from the rows (capped), like a search.
    return not filters.q and filters.min_amount is None and filters.max_amount is None and not filters.tags


async def aggregate_count(session: AsyncSession, user_id: uuid.UUID, filters: ExpenseFilters) -> int | None:
    """The exact number of expenses a listing with ``filters`` has, from the aggregates; None when the filters
    include a text search or an amount bound (the aggregates know nothing of titles or single amounts)."""
    if not countable_from_aggregates(filters):
        return None
    totals = await period_totals(
        session, user_id, filters.date_from, filters.date_to, currency=filters.currency, category_id=filters.category_id
    )
    return sum(total.count for total in totals.values())
