"""Expenses, always scoped to their owner: a foreign id is indistinguishable from a missing one."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any, Generic, Literal, TypeVar

import anyio.to_thread
from advanced_alchemy.exceptions import NotFoundError
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from litestar.datastructures import UploadFile
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    Text,
    and_,
    bindparam,
    cast,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    tuple_,
)
from sqlalchemy.orm import InstrumentedAttribute
from uuid_utils.compat import uuid7

from expense_tracker.constants import (
    IMPORT_FILE_MAX_BYTES,
    LIST_COUNT_CAP,
    RECENT_CURRENCIES_MAX,
    RECENT_CURRENCIES_SCAN,
)
from expense_tracker.db.folding import among, folded
from expense_tracker.db.models import Category, Expense, Tag, User, expense_tag
from expense_tracker.domain.categories.services import CategoryService
from expense_tracker.domain.expenses import csv_io
from expense_tracker.domain.expenses.csv_io import ImportRow
from expense_tracker.domain.expenses.cursors import Seek
from expense_tracker.domain.expenses.schemas import (
    CurrencySum,
    ExpenseFilters,
    ExpenseRead,
    ExpenseTotals,
    ImportResult,
    SortKey,
)
from expense_tracker.domain.expenses.search import SearchFilters, text_matches
from expense_tracker.domain.expenses.totals import countable_from_aggregates, period_totals
from expense_tracker.domain.tags.services import (
    add_expense_tags,
    aggregated_tag_names,
    apply_expense_tags,
    split_aggregated,
    tag_filter_clauses,
    tag_names,
)
from expense_tracker.lib import metrics
from expense_tracker.lib.currencies import check_chosen_currency, is_active
from expense_tracker.lib.money import check_decimals, quantize
from expense_tracker.lib.ownership import OwnedRowService
from expense_tracker.lib.problems import ConflictError, FieldValidationError
from expense_tracker.lib.timezones import today_in

_ORDER: dict[str, tuple[ColumnElement[Any], ...]] = {
    "spent_on": (Expense.spent_on.asc(), Expense.id.asc()),
    "-spent_on": (Expense.spent_on.desc(), Expense.id.desc()),
    # By amount within a currency (issue 14): 5.00 EUR and 5.00 USD are not the same amount. Currencies in code
    # order, reversed with the rest for "largest first", so either direction is one index range read in order.
    "amount": (Expense.currency.asc(), Expense.amount.asc(), Expense.id.asc()),
    "-amount": (Expense.currency.desc(), Expense.amount.desc(), Expense.id.desc()),
    "created_at": (Expense.created_at.asc(), Expense.id.asc()),
}
# The column each sort orders by and whether it descends: the keyset seek continues in the same direction.
_SORT_COLUMN: dict[str, tuple[InstrumentedAttribute[Any], bool]] = {
    "spent_on": (Expense.spent_on, False),
    "-spent_on": (Expense.spent_on, True),
    "amount": (Expense.amount, False),
    "-amount": (Expense.amount, True),
    "created_at": (Expense.created_at, False),
}
EXPORT_BATCH = 500
IMPORT_BATCH = 500
"""Rows an import reads, validates (in a worker thread) and stores (one COPY or INSERT round trip) at a time: big enough
to be fast, small enough that storing one batch never holds the event loop for more than a few milliseconds, and the
most rows an import holds in memory at once."""


Row = TypeVar("Row", Expense, ExpenseRead)
ExpenseSource = Literal["api", "ui", "recurring"]
"""Where a single expense was entered (imports count as ``import``): the ``source`` label of the metric."""


class ImportTooLargeError(Exception):
    """The uploaded file exceeds ``IMPORT_FILE_MAX_BYTES`` (a 413)."""


class SplitPartError(ConflictError):
    """A part of a split payment changed or deleted on its own (a 409): its parts must keep adding up to the total,
    so it is changed through its split. The problem names the split to use instead."""

    def __init__(self, split_id: uuid.UUID) -> None:
        path = f"/api/splits/{split_id}"
        super().__init__(
            detail=f"This expense is part of a split payment: change or delete it through {path}.",
            extra={"split_id": str(split_id), "split": path},
        )
        self.split_id = split_id


def filter_clauses(user_id: uuid.UUID, filters: ExpenseFilters) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = [Expense.user_id == user_id]
    if filters.date_from is not None:
        clauses.append(Expense.spent_on >= filters.date_from)
    if filters.date_to is not None:
        clauses.append(Expense.spent_on <= filters.date_to)
    if filters.category_id is not None:
        clauses.append(Expense.category_id == filters.category_id)
    if filters.currency is not None:
        clauses.append(Expense.currency == filters.currency)
    if filters.min_amount is not None:
        clauses.append(Expense.amount >= filters.min_amount)
    if filters.max_amount is not None:
        clauses.append(Expense.amount <= filters.max_amount)
    clauses += tag_filter_clauses(user_id, filters.tags, filters.tag_mode)
    if filters.search is not None:
        clauses.extend(search_clauses(user_id, filters.search))
    return clauses


def search_clauses(user_id: uuid.UUID, search: SearchFilters) -> list[ColumnElement[bool]]:
    """The search box's conditions, ANDed with the other filters (``currency:EUR`` with ``currency=USD`` is empty)."""
    clauses: list[ColumnElement[bool]] = []
    if search.words or search.phrases:
        document = folded(Expense.title, Expense.notes)  # exactly the indexed expression (ix_expense_search)

        def title_notes_or_tag(test: Callable[[ColumnElement[str]], ColumnElement[bool]]) -> ColumnElement[bool]:
            # A word may also be held by one of the expense's tag names (the user's tags only).
            tagged = (
                select(expense_tag.c.expense_id)
                .join(Tag, Tag.id == expense_tag.c.tag_id)
                .where(Tag.user_id == user_id, test(folded(Tag.name)))
            )
            return or_(test(document), among(Expense.id, tagged.scalar_subquery()))

        clauses.append(text_matches(search, title_notes_or_tag))
    if search.min_amount is not None:
        clauses.append(Expense.amount >= search.min_amount)
    if search.max_amount is not None:
        clauses.append(Expense.amount <= search.max_amount)
    if search.date_from is not None:
        clauses.append(Expense.spent_on >= search.date_from)
    if search.date_to is not None:
        clauses.append(Expense.spent_on <= search.date_to)
    clauses.extend(Expense.currency == code for code in search.currencies)
    for name in search.category_names:
        # By name, as typed in the box: case- and accent-insensitive; no such category means no match.
        named = select(Category.id).where(
            Category.user_id == user_id, folded(Category.name) == folded(bindparam(None, name, type_=Text()))
        )
        clauses.append(Expense.category_id.in_(named))
    # Every ``tag:`` operator must hold, like the box's other operators (the filter panel's any/all is separate).
    clauses += tag_filter_clauses(user_id, search.tags, "all")
    return clauses


