"""Exchange rates (CRUD, CSV) and the conversion of report totals with them.

Conversion reads the same aggregates as the reports (``domain/expenses/totals.py``): one statement gives the
period's sums per category and currency; a currency whose rate (or the target's) changes within the period is read
again once per rate period, so each sum meets exactly one rate. Without a change inside the period that costs nothing
more.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import BigInteger, cast, func, select

from expense_tracker.constants import RATE_PERIOD_QUERIES_MAX
from expense_tracker.db.models import ExchangeRate, Expense
from expense_tracker.domain.expenses.totals import Total, TotalsKey, period_totals
from expense_tracker.domain.rates import csv_io
from expense_tracker.domain.rates.conversion import Conversion, Rate, RateTable
from expense_tracker.lib.ownership import OwnedRowService
from expense_tracker.lib.problems import ConflictError, FieldValidationError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

K = TypeVar("K")


async def load_rate_table(session: AsyncSession, user_id: uuid.UUID, base: str) -> RateTable:
    """The user's rates into ``base`` (their default currency): rates entered under another default are unused."""
    statement = select(ExchangeRate.currency, ExchangeRate.valid_from, ExchangeRate.rate).where(
        ExchangeRate.user_id == user_id, ExchangeRate.base == base
    )
    rows = await session.execute(statement)
    return RateTable(base, (Rate(cur, day, rate) for cur, day, rate in rows))


class RateService(OwnedRowService[ExchangeRate]):
    class Repo(SQLAlchemyAsyncRepository[ExchangeRate]):
        model_type = ExchangeRate

    repository_type = Repo

    async def list_for(self, user_id: uuid.UUID) -> Sequence[ExchangeRate]:
        result: Sequence[ExchangeRate] = await self.repository.get_many(
            ExchangeRate.user_id == user_id,
            order_by=[(ExchangeRate.base, False), (ExchangeRate.currency, False), (ExchangeRate.valid_from, True)],
        )
        return result

    async def table(self, user_id: uuid.UUID, base: str) -> RateTable:
        return await load_rate_table(self.repository.session, user_id, base)

    async def _ensure_free(
        self, user_id: uuid.UUID, base: str, currency: str, valid_from: dt.date, exclude: uuid.UUID | None = None
    ) -> None:
        statement = select(ExchangeRate.id).where(
            ExchangeRate.user_id == user_id,
            ExchangeRate.base == base,
            ExchangeRate.currency == currency,
            ExchangeRate.valid_from == valid_from,
        )
        if exclude is not None:
            statement = statement.where(ExchangeRate.id != exclude)
        if await self.repository.session.scalar(statement) is not None:
            raise ConflictError(detail=f"A {currency} rate valid from {valid_from} already exists; change that one.")

    async def create_for(self, user_id: uuid.UUID, base: str, values: dict[str, Any]) -> ExchangeRate:
        if values["currency"] == base:
            raise FieldValidationError(
                [{"field": "currency", "message": f"must differ from your default currency ({base})"}]
            )
        await self._ensure_free(user_id, base, values["currency"], values["valid_from"])
        created: ExchangeRate = await self.create(ExchangeRate(user_id=user_id, base=base, **values))
        return created

    async def update_for(self, user_id: uuid.UUID, rate_id: uuid.UUID, values: dict[str, Any]) -> ExchangeRate:
        rate = await self.get_owned(user_id, rate_id)
        if "valid_from" in values:
            await self._ensure_free(user_id, rate.base, rate.currency, values["valid_from"], exclude=rate_id)
        return await self.apply(rate, values)

    async def delete_for(self, user_id: uuid.UUID, rate_id: uuid.UUID) -> None:
        rate = await self.get_owned(user_id, rate_id)
        await self.repository.delete(rate.id)

    async def import_csv(self, user_id: uuid.UUID, base: str, data: bytes) -> int:
        """All or nothing (raises ``ImportRejectedError``); a row for a (currency, valid_from) the user already has
        replaces that rate, so importing an export again changes nothing."""
        rows = csv_io.parse(data, base)
        existing = {(r.currency, r.valid_from): r for r in await self.list_for(user_id) if r.base == base}
        session = self.repository.session
        for currency, rate, valid_from in rows:
            found = existing.get((currency, valid_from))
            if found is not None:
                found.rate = rate
            else:
                session.add(
                    ExchangeRate(user_id=user_id, base=base, currency=currency, rate=rate, valid_from=valid_from)
                )
        await session.flush()
        return len(rows)

    async def export_csv(self, user_id: uuid.UUID, base: str) -> str:
        rates = [r for r in await self.list_for(user_id) if r.base == base]
        return csv_io.export_lines((r.currency, r.rate, r.valid_from) for r in rates)


@dataclass(frozen=True)
class Piece:
    """A sum to convert: ``total`` of ``currency`` for ``key``, spent between ``start`` and ``end``."""

    key: Any
    currency: str
    start: dt.date
    end: dt.date
    total: Total


