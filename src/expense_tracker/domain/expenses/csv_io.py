"""The expense CSV format, shared by export and import so that an export always imports unchanged.

Columns: ``id, spent_on, title, amount, currency, category, notes, created_at, updated_at, tags, split_id``. On
import ``title``, ``amount`` and ``spent_on`` are required; ``id`` and the timestamps are ignored; ``currency`` defaults
to the user's; ``category`` is a name (created when unknown); ``tags`` are names joined by ``; `` (created when unknown;
a file without the column imports without tags). Row numbers in errors count the header as row 1, as a spreadsheet
does.

``split_id`` (optional on import) groups the parts of a split payment: the export writes the split's id (empty for an
ordinary expense); on import the rows sharing a value form one new split (the value only groups them: the split gets a
new id, so importing an export twice never joins the old split). They must be at least two and share date, title,
currency, sign and tags, like the parts the API creates (``domain/splits``).

Text cells a spreadsheet would evaluate as a formula (starting with ``= + - @``, tab or CR) are exported with a leading
``'`` (OWASP "CSV injection"); the import removes exactly that quote again, so an export still imports unchanged.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any, BinaryIO, NamedTuple

from expense_tracker.constants import IMPORT_MAX_ROWS, SPLIT_PARTS_MIN
from expense_tracker.domain.categories.schemas import NAME_MAX
from expense_tracker.domain.expenses.schemas import clean_notes, clean_title
from expense_tracker.domain.tags.schemas import CSV_JOIN, CSV_SEPARATOR, clean_tag_names, split_tag_text
from expense_tracker.lib.money import check_decimals, parse_amount, parse_currency

COLUMNS = (
    "id",
    "spent_on",
    "title",
    "amount",
    "currency",
    "category",
    "notes",
    "created_at",
    "updated_at",
    "tags",
    "split_id",
)
SPLIT_KEY_MAX = 100
REQUIRED = ("title", "amount", "spent_on")
MAX_REPORTED_ERRORS = 1000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
NUL = "\x00"
NUL_MESSAGE = "must not contain NUL characters"


class ImportRow(NamedTuple):
    """A tuple of atomic values, which the garbage collector stops tracking: 50,000 of them add nothing to the cost of
    the collections a large import triggers (each one runs on the event loop)."""

    title: str
    amount: Decimal
    currency: str
    spent_on: dt.date
    category: str | None
    notes: str
    tags: tuple[str, ...] = ()
    """Tag names (cleaned); the bank import leaves them out."""
    split: str | None = None
    """The file's ``split_id`` cell: rows with the same value are the parts of one split payment."""


class _SplitGroup:
    """The first row of a split in the file: the others must match it (checked as they come, batch by batch)."""

    __slots__ = ("count", "currency", "negative", "row", "spent_on", "tags", "title")

    def __init__(self, row: int, first: ImportRow) -> None:
        self.row, self.count = row, 1
        self.title, self.spent_on, self.currency = first.title, first.spent_on, first.currency
        self.negative = first.amount < 0
        self.tags = _tag_set(first)


def _tag_set(row: ImportRow) -> frozenset[str]:
    return frozenset(name.lower() for name in row.tags)  # a tag is its name ignoring case


class ImportRejectedError(Exception):
    def __init__(self, errors: list[dict[str, Any]], total: int) -> None:
        super().__init__(f"{total} invalid value(s)")
        self.errors = errors
        self.total = total


