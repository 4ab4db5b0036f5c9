from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Literal, TypeVar

import msgspec

from expense_tracker.lib.money import parse_amount, parse_currency
from expense_tracker.lib.problems import field_error

TITLE_MAX = 200
NOTES_MAX = 2000
T = TypeVar("T")
R = TypeVar("R")
SortKey = Literal["spent_on", "-spent_on", "amount", "-amount", "created_at"]


def clean_title(value: str) -> str:
    title = value.strip()
    if not 1 <= len(title) <= TITLE_MAX:
        raise ValueError(f"must be 1 to {TITLE_MAX} characters")
    return title


def clean_notes(value: str) -> str:
    if len(value) > NOTES_MAX:
        raise ValueError(f"must be at most {NOTES_MAX} characters")
    return value


def _checked(field: str, clean: Callable[[T], R], value: T) -> R:
    try:
        return clean(value)
    except ValueError as exc:
        raise field_error(field, str(exc)) from None


class ExpenseRead(msgspec.Struct):
    id: uuid.UUID
    title: str
    amount: Decimal
    currency: str
    category_id: uuid.UUID | None
    spent_on: dt.date
    notes: str
    created_at: dt.datetime
    updated_at: dt.datetime


class ExpenseCreate(msgspec.Struct, forbid_unknown_fields=True):
    title: str
    amount: Decimal
    currency: str | None = None
    """Defaults to the user's currency."""
    category_id: uuid.UUID | None = None
    spent_on: dt.date | None = None
    """Defaults to today in the user's time zone."""
    notes: str = ""

    def __post_init__(self) -> None:
        self.title = _checked("title", clean_title, self.title)
        self.amount = _checked("amount", parse_amount, self.amount)
        if self.currency is not None:
            self.currency = _checked("currency", parse_currency, self.currency)
        self.notes = _checked("notes", clean_notes, self.notes)


class ExpenseUpdate(msgspec.Struct, forbid_unknown_fields=True):
    title: str | msgspec.UnsetType = msgspec.UNSET
    amount: Decimal | msgspec.UnsetType = msgspec.UNSET
    currency: str | msgspec.UnsetType = msgspec.UNSET
    category_id: uuid.UUID | msgspec.UnsetType | None = msgspec.UNSET
    spent_on: dt.date | msgspec.UnsetType = msgspec.UNSET
    notes: str | msgspec.UnsetType = msgspec.UNSET

    def __post_init__(self) -> None:
        if isinstance(self.title, str):
            self.title = _checked("title", clean_title, self.title)
        if isinstance(self.amount, Decimal):
            self.amount = _checked("amount", parse_amount, self.amount)
        if isinstance(self.currency, str):
            self.currency = _checked("currency", parse_currency, self.currency)
        if isinstance(self.notes, str):
            self.notes = _checked("notes", clean_notes, self.notes)


class ExpensePage(msgspec.Struct):
    items: list[ExpenseRead]
    total: int
    limit: int
    offset: int


class ImportResult(msgspec.Struct):
    imported: int
    categories_created: list[str]


class ExpenseFilters(msgspec.Struct, frozen=True):
    """The query a listing, an export and the UI table share."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    category_id: uuid.UUID | None = None
    q: str | None = None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    sort: SortKey = "-spent_on"