def seek_clause(after: Seek) -> ColumnElement[bool]:
    """Rows after ``after`` in its sort order: ``(key, id) > (value, id)`` (``<`` when descending).

    Spelled ``key >= v AND (key > v OR id > i)`` instead of a row-value comparison: the first term is an index range
    on every backend and for either index direction, the second only drops the rows that tie with ``v``.
    """
    column, descending = _SORT_COLUMN[after.sort]
    if after.sort in ("amount", "-amount"):
        # Three keys: a row-value comparison, which PostgreSQL and SQLite both turn into the start of an index range
        # of (user_id, currency, amount, id) (an expanded OR would read every row of the cursor's currency before it).
        key = tuple_(Expense.currency, Expense.amount, Expense.id)
        value = tuple_(
            literal(after.currency), literal(after.value, Expense.amount.type), literal(after.id, Expense.id.type)
        )
        return key < value if descending else key > value
    if descending:
        return and_(column <= after.value, or_(column < after.value, Expense.id < after.id))
    return and_(column >= after.value, or_(column > after.value, Expense.id > after.id))


@dataclass(frozen=True)
class ExpenseListing(Generic[Row]):
    """One page of a listing: ORM objects for the pages, response structs for the API."""

    items: Sequence[Row]
    total: int
    """Exact, or a lower bound when ``total_capped`` (then exactly ``LIST_COUNT_CAP``); 0 when not asked for."""
    total_capped: bool
    next_after: Seek | None
    """Where the next page starts; ``None`` on the last page."""
    totals: ExpenseTotals | None = None
    """What the whole filtered view adds up to per currency (``total`` is its count); ``None`` when not asked for."""
    tags: dict[uuid.UUID, list[str]] = field(default_factory=dict)
    """The page's tag names per expense (untagged ones absent), read in one query; empty when not asked for."""


