"""Expenses, always scoped to their owner: a foreign id is indistinguishable from a missing one."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from functools import cached_property
from typing import Any, Literal

import anyio.to_thread
from advanced_alchemy.exceptions import NotFoundError
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from litestar.datastructures import UploadFile
from sqlalchemy import ColumnElement, Select, func, insert, or_, select

from expense_tracker.constants import IMPORT_FILE_MAX_BYTES
from expense_tracker.db.models import Category, Expense, User
from expense_tracker.domain.categories.services import CategoryService
from expense_tracker.domain.expenses import csv_io
from expense_tracker.domain.expenses.csv_io import ImportRow
from expense_tracker.domain.expenses.schemas import ExpenseFilters, ExpenseRead, ImportResult
from expense_tracker.lib import metrics
from expense_tracker.lib.ownership import OwnedRowService
from expense_tracker.lib.problems import FieldValidationError
from expense_tracker.lib.timezones import today_in

_ORDER: dict[str, tuple[ColumnElement[Any], ...]] = {
    "spent_on": (Expense.spent_on.asc(), Expense.id.asc()),
    "-spent_on": (Expense.spent_on.desc(), Expense.id.desc()),
    "amount": (Expense.amount.asc(), Expense.id.asc()),
    "-amount": (Expense.amount.desc(), Expense.id.desc()),
    "created_at": (Expense.created_at.asc(), Expense.id.asc()),
}
EXPORT_BATCH = 500
IMPORT_BATCH = 500
"""Rows per INSERT round trip: big enough to be fast, small enough that building one batch never holds the event loop
for more than a few milliseconds."""


ExpenseSource = Literal["api", "ui"]
"""Where a single expense was entered (imports count as ``import``): the ``source`` label of the metric."""


class ImportTooLargeError(Exception):
    """The uploaded file exceeds ``IMPORT_FILE_MAX_BYTES`` (a 413)."""


def filter_clauses(user_id: uuid.UUID, filters: ExpenseFilters) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = [Expense.user_id == user_id]
    if filters.date_from is not None:
        clauses.append(Expense.spent_on >= filters.date_from)
    if filters.date_to is not None:
        clauses.append(Expense.spent_on <= filters.date_to)
    if filters.category_id is not None:
        clauses.append(Expense.category_id == filters.category_id)
    if filters.q:
        clauses.append(
            or_(
                Expense.title.icontains(filters.q, autoescape=True), Expense.notes.icontains(filters.q, autoescape=True)
            )
        )
    if filters.min_amount is not None:
        clauses.append(Expense.amount >= filters.min_amount)
    if filters.max_amount is not None:
        clauses.append(Expense.amount <= filters.max_amount)
    return clauses


def filtered_select(user_id: uuid.UUID, filters: ExpenseFilters) -> Select[Expense]:
    return select(Expense).where(*filter_clauses(user_id, filters)).order_by(*_ORDER[filters.sort])


READ_COLUMNS = tuple(Expense.__table__.c[name] for name in ExpenseRead.__struct_fields__)
"""The columns of :class:`ExpenseRead`, in its field order: the API's reads select exactly these and build the struct
from each row positionally, without an ORM object, an identity-map entry or a ``to_schema`` conversion per row."""


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
        self, user_id: uuid.UUID, filters: ExpenseFilters, limit: int, offset: int
    ) -> tuple[Sequence[Expense], int]:
        session = self.repository.session
        total = await session.scalar(select(func.count()).select_from(Expense).where(*filter_clauses(user_id, filters)))
        rows = await session.scalars(filtered_select(user_id, filters).limit(limit).offset(offset))
        return rows.all(), total or 0

    async def page_read(
        self, user_id: uuid.UUID, filters: ExpenseFilters, limit: int, offset: int
    ) -> tuple[list[ExpenseRead], int]:
        """The API's page: :meth:`page` as response structs built straight from the selected columns."""
        session = self.repository.session
        total = await session.scalar(select(func.count()).select_from(Expense).where(*filter_clauses(user_id, filters)))
        statement = filtered_select(user_id, filters).with_only_columns(*READ_COLUMNS).limit(limit).offset(offset)
        return expense_reads(await session.execute(statement)), total or 0

    async def read_owned(self, user_id: uuid.UUID, expense_id: uuid.UUID) -> ExpenseRead:
        """One expense of ``user_id`` as the API returns it (one Core SELECT); a foreign id is a missing one."""
        statement = select(*READ_COLUMNS).where(Expense.id == expense_id, Expense.user_id == user_id)
        row = (await self.repository.session.execute(statement)).one_or_none()
        if row is None:
            raise NotFoundError(f"expense {expense_id}")
        return ExpenseRead(*row)

    async def _check_category(self, user_id: uuid.UUID, category_id: uuid.UUID | None) -> None:
        if category_id is not None and not await self.categories.owns(user_id, category_id):
            raise FieldValidationError([{"field": "category_id", "message": "is not one of your categories"}])

    async def create_for(self, user: User, values: dict[str, Any], source: ExpenseSource) -> Expense:
        """Store one expense entered through ``source`` (counted in the ``expenses_created`` metric)."""
        await self._check_category(user.id, values.get("category_id"))
        values["currency"] = values.get("currency") or user.currency
        values["spent_on"] = values.get("spent_on") or today_in(user.timezone)
        created: Expense = await self.create(Expense(user_id=user.id, **values))
        metrics.EXPENSES_CREATED.labels(source=source).inc()
        return created

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

    async def update_for(self, user_id: uuid.UUID, expense_id: uuid.UUID, values: dict[str, Any]) -> Expense:
        expense = await self.get_owned(user_id, expense_id)
        if "category_id" in values:
            await self._check_category(user_id, values["category_id"])
        return await self.apply(expense, values)

    async def delete_for(self, user_id: uuid.UUID, expense_id: uuid.UUID) -> None:
        expense = await self.get_owned(user_id, expense_id)
        await self.repository.delete(expense.id)

    async def import_upload(self, user: User, upload: UploadFile) -> ImportResult:
        """The one import pipeline (API and browser): size check, parse, store, metrics. All or nothing.

        Raises :class:`ImportTooLargeError` or :class:`csv_io.ImportRejectedError`; on success the rows are in the
        caller's transaction, committed with the response.
        """
        content = await upload.read(IMPORT_FILE_MAX_BYTES + 1)
        if len(content) > IMPORT_FILE_MAX_BYTES:
            metrics.IMPORTS.labels(outcome="rejected").inc()
            raise ImportTooLargeError
        try:
            # Parsing and validating 50,000 rows is about a second of pure CPU: a worker thread keeps the loop serving.
            rows = await anyio.to_thread.run_sync(csv_io.parse_import, content, user.currency)
        except csv_io.ImportRejectedError:
            metrics.IMPORTS.labels(outcome="rejected").inc()
            raise
        del content
        created = await self.import_rows(user, rows)
        metrics.IMPORTS.labels(outcome="success").inc()
        metrics.EXPENSES_CREATED.labels(source="import").inc(len(rows))
        return ImportResult(imported=len(rows), categories_created=created)

    async def import_rows(self, user: User, rows: Sequence[ImportRow]) -> list[str]:
        """Store every row in the caller's transaction (all or nothing); returns the category names it created.

        Batched Core INSERTs (executemany), not ORM objects: each batch is a short stretch of loop time and one round
        trip, and no identity map of 50,000 objects is built.
        """
        session = self.repository.session
        names = dict.fromkeys(r.category for r in rows if r.category)
        ids, created = await self.categories.ensure_named(user.id, names)
        for start in range(0, len(rows), IMPORT_BATCH):
            values = [
                {
                    "user_id": user.id,
                    "title": r.title,
                    "amount": r.amount,
                    "currency": r.currency,
                    "spent_on": r.spent_on,
                    "category_id": ids[r.category.lower()] if r.category else None,
                    "notes": r.notes,
                }
                for r in rows[start : start + IMPORT_BATCH]
            ]
            await session.execute(insert(Expense), values)
        return created

    async def export_batches(
        self, user_id: uuid.UUID, filters: ExpenseFilters
    ) -> AsyncIterator[list[tuple[Expense, str | None]]]:
        """Yield batches of (expense, category name) for the filtered view, without loading it all into memory."""
        statement = (
            filtered_select(user_id, filters)
            .outerjoin(Category, Category.id == Expense.category_id)
            .add_columns(Category.name)
            .execution_options(yield_per=EXPORT_BATCH)
        )
        result = await self.repository.session.stream(statement)
        async for batch in result.partitions(EXPORT_BATCH):
            yield [(row[0], row[1]) for row in batch]
