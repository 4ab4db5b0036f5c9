"""The rates CSV: ``currency,rate,valid_from`` with a header row, export and import alike (base: the user's default).

All or nothing, like the expense import: every row is checked, and any problem means nothing is stored; problems come
back per row (the header is row 1, as in a spreadsheet).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from litestar.datastructures import UploadFile
from litestar.exceptions import HTTPException

from expense_tracker.constants import RATES_COLUMNS, RATES_FILE_MAX_BYTES, RATES_MAX_ROWS
from expense_tracker.domain.expenses.csv_io import MAX_REPORTED_ERRORS, ImportRejectedError
from expense_tracker.domain.rates.schemas import parse_rate
from expense_tracker.lib.money import parse_currency

ParsedRate = tuple[str, Decimal, dt.date]


async def read_upload(upload: UploadFile) -> bytes:
    """The uploaded file, read whole (rates files are small); 413 beyond ``RATES_FILE_MAX_BYTES``."""
    data: bytes = await upload.read(RATES_FILE_MAX_BYTES + 1)
    if len(data) > RATES_FILE_MAX_BYTES:
        raise HTTPException(status_code=413, detail=f"The file is larger than {RATES_FILE_MAX_BYTES} bytes.")
    return data


def export_lines(rates: Iterable[tuple[str, Decimal, dt.date]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(RATES_COLUMNS)
    for currency, rate, valid_from in rates:
        writer.writerow([currency, f"{rate.normalize():f}", valid_from.isoformat()])
    return buffer.getvalue()


def _error(errors: list[dict[str, Any]], row: int | str, field: str, message: str) -> None:
    if len(errors) < MAX_REPORTED_ERRORS:
        errors.append({"row": row, "field": field, "message": message})


def parse(data: bytes, base: str) -> list[ParsedRate]:
    """Validate every row; raises :class:`ImportRejectedError` listing the problems when any row is wrong."""
    errors: list[dict[str, Any]] = []
    total = 0
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRejectedError([{"field": "file", "message": "must be UTF-8 text"}], 1) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in RATES_COLUMNS if c not in header]
    if missing:
        message = f"missing column(s): {', '.join(missing)}; expected {','.join(RATES_COLUMNS)}"
        raise ImportRejectedError([{"row": 1, "field": "file", "message": message}], 1)
    index = {name: header.index(name) for name in RATES_COLUMNS}
    rows: list[ParsedRate] = []
    seen: dict[tuple[str, dt.date], int] = {}
    for number, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(rows) + total >= RATES_MAX_ROWS:
            raise ImportRejectedError([{"row": number, "field": "file", "message": "too many rows"}], 1)

        def cell(name: str, cells: list[str] = cells) -> str:
            position = index[name]
            return cells[position].strip() if position < len(cells) else ""

        problems = len(errors), total
        try:
            currency = parse_currency(cell("currency"))
            if currency == base:
                raise ValueError(f"must differ from your default currency ({base})")
        except ValueError as exc:
            _error(errors, number, "currency", str(exc))
            total += 1
        try:
            rate = parse_rate(cell("rate"))
        except ValueError as exc:
            _error(errors, number, "rate", str(exc))
            total += 1
        try:
            valid_from = dt.date.fromisoformat(cell("valid_from"))
        except ValueError:
            _error(errors, number, "valid_from", "must be a date as YYYY-MM-DD")
            total += 1
        if (len(errors), total) != problems:
            continue
        if (currency, valid_from) in seen:
            _error(errors, number, "valid_from", f"repeats row {seen[currency, valid_from]} ({currency}, {valid_from})")
            total += 1
            continue
        seen[currency, valid_from] = number
        rows.append((currency, rate, valid_from))
    if total:
        raise ImportRejectedError(errors, total)
    return rows
