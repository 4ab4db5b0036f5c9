from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

import anyio.to_thread
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.datastructures import State, UploadFile
from litestar.di import NamedDependency, Provide
from litestar.exceptions import HTTPException
from litestar.params import FromPath, JSONBody, MultipartBody, QueryParameter
from litestar.response import Stream
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from expense_tracker.constants import IMPORT_FILE_MAX_BYTES, OFFSET_MAX, PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX
from expense_tracker.db.models import User
from expense_tracker.dependencies import AppSettings, Expenses, Trash
from expense_tracker.domain.accounts.auth import SESSION_SECURITY
from expense_tracker.domain.expenses import csv_io, cursors
from expense_tracker.domain.expenses.deps import parse_cursor, provide_filters
from expense_tracker.domain.expenses.schemas import (
    ExpenseCreate,
    ExpenseFilters,
    ExpensePage,
    ExpenseRead,
    ExpenseTotals,
    ExpenseUpdate,
    ImportResult,
)
from expense_tracker.domain.expenses.services import ExpenseService, ImportTooLargeError
from expense_tracker.domain.trash.responses import UNDO_RESPONSE_HEADERS, undo_headers
from expense_tracker.domain.trash.services import EXPENSE_TABLE
from expense_tracker.lib.idempotency import IdempotencyKeyHeader, file_fingerprint, idempotent, json_fingerprint
from expense_tracker.lib.problems import FieldValidationError
from expense_tracker.lib.structs import provided_fields


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
        settings: AppSettings,
        limit: Annotated[int, QueryParameter(ge=1, le=PAGE_SIZE_MAX)] = PAGE_SIZE_DEFAULT,
        offset: Annotated[int, QueryParameter(ge=0, le=OFFSET_MAX)] = 0,
        cursor: Annotated[
            str | None,
            QueryParameter(
                max_length=cursors.CURSOR_MAX_LENGTH,
                description="`next_cursor` of the previous page (same filters and sort; not with `offset`).",
            ),
        ] = None,
    ) -> ExpensePage:
        after = parse_cursor(settings.secret_key, cursor, offset, filters)
        listing = await expenses.page_read(request.user.id, filters, limit, offset, after)
        next_after = listing.next_after
        return ExpensePage(
            items=list(listing.items),
            total=listing.total,
            total_capped=listing.total_capped,
            limit=limit,
            offset=offset,
            next_cursor=cursors.encode(settings.secret_key, next_after) if next_after is not None else None,
        )

    @get("/totals", operation_id="expenseTotals")
    async def totals(
        self, request: Request[User, Any, Any], expenses: Expenses, filters: NamedDependency[ExpenseFilters]
    ) -> ExpenseTotals:
        """What the listing with the same filters adds up to, per currency (the list page's "Total of ..." line).

        ``sort`` is accepted and ignored, so a listing's query string can be reused as it is.
        """
        return await expenses.totals(request.user.id, filters)

    @post("/", operation_id="createExpense", status_code=HTTP_201_CREATED)
    async def create_expense(
        self,
        request: Request[User, Any, Any],
        data: JSONBody[ExpenseCreate],
        expenses: Expenses,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[ExpenseRead]:
        async def create() -> ExpenseRead:
            return await expenses.create_read(request.user, provided_fields(data), source="api")

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
            # Its own session: the stream outlives the request's, which closes when the handler returns.
            async with ExpenseService.new(config=state.alchemy) as export:
                async for batch in export.export_batches(user_id, filters):
                    yield "".join(csv_io.expense_line(expense, name, tags) for expense, name, tags in batch)

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
            # Hashed in chunks off the loop: the file (up to 5 MiB, spooled to disk) is never read into memory whole.
            file: Any = data.file.file
            return await anyio.to_thread.run_sync(file_fingerprint, request.method, request.url.path, file)

        session = expenses.repository.session
        return await idempotent(session, request.user.id, idempotency_key, request_fingerprint, ImportResult, create)

    @get("/{expense_id:uuid}", operation_id="getExpense")
    async def get_expense(
        self, request: Request[User, Any, Any], expense_id: FromPath[uuid.UUID], expenses: Expenses
    ) -> ExpenseRead:
        return await expenses.read_owned(request.user.id, expense_id)

    @patch("/{expense_id:uuid}", operation_id="updateExpense", response_headers=UNDO_RESPONSE_HEADERS)
    async def update_expense(
        self,
        request: Request[User, Any, Any],
        expense_id: FromPath[uuid.UUID],
        data: JSONBody[ExpenseUpdate],
        expenses: Expenses,
        trash: Trash,
    ) -> Response[ExpenseRead]:
        # The previous values are kept for one undo (``X-Trash-Item``); a 4xx rolls the snapshot back with the edit.
        fields = provided_fields(data)
        # New tags replace the old links: the undo keeps those too (no extra query when the tags are left alone).
        children = ("expense_tag",) if "tags" in fields else ()
        async with trash.editing(request.user.id, EXPENSE_TABLE, expense_id, children=children) as undo:
            read = await expenses.update_read(request.user.id, expense_id, fields)
        return Response(read, headers=undo_headers(undo.id))

    @delete("/{expense_id:uuid}", operation_id="deleteExpense", response_headers=UNDO_RESPONSE_HEADERS)
    async def delete_expense(
        self, request: Request[User, Any, Any], expense_id: FromPath[uuid.UUID], trash: Trash
    ) -> Response[None]:
        """Moves it to the trash (``X-Trash-Item``; restored by ``POST /api/trash/{id}/restore`` for 30 days)."""
        item = await trash.trash_expenses(request.user.id, [expense_id])
        return Response(None, status_code=HTTP_204_NO_CONTENT, headers=undo_headers(item.id))
