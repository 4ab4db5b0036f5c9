from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.datastructures import State, UploadFile
from litestar.di import NamedDependency, Provide
from litestar.exceptions import HTTPException
from litestar.params import FromPath, JSONBody, MultipartBody, QueryParameter
from litestar.response import Stream
from litestar.status_codes import HTTP_201_CREATED

from expense_tracker.constants import IMPORT_FILE_MAX_BYTES, OFFSET_MAX, PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX
from expense_tracker.db.models import Expense, User
from expense_tracker.dependencies import Expenses
from expense_tracker.domain.accounts.auth import SESSION_SECURITY
from expense_tracker.domain.expenses import csv_io
from expense_tracker.domain.expenses.schemas import (
    NUL_MESSAGE,
    ExpenseCreate,
    ExpenseFilters,
    ExpensePage,
    ExpenseRead,
    ExpenseUpdate,
    ImportResult,
    SortKey,
)
from expense_tracker.domain.expenses.services import ImportTooLargeError, stream_export
from expense_tracker.lib import metrics
from expense_tracker.lib.idempotency import IdempotencyKeyHeader, fingerprint, idempotent, json_fingerprint
from expense_tracker.lib.money import AMOUNT_MESSAGE, parse_amount
from expense_tracker.lib.problems import FieldValidationError
from expense_tracker.lib.query import DATE_MESSAGE, optional, parse_date
from expense_tracker.lib.structs import provided_fields


def expense_read(expense: Expense) -> ExpenseRead:
    return ExpenseRead(
        id=expense.id,
        title=expense.title,
        amount=expense.amount,
        currency=expense.currency,
        category_id=expense.category_id,
        spent_on=expense.spent_on,
        notes=expense.notes,
        created_at=expense.created_at,
        updated_at=expense.updated_at,
    )


def _amount(raw: str) -> Decimal:
    return parse_amount(raw, allow_zero=True)


async def provide_filters(
    date_from: Annotated[str | None, QueryParameter(name="from", description="First day, YYYY-MM-DD.")] = None,
    date_to: Annotated[str | None, QueryParameter(name="to", description="Last day, YYYY-MM-DD.")] = None,
    category_id: Annotated[str | None, QueryParameter(description="A category id.")] = None,
    q: Annotated[str | None, QueryParameter(max_length=200, description="Text in title or notes.")] = None,
    min_amount: Annotated[str | None, QueryParameter(description="Decimal, inclusive.")] = None,
    max_amount: Annotated[str | None, QueryParameter(description="Decimal, inclusive.")] = None,
    sort: Annotated[SortKey, QueryParameter()] = "-spent_on",
) -> ExpenseFilters:
    """Query parameters shared by the listing, the CSV export and the UI table."""
    if q is not None and "\x00" in q:  # PostgreSQL cannot compare text containing U+0000
        raise FieldValidationError([{"field": "q", "message": NUL_MESSAGE}])
    start = optional("from", date_from, parse_date, DATE_MESSAGE)
    end = optional("to", date_to, parse_date, DATE_MESSAGE)
    if start and end and start > end:
        raise FieldValidationError([{"field": "from", "message": "must not be after 'to'"}])
    low = optional("min_amount", min_amount, _amount, AMOUNT_MESSAGE)
    high = optional("max_amount", max_amount, _amount, AMOUNT_MESSAGE)
    if low is not None and high is not None and low > high:
        raise FieldValidationError([{"field": "min_amount", "message": "must not exceed max_amount"}])
    return ExpenseFilters(
        date_from=start,
        date_to=end,
        category_id=optional("category_id", category_id, uuid.UUID, "is not a valid id"),
        q=q.strip() or None if q else None,
        min_amount=low,
        max_amount=high,
        sort=sort,
    )


@dataclass
class ImportForm:
    file: UploadFile