def filtered_select(user_id: uuid.UUID, filters: ExpenseFilters) -> Select[Expense]:
    return select(Expense).where(*filter_clauses(user_id, filters)).order_by(*_ORDER[filters.sort])


def _seek_after(sort: SortKey, row: Expense | ExpenseRead, position: int) -> Seek:
    column, _ = _SORT_COLUMN[sort]
    currency = row.currency if sort in ("amount", "-amount") else None
    return Seek(sort=sort, value=getattr(row, column.key), id=row.id, position=position, currency=currency)


READ_COLUMNS = tuple(Expense.__table__.c[name] for name in ExpenseRead.__struct_fields__ if name != "tags")
"""The columns of :class:`ExpenseRead`, in its field order: the API's reads select exactly these and build the struct
from each row positionally, without an ORM object, an identity-map entry or a ``to_schema`` conversion per row.
``tags`` (the last field) is no column: it is read for a whole page at once and set afterwards."""


def expense_read(expense: Expense, tags: list[str]) -> ExpenseRead:
    """The API's view of an expense the service just wrote (its tags as stored)."""
    read = ExpenseRead(*(getattr(expense, column.key) for column in READ_COLUMNS))
    read.tags = tags
    return read


def _totals(sums: dict[str, tuple[int, int]]) -> ExpenseTotals:
    """``{currency: (cents, count)}`` as totals, currencies in code order."""
    currencies = [
        CurrencySum(currency=code, total=Decimal(cents).scaleb(-2), count=count)
        for code, (cents, count) in sorted(sums.items())
    ]
    return ExpenseTotals(count=sum(c.count for c in currencies), count_capped=False, currencies=currencies)


def _page_totals(rows: Sequence[Expense | ExpenseRead]) -> ExpenseTotals:
    sums: dict[str, tuple[int, int]] = {}
    for row in rows:
        cents, count = sums.get(row.currency, (0, 0))
        sums[row.currency] = (cents + int(quantize(Decimal(row.amount)) * 100), count + 1)
    return _totals(sums)


def expense_reads(rows: Iterable[Sequence[Any]]) -> list[ExpenseRead]:
    return [ExpenseRead(*row) for row in rows]


