"""The expense CSV format, shared by export and import so that an export always imports unchanged.

Columns: ``id, spent_on, title, amount, currency, category, notes, created_at, updated_at``. On import ``title``,
``amount`` and ``spent_on`` are required; ``id`` and the timestamps are ignored; ``currency`` defaults to the user's;
``category`` is a name (created when unknown). Row numbers in errors count the header as row 1, as a spreadsheet does.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from expense_tracker.constants import IMPORT_MAX_ROWS
from expense_tracker.domain.categories.schemas import NAME_MAX
from expense_tracker.domain.expenses.schemas import clean_notes, clean_title
from expense_tracker.lib.money import parse_amount, parse_currency

COLUMNS = ("id", "spent_on", "title", "amount", "currency", "category", "notes", "created_at", "updated_at")
REQUIRED = ("title", "amount", "spent_on")
MAX_REPORTED_ERRORS = 1000


@dataclass(frozen=True)
class ImportRow:
    title: str
    amount: Decimal
    currency: str
    spent_on: dt.date
    category: str | None
    notes: str


class ImportRejectedError(Exception):
    def __init__(self, errors: list[dict[str, Any]], total: int) -> None:
        super().__init__(f"{total} invalid value(s)")
        self.errors = errors
        self.total = total


def _line(values: Iterable[object]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(["" if v is None else v for v in values])
    return buffer.getvalue()


def header_line() -> str:
    return _line(COLUMNS)


def expense_line(expense: Any, category_name: str | None) -> str:
    return _line(
        (
            expense.id,
            expense.spent_on.isoformat(),
            expense.title,
            f"{expense.amount:.2f}",
            expense.currency,
            category_name,
            expense.notes,
            expense.created_at.isoformat(),
            expense.updated_at.isoformat(),
        )
    )


def _rows(text: str) -> Iterator[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    for index, row in enumerate(reader, start=2):
        yield index, {k.strip().lower(): (v or "") for k, v in row.items() if isinstance(k, str)}


def parse_import(data: bytes, default_currency: str) -> list[ImportRow]:
    """Validate every row; return them all, or raise :class:`ImportRejectedError` listing each problem."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRejectedError([{"row": 1, "field": "file", "message": "must be UTF-8 encoded CSV"}], 1) from None
    header = next(csv.reader(io.StringIO(text)), [])
    missing = [c for c in REQUIRED if c not in {h.strip().lower() for h in header}]
    if missing:
        message = f"missing column(s): {', '.join(missing)}"
        raise ImportRejectedError([{"row": 1, "field": "header", "message": message}], 1)

    rows: list[ImportRow] = []
    errors: list[dict[str, Any]] = []
    total_errors = 0

    def fail(row: int, field: str, message: str) -> None:
        nonlocal total_errors
        total_errors += 1
        if len(errors) < MAX_REPORTED_ERRORS:
            errors.append({"row": row, "field": field, "message": message})

    for number, raw in _rows(text):
        if number - 1 > IMPORT_MAX_ROWS:
            fail(number, "file", f"has more than {IMPORT_MAX_ROWS} rows")
            break
        values: dict[str, Any] = {}
        for field, clean in (
            ("title", clean_title),
            ("amount", parse_amount),
            ("notes", clean_notes),
            ("currency", lambda v: parse_currency(v) if v.strip() else default_currency),
            ("spent_on", lambda v: dt.date.fromisoformat(v.strip())),
        ):
            try:
                values[field] = clean(raw.get(field, ""))
            except ValueError as exc:
                message = "must be a date as YYYY-MM-DD" if field == "spent_on" else str(exc)
                fail(number, field, message)
        category = " ".join(raw.get("category", "").split()) or None
        if category and len(category) > NAME_MAX:
            fail(number, "category", f"must be at most {NAME_MAX} characters")
        if len(values) == 5:
            rows.append(ImportRow(category=category, **values))
    if total_errors:
        raise ImportRejectedError(errors, total_errors)
    if not rows:
        raise ImportRejectedError([{"row": 2, "field": "file", "message": "contains no expenses"}], 1)
    return rows