Fetch = Callable[[str, dt.date, dt.date], Awaitable[dict[Any, Total]]]
"""(currency, first day, last day) -> that currency's sums per key over those days."""
FetchDays = Callable[[str, dt.date, dt.date], Awaitable[list[tuple[Any, dt.date, Total]]]]
"""(currency, first day, last day) -> that currency's sums per key and day."""


async def day_totals(
    session: AsyncSession,
    user_id: uuid.UUID,
    currency: str,
    start: dt.date,
    end: dt.date,
    category_id: uuid.UUID | None = None,
) -> list[tuple[uuid.UUID | None, dt.date, Total]]:
    """One currency's sums per category and day from the rows: for a period with many rate changes (daily rates),
    one statement instead of one per rate period."""
    # Each amount rounded to whole cents in SQL, as in totals.py: exact on SQLite too, where the column holds floats.
    cents = cast(func.round(Expense.amount * 100), BigInteger)
    where = [Expense.user_id == user_id, Expense.currency == currency, Expense.spent_on.between(start, end)]
    if category_id is not None:
        where.append(Expense.category_id == category_id)
    statement = (
        select(Expense.category_id, Expense.spent_on, func.sum(cents), func.count())
        .where(*where)
        .group_by(Expense.category_id, Expense.spent_on)
    )
    return [(cid, day, Total(int(c), int(n))) for cid, day, c, n in await session.execute(statement)]


async def convert_pieces(
    pieces: Iterable[Piece],
    table: RateTable,
    target_of: Callable[[Any], str],
    fetch: Fetch,
    fetch_days: FetchDays,
) -> dict[str, Conversion[Any]]:
    """Convert each piece to its key's target currency; one :class:`Conversion` per target currency.

    A piece whose rates do not change within its days meets one factor. Otherwise its currency's sums are fetched
    again per rate period (once per currency and period, whatever the number of keys), from the aggregates where a
    period spans whole months; with more than ``RATE_PERIOD_QUERIES_MAX`` periods (daily rates), once per day from
    the rows instead, in one statement."""
    conversions: dict[str, Conversion[Any]] = {}
    fetched: dict[tuple[str, dt.date, dt.date], dict[Any, Total]] = {}
    by_day: dict[tuple[str, dt.date, dt.date], list[tuple[Any, dt.date, Total]]] = {}
    for piece in pieces:
        target = target_of(piece.key)
        conversion = conversions.setdefault(target, Conversion(target))
        segments = table.segments(piece.currency, target, piece.start, piece.end)
        if len(segments) == 1:
            factor = table.factor(piece.currency, target, piece.start)
            conversion.add(piece.key, piece.total.cents, piece.total.count, factor, piece.currency)
            continue
        if len(segments) > RATE_PERIOD_QUERIES_MAX:
            span = (piece.currency, piece.start, piece.end)
            if span not in by_day:
                by_day[span] = await fetch_days(*span)
            for key, day, day_total in by_day[span]:
                if key == piece.key:
                    factor = table.factor(piece.currency, target, day)
                    conversion.add(key, day_total.cents, day_total.count, factor, piece.currency)
            continue
        for first, last in segments:
            cache_key = (piece.currency, first, last)
            if cache_key not in fetched:
                fetched[cache_key] = await fetch(piece.currency, first, last)
            part = fetched[cache_key].get(piece.key)
            if part is not None:
                factor = table.factor(piece.currency, target, first)
                conversion.add(piece.key, part.cents, part.count, factor, piece.currency)
    return conversions


async def convert_period(
    session: AsyncSession,
    user_id: uuid.UUID,
    table: RateTable,
    start: dt.date,
    end: dt.date,
    target_of: Callable[[uuid.UUID | None], str],
    *,
    category_id: uuid.UUID | None = None,
    found: dict[TotalsKey, Total] | None = None,
) -> tuple[dict[TotalsKey, Total], dict[str, Conversion[Any]]]:
    """The period's sums per (category, currency) as stored, and converted per category to ``target_of(category)``.

    ``found``: the period's ``period_totals`` when the caller already has them (saves the first statement)."""
    if found is None:
        found = await period_totals(session, user_id, start, end, category_id=category_id)

    async def fetch(currency: str, first: dt.date, last: dt.date) -> dict[Any, Total]:
        part = await period_totals(session, user_id, first, last, currency=currency, category_id=category_id)
        return {cid: total for (cid, _), total in part.items()}

    async def fetch_days(currency: str, first: dt.date, last: dt.date) -> list[tuple[Any, dt.date, Total]]:
        return list(await day_totals(session, user_id, currency, first, last, category_id))

    pieces = [Piece(cid, currency, start, end, total) for (cid, currency), total in found.items()]
    return found, await convert_pieces(pieces, table, target_of, fetch, fetch_days)