class ExpenseService(OwnedRowService[Expense]):
    class Repo(SQLAlchemyAsyncRepository[Expense]):
        model_type = Expense

    repository_type = Repo

    @cached_property
    def categories(self) -> CategoryService:
        """The categories, on this service's session: checks and imports see (and join) the same transaction."""
        return CategoryService(session=self.repository.session)

    async def page(
        self,
        user_id: uuid.UUID,
        filters: ExpenseFilters,
        limit: int,
        offset: int = 0,
        after: Seek | None = None,
        *,
        with_total: bool = True,
        with_tags: bool = False,
    ) -> ExpenseListing[Expense]:
        """The page of ``limit`` rows after ``after`` (a keyset seek) or, without one, after ``offset`` rows; with
        ``with_tags`` also the page's tag names (one more query)."""

        async def fetch(statement: Select[Any]) -> list[Expense]:
            return list((await self.repository.session.scalars(statement)).all())

        listing = await self._listing(
            filtered_select(user_id, filters), fetch, user_id, filters, limit, offset, after, with_total
        )
        if with_tags and listing.items:
            listing.tags.update(await tag_names(self.repository.session, [e.id for e in listing.items]))
        return listing

    async def page_read(
        self, user_id: uuid.UUID, filters: ExpenseFilters, limit: int, offset: int = 0, after: Seek | None = None
    ) -> ExpenseListing[ExpenseRead]:
        """The API's page: :meth:`page` as response structs built straight from the selected columns."""

        async def fetch(statement: Select[Any]) -> list[ExpenseRead]:
            return expense_reads(await self.repository.session.execute(statement))

        statement = filtered_select(user_id, filters).with_only_columns(*READ_COLUMNS)
        listing = await self._listing(statement, fetch, user_id, filters, limit, offset, after, True)
        # The whole page's tags in ONE query (never one per row).
        names = await tag_names(self.repository.session, [e.id for e in listing.items])
        for item in listing.items:
            item.tags = names.get(item.id, [])
        return listing

    async def _listing(
        self,
        statement: Select[Any],
        fetch: Callable[[Select[Any]], Awaitable[list[Row]]],
        user_id: uuid.UUID,
        filters: ExpenseFilters,
        limit: int,
        offset: int,
        after: Seek | None,
        with_total: bool,
    ) -> ExpenseListing[Row]:
        if after is not None:
            statement = statement.where(seek_clause(after))
        # One row more than the page tells whether there is a next page without a second query.
        rows = await fetch(statement.limit(limit + 1).offset(offset))
        more, items = len(rows) > limit, rows[:limit]
        start = after.position if after is not None else offset
        next_after = _seek_after(filters.sort, items[-1], start + len(items)) if more else None
        totals = None
        if with_total:
            if after is None and offset == 0 and not more:
                totals = _page_totals(items)  # the whole result is on this page: it is its own count and sum
            else:
                totals = await self.totals(user_id, filters)
        total, capped = (totals.count, totals.count_capped) if totals is not None else (0, False)
        return ExpenseListing(items=items, total=total, total_capped=capped, next_after=next_after, totals=totals)

    async def totals(self, user_id: uuid.UUID, filters: ExpenseFilters) -> ExpenseTotals:
        """How many rows match and what they add up to per currency: exact, or "more than ``LIST_COUNT_CAP``".

        The one place that decides how a filtered view is counted and summed (the listing's ``total``, the list page's
        totals line, ``GET /api/expenses/totals``). Dates, category and currency only: exact, from the maintained month
        aggregates (plus at most the smaller side of two partial months' rows), whatever the history size. Text
        search and amount bounds can match a few rows among a million; reading them all means reading every row of
        the user, so those stop after ``LIST_COUNT_CAP`` + 1 rows: beyond the cap the count is capped and no sum is
        given (a partial sum would be a wrong one).
        """
        session = self.repository.session
        if countable_from_aggregates(filters):
            found = await period_totals(
                session,
                user_id,
                filters.date_from,
                filters.date_to,
                currency=filters.currency,
                category_id=filters.category_id,
            )
            per_currency: dict[str, tuple[int, int]] = {}
            for (_, currency), total in found.items():
                cents, count = per_currency.get(currency, (0, 0))
                per_currency[currency] = (cents + total.cents, count + total.count)
            return _totals(per_currency)
        clauses = filter_clauses(user_id, filters)
        # Stop reading after one row more than the cap: the answer is "at most the cap" or "more than the cap".
        # Each amount in whole cents in SQL: exact on SQLite too, where the column holds floats.
        candidates = (
            select(Expense.currency, cast(func.round(Expense.amount * 100), BigInteger).label("cents"))
            .where(*clauses)
            .limit(LIST_COUNT_CAP + 1)
            .subquery()
        )
        statement = select(candidates.c.currency, func.sum(candidates.c.cents), func.count()).group_by(
            candidates.c.currency
        )
        sums = {currency: (int(c), int(n)) for currency, c, n in await session.execute(statement)}
        if sum(n for _, n in sums.values()) > LIST_COUNT_CAP:
            return ExpenseTotals(count=LIST_COUNT_CAP, count_capped=True, currencies=[])
        return _totals(sums)

    async def read_owned(self, user_id: uuid.UUID, expense_id: uuid.UUID) -> ExpenseRead:
        """One expense of ``user_id`` as the API returns it (one Core SELECT); a foreign id is a missing one."""
        statement = select(*READ_COLUMNS).where(Expense.id == expense_id, Expense.user_id == user_id)
        row = (await self.repository.session.execute(statement)).one_or_none()
        if row is None:
            raise NotFoundError(f"expense {expense_id}")
        read = ExpenseRead(*row)
        read.tags = await self.tags_of(expense_id)
        return read

    async def tags_of(self, expense_id: uuid.UUID) -> list[str]:
        """The tag names of one expense (already known to be the caller's)."""
        return (await tag_names(self.repository.session, [expense_id])).get(expense_id, [])

    async def _check_category(self, user_id: uuid.UUID, category_id: uuid.UUID | None) -> None:
        if category_id is not None and not await self.categories.owns(user_id, category_id):
            raise FieldValidationError([{"field": "category_id", "message": "is not one of your categories"}])

    @staticmethod
    def _check_decimals(amount: Any, currency: str) -> None:
        """Per-currency decimals (5.5 JPY, 12.345 USD) are refused here, where the currency is finally known (it may
        default to the user's or stay the expense's), for the API and the pages alike."""
        try:
            check_decimals(amount, currency)
        except ValueError as exc:
            raise FieldValidationError([{"field": "amount", "message": str(exc)}]) from None

    async def create_read(self, user: User, values: dict[str, Any], source: ExpenseSource) -> ExpenseRead:
        """:meth:`create_for`, answered as the API shows it (with the tags as stored)."""
        tags = list(values.pop("tags", None) or [])
        expense = await self.create_for(user, values, source)
        session = self.repository.session
        stored = await apply_expense_tags(session, user.id, [expense.id], tags, new=True) if tags else []
        return expense_read(expense, stored)

    async def update_read(self, user_id: uuid.UUID, expense_id: uuid.UUID, values: dict[str, Any]) -> ExpenseRead:
        """:meth:`update_for`, answered as the API shows it (with the tags as stored)."""
        expense = await self.update_for(user_id, expense_id, values)
        return expense_read(expense, await self.tags_of(expense.id))

    async def create_for(self, user: User, values: dict[str, Any], source: ExpenseSource) -> Expense:
        """Store one expense entered through ``source`` (counted in the ``expenses_created`` metric).

        One statement, one round trip: every column's value is made here (no read back after the INSERT), and a
        category's ownership is checked by the INSERT itself (``INSERT ... SELECT ... WHERE EXISTS``), not by a query
        before it. The row is not added to the session: nothing in the request changes it afterwards. ``tags`` (names)
        are set after it (created on the fly); none costs no statement.
        """
        tags = list(values.pop("tags", None) or [])
        if values.get("currency") and (problem := check_chosen_currency(values["currency"])):
            raise FieldValidationError([{"field": "currency", "message": problem}])
        now = dt.datetime.now(dt.UTC)
        row: dict[str, Any] = {
            "id": uuid7(),
            "user_id": user.id,
            "category_id": values.get("category_id"),
            "title": values["title"],
            "amount": values["amount"],
            "currency": values.get("currency") or user.currency,
            "spent_on": values.get("spent_on") or today_in(user.timezone),
            "notes": values.get("notes") or "",
            "split_id": values.get("split_id"),
            "created_at": now,
            "updated_at": now,
        }
        self._check_decimals(row["amount"], row["currency"])
        session = self.repository.session
        if row["category_id"] is None:
            await session.execute(insert(Expense).values(row))
        else:
            columns = Expense.__table__.c
            owned = exists().where(Category.id == row["category_id"], Category.user_id == user.id)
            source_row = select(*(bindparam(None, v, type_=columns[k].type) for k, v in row.items())).where(owned)
            result = await session.execute(insert(Expense).from_select(list(row), source_row))
            if result.rowcount != 1:
                raise FieldValidationError([{"field": "category_id", "message": "is not one of your categories"}])
        if tags:
            await apply_expense_tags(session, user.id, [row["id"]], tags, new=True)
        metrics.EXPENSES_CREATED.labels(source=source).inc()
        return Expense(**row)

    async def last_used_category(self, user_id: uuid.UUID) -> uuid.UUID | None:
        """The category of the user's most recently entered expense that has one: the new-expense form's default."""
        statement = (
            select(Expense.category_id)
            .where(Expense.user_id == user_id, Expense.category_id.is_not(None))
            .order_by(Expense.created_at.desc())
            .limit(1)
        )
        category_id: uuid.UUID | None = await self.repository.session.scalar(statement)
        return category_id

    async def recent_currencies(self, user: User) -> list[str]:
        """The currencies to offer first: the user's default, then the other active currencies of their latest
        ``RECENT_CURRENCIES_SCAN`` expenses, most recently entered first (at most ``RECENT_CURRENCIES_MAX`` in all).

        One statement: the newest rows by ``created_at`` (an index range of ``ix_expense_user_created_at_id``, read
        backwards) grouped by currency, whatever the history size.
        """
        latest = (
            select(Expense.currency, Expense.created_at)
            .where(Expense.user_id == user.id)
            .order_by(Expense.created_at.desc(), Expense.id.desc())
            .limit(RECENT_CURRENCIES_SCAN)
            .subquery()
        )
        statement = (
            select(latest.c.currency)
            .group_by(latest.c.currency)
            .order_by(func.max(latest.c.created_at).desc(), latest.c.currency)
        )
        used = (await self.repository.session.scalars(statement)).all()
        recent = [user.currency, *(code for code in used if code != user.currency and is_active(code))]
        return recent[:RECENT_CURRENCIES_MAX]

    async def update_for(self, user_id: uuid.UUID, expense_id: uuid.UUID, values: dict[str, Any]) -> Expense:
        """Change the given fields; ``tags`` (names), when given, replace the expense's tags."""
        values = dict(values)
        tags = values.pop("tags", None)
        expense = await self.get_owned(user_id, expense_id)
        if expense.split_id is not None:
            raise SplitPartError(expense.split_id)
        if "currency" in values and (problem := check_chosen_currency(values["currency"], expense.currency)):
            raise FieldValidationError([{"field": "currency", "message": problem}])
        if "amount" in values or "currency" in values:
            self._check_decimals(values.get("amount", expense.amount), values.get("currency") or expense.currency)
        if "category_id" in values:
            await self._check_category(user_id, values["category_id"])
        if tags is not None:
            # New tags are a change of the expense: updated_at says so (an earlier edit's undo then refuses to
            # overwrite them), in the same UPDATE as the other fields.
            values["updated_at"] = dt.datetime.now(dt.UTC)
        expense = await self.apply(expense, values)
        if tags is not None:
            await apply_expense_tags(self.repository.session, user_id, [expense.id], tags)
        return expense

    async def import_upload(self, user: User, upload: UploadFile) -> ImportResult:
        """The one import pipeline (API and browser): size check, parse, store, metrics. All or nothing.

        The file is read, validated and stored a batch at a time (parsing in a worker thread), so memory stays at one
        batch whatever the file's size. Raises :class:`ImportTooLargeError` or :class:`csv_io.ImportRejectedError`;
        batches stored before a problem turned up are in the caller's transaction, which must therefore roll back on
        either (both callers answer 4xx, which is never committed). On success the rows are in the caller's
        transaction, committed with the response.
        """
        # Litestar has spooled the upload to a temporary file (on disk above 1 MiB): its size costs no read.
        file = upload.file
        if file.seek(0, os.SEEK_END) > IMPORT_FILE_MAX_BYTES:
            metrics.IMPORTS.labels(outcome="rejected").inc()
            raise ImportTooLargeError
        file.seek(0)
        parser = csv_io.ImportParser(file, user.currency)  # type: ignore[arg-type] # a SpooledTemporaryFile is binary
        store = ImportStore(self, user)
        try:
            while not parser.done:
                # Validating a batch is pure CPU (50,000 rows: about a second): a worker thread keeps the loop serving.
                rows = await anyio.to_thread.run_sync(parser.next_batch, IMPORT_BATCH)
                if rows:
                    await store.add(rows)
            parser.finish()
        except csv_io.ImportRejectedError:
            metrics.IMPORTS.labels(outcome="rejected").inc()
            raise
        finally:
            parser.close()
        metrics.IMPORTS.labels(outcome="success").inc()
        metrics.EXPENSES_CREATED.labels(source="import").inc(parser.rows)
        return ImportResult(imported=parser.rows, categories_created=store.created)

    async def export_batches(
        self, user_id: uuid.UUID, filters: ExpenseFilters
    ) -> AsyncIterator[list[tuple[Expense, str | None, list[str]]]]:
        """Yield batches of (expense, category name, tag names) for the filtered view, without loading it all into
        memory. The tags come in the same statement (a subquery joining each row's names), not a query per batch:
        the stream holds its connection until the last row."""
        statement = (
            filtered_select(user_id, filters)
            .outerjoin(Category, Category.id == Expense.category_id)
            .add_columns(Category.name, aggregated_tag_names())
            .execution_options(yield_per=EXPORT_BATCH)
        )
        result = await self.repository.session.stream(statement)
        async for batch in result.partitions(EXPORT_BATCH):
            yield [(row[0], row[1], split_aggregated(row[2])) for row in batch]


