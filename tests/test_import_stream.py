"""Imports are read, validated and stored a batch at a time: still all or nothing across batches, and the memory an
import takes does not grow with the file."""

from __future__ import annotations

import csv
import io
import tracemalloc
import uuid
from typing import Any

from litestar import Litestar
from litestar.datastructures import UploadFile
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from expense_tracker.db.models import User
from expense_tracker.domain.expenses.services import IMPORT_BATCH, ExpenseService
from expense_tracker.lib.idempotency import file_fingerprint, fingerprint
from tests.conftest import Session
from tests.test_import_page import post_file

Client = AsyncTestClient[Litestar]
ROWS = 1_234
"""Three batches: the first rows, a full middle batch and the last rows."""
HEADER = "title,amount,spent_on,category,notes\n"


def line(i: int, category: str = "Early") -> str:
    return f"Item {i},{i % 97 + 1}.{i % 100:02d},2024-{i % 12 + 1:02d}-{i % 28 + 1:02d},{category},note {i}\n"


def file_with_a_late_row(last: str) -> bytes:
    """``ROWS`` rows; a category first seen in the last batch, and ``last`` as the final row."""
    body = [line(i) for i in range(ROWS - 2)] + [line(ROWS - 2, category="Late"), last]
    return (HEADER + "".join(body)).encode()


async def upload(client: Client, user: Session, content: bytes) -> Any:
    return await client.post(
        "/api/expenses/import", files={"file": ("expenses.csv", content, "text/csv")}, headers=user.headers
    )


async def stored(client: Client, user: Session) -> tuple[int, set[str]]:
    total = (await client.get("/api/expenses?limit=1", headers=user.headers)).json()["total"]
    categories = {c["name"] for c in (await client.get("/api/categories", headers=user.headers)).json()}
    return total, categories


def test_the_files_span_several_batches() -> None:
    # The premise of the tests below (the file is bigger than two batches), not a figure they assert.
    assert ROWS > 2 * IMPORT_BATCH


async def test_an_invalid_row_in_the_last_batch_stores_nothing(client: Client, user: Session) -> None:
    before = await stored(client, user)
    response = await upload(client, user, file_with_a_late_row("Bad,0,2024-05-06,Late,\n"))
    assert response.status_code == 400, response.text
    problem = response.json()
    message = "must not be 0 (a negative amount is a refund)"
    assert problem["errors"] == [{"row": ROWS + 1, "field": "amount", "message": message}]
    assert problem["detail"] == "1 problem(s) found; nothing was imported."
    # Neither the earlier batches' rows nor the categories they created survive.
    assert before[0] == 0
    assert await stored(client, user) == before


async def test_an_invalid_row_in_the_last_batch_stores_nothing_from_the_page(client: Client, user: Session) -> None:
    before = await stored(client, user)
    status, page = await post_file(client, user, file_with_a_late_row("Bad,1,2024-02-30,Late,\n"))
    assert status == 400
    assert "must be a date as YYYY-MM-DD" in page
    assert before[0] == 0
    assert await stored(client, user) == before


async def test_a_file_of_several_batches_is_stored_whole(client: Client, user: Session) -> None:
    content = file_with_a_late_row(line(ROWS - 1, category="Early"))
    response = await upload(client, user, content)
    assert response.status_code == 201, response.text
    # "Late" appears only in the last batch: categories are created as they turn up, in order of appearance.
    assert response.json() == {"imported": ROWS, "categories_created": ["Early", "Late"]}
    exported = (await client.get("/api/expenses/export.csv", headers=user.headers)).text
    got = sorted(
        (r["title"], r["amount"], r["spent_on"], r["category"], r["notes"])
        for r in csv.DictReader(io.StringIO(exported))
    )
    sent = sorted(
        (r["title"], f"{float(r['amount']):.2f}", r["spent_on"], r["category"], r["notes"])
        for r in csv.DictReader(io.StringIO(content.decode()))
    )
    assert got == sent


def spooled(rows: int) -> UploadFile:
    """A file as Litestar hands it to the app: spooled to a temporary file (on disk above 1 MiB)."""
    upload = UploadFile(content_type="text/csv", filename="big.csv")
    upload.file.write(HEADER.encode())
    for i in range(rows):
        upload.file.write(line(i, category=f"Cat {i % 7}").encode())
    upload.file.seek(0)
    return upload


async def import_peak(expenses: ExpenseService, user: User, rows: int) -> int:
    """Most bytes the Python heap held above its starting point while ``rows`` rows were imported."""
    upload = spooled(rows)
    tracemalloc.reset_peak()
    start = tracemalloc.get_traced_memory()[0]
    result = await expenses.import_upload(user, upload)
    peak = tracemalloc.get_traced_memory()[1] - start
    assert result.imported == rows
    await upload.close()
    return peak


SMALL = 2_000
MARGIN_BYTES = 1024 * 1024
"""Four times the rows may cost at most this much more. Holding the rows costs ~600 bytes each: 6,000 more rows
held (the file read whole, or the parsed rows kept) would be ~3.5 MiB more; one batch at a time costs the same at any
size."""


async def test_import_memory_does_not_grow_with_the_file(database_url: str, client: Client, user: Session) -> None:
    user_id = uuid.UUID((await client.get("/api/me", headers=user.headers)).json()["id"])
    # Its own engine: the app's pool belongs to the test client's event loop.
    engine = create_async_engine(database_url)
    async with AsyncSession(engine, expire_on_commit=False) as session:
        expenses = ExpenseService(session=session)
        owner = await session.get_one(User, user_id)
        tracemalloc.start()
        try:
            await import_peak(expenses, owner, 10)  # first use: statement caches, categories
            small = await import_peak(expenses, owner, SMALL)
            large = await import_peak(expenses, owner, 4 * SMALL)
        finally:
            tracemalloc.stop()
            await session.rollback()
    await engine.dispose()
    assert large <= small + MARGIN_BYTES, f"peak {small / 2**20:.1f} MiB for {SMALL} rows, {large / 2**20:.1f} MiB x4"


def test_an_upload_is_fingerprinted_in_chunks_as_before() -> None:
    # Keys stored before the file was hashed in chunks (kept 24 hours) must still match their retries.
    content = b"title,amount,spent_on\n" + b"x,1,2024-01-01\n" * 10_000  # several chunks
    whole = fingerprint(b"POST", b"/api/expenses/import", content)
    assert file_fingerprint("POST", "/api/expenses/import", io.BytesIO(content), chunk=4096) == whole