class ExpenseController(Controller):
    path = "/api/expenses"
    tags = ["expenses"]
    security = SESSION_SECURITY
    dependencies = {"filters": Provide(provide_filters)}

    @get("/", operation_id="listExpenses")
    async def list_expenses(
        self,
        request: Request[User, Any, Any],
        expenses: Expenses,
        filters: NamedDependency[ExpenseFilters],
        limit: Annotated[int, QueryParameter(ge=1, le=PAGE_SIZE_MAX)] = PAGE_SIZE_DEFAULT,
        offset: Annotated[int, QueryParameter(ge=0, le=OFFSET_MAX)] = 0,
    ) -> ExpensePage:
        items, total = await expenses.page(request.user.id, filters, limit, offset)
        return ExpensePage(items=[expense_read(e) for e in items], total=total, limit=limit, offset=offset)

    @post("/", operation_id="createExpense", status_code=HTTP_201_CREATED)
    async def create_expense(
        self,
        request: Request[User, Any, Any],
        data: JSONBody[ExpenseCreate],
        expenses: Expenses,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[ExpenseRead]:
        async def create() -> ExpenseRead:
            expense = await expenses.create_for(request.user, provided_fields(data))
            metrics.EXPENSES_CREATED.labels(source="api").inc()
            return expense_read(expense)

        async def request_fingerprint() -> str:
            return json_fingerprint(request.method, request.url.path, await request.body())

        session = expenses.repository.session
        return await idempotent(session, request.user.id, idempotency_key, request_fingerprint, ExpenseRead, create)

    @get("/export.csv", operation_id="exportExpenses", media_type="text/csv")
    async def export_csv(
        self, request: Request[User, Any, Any], state: State, filters: NamedDependency[ExpenseFilters]
    ) -> Stream:
        """The filtered view as CSV (same columns the import accepts), streamed in batches."""
        user_id = request.user.id

        async def lines() -> AsyncIterator[str]:
            yield csv_io.header_line()
            async with state.alchemy.get_session() as session:
                async for batch in stream_export(session, user_id, filters):
                    yield "".join(csv_io.expense_line(expense, name) for expense, name in batch)

        filename = f"expenses-{dt.date.today().isoformat()}.csv"  # noqa: DTZ011 - a file name, not a business date
        return Stream(
            lines(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    @post(
        "/import",
        operation_id="importExpenses",
        status_code=HTTP_201_CREATED,
        request_max_body_size=IMPORT_FILE_MAX_BYTES + 64 * 1024,
    )
    async def import_csv(
        self,
        request: Request[User, Any, Any],
        data: MultipartBody[ImportForm],
        expenses: Expenses,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[ImportResult]:
        """All or nothing: every row is validated first; any invalid row means nothing is stored."""

        async def create() -> ImportResult:
            try:
                return await expenses.import_upload(request.user, data.file)
            except ImportTooLargeError:
                detail = f"The file is larger than {IMPORT_FILE_MAX_BYTES} bytes."
                raise HTTPException(status_code=413, detail=detail) from None
            except csv_io.ImportRejectedError as exc:
                detail = f"{exc.total} problem(s) found; nothing was imported."
                raise FieldValidationError(exc.errors, detail=detail) from None

        async def request_fingerprint() -> str:
            # The file, not the multipart body: a retry re-encodes it with a new boundary (and maybe another name).
            content = await data.file.read(IMPORT_FILE_MAX_BYTES + 1)
            await data.file.seek(0)
            return fingerprint(request.method.encode(), request.url.path.encode(), content)

        session = expenses.repository.session
        return await idempotent(session, request.user.id, idempotency_key, request_fingerprint, ImportResult, create)

    @get("/{expense_id:uuid}", operation_id="getExpense")
    async def get_expense(
        self, request: Request[User, Any, Any], expense_id: FromPath[uuid.UUID], expenses: Expenses
    ) -> ExpenseRead:
        return expense_read(await expenses.get_owned(request.user.id, expense_id))

    @patch("/{expense_id:uuid}", operation_id="updateExpense")
    async def update_expense(
        self,
        request: Request[User, Any, Any],
        expense_id: FromPath[uuid.UUID],
        data: JSONBody[ExpenseUpdate],
        expenses: Expenses,
    ) -> ExpenseRead:
        return expense_read(await expenses.update_for(request.user.id, expense_id, provided_fields(data)))

    @delete("/{expense_id:uuid}", operation_id="deleteExpense")
    async def delete_expense(
        self, request: Request[User, Any, Any], expense_id: FromPath[uuid.UUID], expenses: Expenses
    ) -> None:
        await expenses.delete_for(request.user.id, expense_id)