_COPY_COLUMNS = (
    "id",
    "user_id",
    "category_id",
    "title",
    "amount",
    "currency",
    "spent_on",
    "notes",
    "created_at",
    "updated_at",
    "split_id",
)


class ImportStore:
    """Stores an import's rows batch by batch in the service's transaction, creating unknown categories on the way.

    PostgreSQL gets each batch by ``COPY`` (binary, one round trip, no per-row statement; it fires the table's
    triggers like an INSERT); other databases by one executemany INSERT. Core rows, never ORM objects: no identity map
    of the whole file is built.
    """

    def __init__(self, service: ExpenseService, user: User) -> None:
        self._service = service
        self._user = user
        self._category_ids: dict[str, uuid.UUID] | None = None
        self.created: list[str] = []
        self._split_ids: dict[str, uuid.UUID] = {}
        """The file's ``split_id`` values -> the new splits' ids (a split's parts may span batches)."""

    def _split_id(self, key: str | None) -> uuid.UUID | None:
        if key is None:
            return None
        if key not in self._split_ids:
            self._split_ids[key] = uuid7()
        return self._split_ids[key]

    async def _categories(self, rows: Sequence[ImportRow]) -> dict[str, uuid.UUID]:
        ids = self._category_ids
        names = dict.fromkeys(r.category for r in rows if r.category and (ids is None or r.category.lower() not in ids))
        if ids is None or names:
            ids, created = await self._service.categories.ensure_named(self._user.id, names)
            self._category_ids = ids
            self.created += created
        return ids

    async def add(self, rows: Sequence[ImportRow]) -> list[uuid.UUID]:
        """Store ``rows``; the new expenses' ids in the same order (the bank import ties its duplicate keys to them)."""
        ids = await self._categories(rows)
        session = self._service.repository.session
        user_id = self._user.id
        now = dt.datetime.now(dt.UTC)
        connection = await session.connection()
        if connection.dialect.name == "postgresql":
            raw = await connection.get_raw_connection()
            records = [
                (
                    uuid7(),
                    user_id,
                    ids[r.category.lower()] if r.category else None,
                    r.title,
                    r.amount,
                    r.currency,
                    r.spent_on,
                    r.notes,
                    now,
                    now,
                    self._split_id(r.split),
                )
                for r in rows
            ]
            await raw.driver_connection.copy_records_to_table(
                Expense.__tablename__, records=records, columns=_COPY_COLUMNS
            )
            new_ids = [record[0] for record in records]
        else:
            new_ids = await self._insert(rows, ids)
        # One tag lookup (and insert of new names) and one INSERT of the links per batch, not per row.
        await add_expense_tags(session, user_id, [(i, r.tags) for i, r in zip(new_ids, rows, strict=True) if r.tags])
        return new_ids

    async def _insert(self, rows: Sequence[ImportRow], ids: dict[str, uuid.UUID]) -> list[uuid.UUID]:
        """Store a batch with one executemany INSERT (databases without COPY)."""
        user_id = self._user.id
        new_ids = [uuid7() for _ in rows]
        values = [
            {
                "id": new_id,
                "user_id": user_id,
                "title": r.title,
                "amount": r.amount,
                "currency": r.currency,
                "spent_on": r.spent_on,
                "category_id": ids[r.category.lower()] if r.category else None,
                "notes": r.notes,
                "split_id": self._split_id(r.split),
            }
            for new_id, r in zip(new_ids, rows, strict=True)
        ]
        await self._service.repository.session.execute(insert(Expense), values)
        return new_ids