def _line(values: Iterable[object]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(["" if v is None else v for v in values])
    return buffer.getvalue()


def _needs_quote(value: str) -> bool:
    # Also quote values that already look quoted ("'=x"), so that stripping one quote on import is exact.
    return value.lstrip(QUOTE).startswith(FORMULA_STARTS)


def neutralise(value: str | None) -> str | None:
    """A text cell no spreadsheet evaluates: formula-like values get a leading ``'``."""
    return QUOTE + value if value and _needs_quote(value) else value


def restore(value: str) -> str:
    """Undo :func:`neutralise` (the only ``'`` removed is one that ``neutralise`` would have added)."""
    return value[1:] if value.startswith(QUOTE) and _needs_quote(value[1:]) else value


def header_line() -> str:
    return _line(COLUMNS)


def expense_line(expense: Any, category_name: str | None, tags: list[str] | None = None) -> str:
    return _line(
        (
            expense.id,
            expense.spent_on.isoformat(),
            neutralise(expense.title),
            f"{expense.amount:.2f}",
            expense.currency,
            neutralise(category_name),
            neutralise(expense.notes),
            expense.created_at.isoformat(),
            expense.updated_at.isoformat(),
            neutralise(CSV_JOIN.join(tags or ())),
            expense.split_id,
        )
    )


def _date(value: str) -> dt.date:
    return dt.date.fromisoformat(value.strip())


Cleaners = tuple[tuple[str, Callable[[str], Any]], ...]


def _cleaners(default_currency: str) -> Cleaners:
    def currency(value: str) -> str:
        return parse_currency(value) if value.strip() else default_currency

    return (
        ("title", lambda v: clean_title(restore(v))),
        ("amount", parse_amount),
        ("notes", lambda v: clean_notes(restore(v))),
        ("currency", currency),
        ("spent_on", _date),
    )


_REJECTED = object()
"""A cell that failed its check (already reported): the row is refused."""


def _tags_cell(number: int, raw: dict[str, str], fail: Callable[[int, str, str], None]) -> Any:
    """The row's tag names (cleaned), or ``_REJECTED``."""
    raw_tags = raw.get("tags", "")
    if NUL in raw_tags:
        fail(number, "tags", NUL_MESSAGE)
        return _REJECTED
    try:
        return tuple(clean_tag_names(split_tag_text(restore(raw_tags), CSV_SEPARATOR)))
    except ValueError as exc:
        fail(number, "tags", str(exc))
        return _REJECTED


def _split_cell(number: int, raw: dict[str, str], fail: Callable[[int, str, str], None]) -> Any:
    """The row's ``split_id`` group key (None: an ordinary expense), or ``_REJECTED``."""
    split = raw.get("split_id", "").strip() or None
    if split is not None and (NUL in split or len(split) > SPLIT_KEY_MAX):
        fail(number, "split_id", NUL_MESSAGE if NUL in split else f"must be at most {SPLIT_KEY_MAX} characters")
        return _REJECTED
    return split


def _validate_row(
    number: int, raw: dict[str, str], cleaners: Cleaners, fail: Callable[[int, str, str], None]
) -> ImportRow | None:
    values: dict[str, Any] = {}
    for field, clean in cleaners:
        value = raw.get(field, "")
        if NUL in value:
            # PostgreSQL cannot store NUL in text; checked here so the file is refused however the cleaners evolve.
            fail(number, field, NUL_MESSAGE)
            continue
        try:
            values[field] = clean(value)
        except ValueError as exc:
            fail(number, field, "must be a date as YYYY-MM-DD" if field == "spent_on" else str(exc))
    raw_category = raw.get("category", "")
    category = " ".join(restore(raw_category.strip()).split()) or None
    if NUL in raw_category:
        fail(number, "category", NUL_MESSAGE)
        return None
    if category and len(category) > NAME_MAX:
        fail(number, "category", f"must be at most {NAME_MAX} characters")
        return None
    tags = _tags_cell(number, raw, fail)
    if tags is _REJECTED:
        return None
    if "amount" in values and "currency" in values:
        try:
            check_decimals(values["amount"], values["currency"])  # 5.5 JPY: refused, as in the API, never rounded
        except ValueError as exc:
            fail(number, "amount", str(exc))
            return None
    split = _split_cell(number, raw, fail)
    if split is _REJECTED or len(values) != len(cleaners):
        return None
    return ImportRow(category=category, tags=tags, split=split, **values)


class ImportParser:
    """Validates an import file a batch at a time, reading it as it goes: memory is one batch, whatever the file size.

    Each :meth:`next_batch` call is CPU-bound work on at most ``batch_size`` records, meant for a worker thread (never
    the event loop); calls must not overlap. Rows come back only while the file is valid so far: after the first
    problem the rest is still read, to report every problem, but nothing more is returned (all or nothing: the caller
    stores nothing once :attr:`failed`). :meth:`finish` raises :class:`ImportRejectedError` listing the problems.
    Call :meth:`close` in the end: it leaves ``file`` open (it belongs to the caller).
    """

    def __init__(self, file: BinaryIO, default_currency: str) -> None:
        self._text = io.TextIOWrapper(file, encoding="utf-8-sig", newline="")
        self._cleaners = _cleaners(default_currency)
        self._reader: csv.DictReader[str] | None = None
        self._number = 1  # the header is row 1, as in a spreadsheet
        self.rows = 0
        """Valid rows returned so far."""
        self.done = False
        self.errors: list[dict[str, Any]] = []
        self.total_errors = 0
        self._splits: dict[str, _SplitGroup] = {}

    @property
    def failed(self) -> bool:
        return self.total_errors > 0

    def _fail(self, row: int, field: str, message: str) -> None:
        self.total_errors += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append({"row": row, "field": field, "message": message})

    def _reject(self, field: str, message: str) -> None:
        """A problem with the whole file: reported alone (as the file cannot be read), and the end of reading."""
        self.errors, self.total_errors, self.done = [{"row": 1, "field": field, "message": message}], 1, True

    def _open(self) -> csv.DictReader[str] | None:
        reader = csv.DictReader(self._text)
        try:
            header = reader.fieldnames or []
        except csv.Error:
            header = []
        missing = [c for c in REQUIRED if c not in {h.strip().lower() for h in header}]
        if missing:
            self._reject("header", f"missing column(s): {', '.join(missing)}")
            return None
        return reader

    def next_batch(self, batch_size: int) -> list[ImportRow]:
        """Read up to ``batch_size`` more records; their valid rows while nothing has failed, else ``[]``."""
        batch: list[ImportRow] = []
        try:
            if self._reader is None:
                self._reader = self._open()
                if self._reader is None:
                    return batch
            for _ in range(batch_size):
                self._number += 1
                try:
                    raw = next(self._reader)
                except StopIteration:
                    self.done = True
                    break
                except csv.Error:
                    # In practice a field over csv.field_size_limit(): say which row instead of failing the request.
                    self._fail(self._number, "file", f"has a field longer than {csv.field_size_limit()} characters")
                    self.done = True
                    break
                if self._number - 1 > IMPORT_MAX_ROWS:
                    self._fail(self._number, "file", f"has more than {IMPORT_MAX_ROWS} rows")
                    self.done = True
                    break
                cells = {k.strip().lower(): (v or "") for k, v in raw.items() if isinstance(k, str)}
                row = _validate_row(self._number, cells, self._cleaners, self._fail)
                if row is not None and row.split is not None:
                    self._check_split(self._number, row)
                if row is not None and not self.failed:
                    batch.append(row)
        except UnicodeDecodeError:
            self._reject("file", "must be UTF-8 encoded CSV")
        if self.failed:
            return []
        self.rows += len(batch)
        return batch

    def _check_split(self, number: int, row: ImportRow) -> None:
        """A split's part must have its first part's date, title, currency, sign and tags (as ``SplitService``
        requires)."""
        assert row.split is not None
        group = self._splits.get(row.split)
        if group is None:
            self._splits[row.split] = _SplitGroup(number, row)
            return
        group.count += 1
        for what, same in (
            ("date", row.spent_on == group.spent_on),
            ("title", row.title == group.title),
            ("currency", row.currency == group.currency),
            ("sign (all spending or all refunds)", (row.amount < 0) == group.negative),
            # The tags are the payment's, on every part (as SplitService keeps them): parts tagged apart would make
            # a split whose tags depend on the part read.
            ("tags", _tag_set(row) == group.tags),
        ):
            if not same:
                self._fail(number, "split_id", f"must have the same {what} as row {group.row}, the split's first part")

    def finish(self) -> None:
        """Raise :class:`ImportRejectedError` unless the whole file was read and every row is valid."""
        for key, group in self._splits.items():
            if group.count < SPLIT_PARTS_MIN:
                self._fail(group.row, "split_id", f"a split has at least {SPLIT_PARTS_MIN} rows; no other has {key}")
        if self.failed:
            raise ImportRejectedError(self.errors, self.total_errors)
        if not self.done:
            raise RuntimeError("finish() before the file was read to its end")
        if not self.rows:
            raise ImportRejectedError([{"row": 2, "field": "file", "message": "contains no expenses"}], 1)

    def close(self) -> None:
        self._text.detach()  # closing the wrapper (also on garbage collection) would close the caller's file
