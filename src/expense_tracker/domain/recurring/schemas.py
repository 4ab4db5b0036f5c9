"""Bodies of ``/api/recurring``: every field documented in the OpenAPI schema by these structs."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Literal, TypeVar

import msgspec

from expense_tracker.domain.expenses.schemas import clean_notes, clean_title
from expense_tracker.domain.tags import schemas as tag_rules
from expense_tracker.lib.money import AmountText, parse_amount, parse_currency
from expense_tracker.lib.problems import field_error

T = TypeVar("T")
R = TypeVar("R")
UnitName = Literal["day", "week", "month", "year"]
INTERVAL_MAX = 1000
MAX_COUNT_MAX = 10_000
DATE_MIN = dt.date(1900, 1, 1)
DATE_MAX = dt.date(9998, 12, 31)

Interval = Annotated[int, msgspec.Meta(ge=1, le=INTERVAL_MAX, description="Every N units (1 = every unit).")]
DayOfMonth = Annotated[
    int,
    msgspec.Meta(
        ge=1,
        le=31,
        description="Months and years: the day to fall on, clamped to shorter months (31 -> 30 April, 28/29 February). "
        "Null: the start date's day.",
    ),
]
MaxCount = Annotated[int, msgspec.Meta(ge=1, le=MAX_COUNT_MAX, description="Stop after this many expenses in all.")]


def clean_tag_names(value: list[str]) -> list[str]:
    """The schedule's tags become real tags on each expense it creates: the tags' own rules, checked when the schedule
    is saved (a name with "," or ";" would otherwise be stored here and break the form's and the CSV's lists)."""
    return _clean("tags", tag_rules.clean_tag_names, value)


def _check_date(field: str, value: dt.date | None) -> None:
    if value is not None and not DATE_MIN <= value <= DATE_MAX:
        raise field_error(field, "must be between 1900-01-01 and 9998-12-31")


class ScheduleRead(msgspec.Struct):
    id: uuid.UUID
    title: str
    amount: Decimal
    currency: str
    category_id: uuid.UUID | None
    tags: list[str]
    notes: str
    unit: UnitName
    interval: int
    day_of_month: int | None
    start_on: dt.date
    end_on: dt.date | None
    max_count: int | None
    paused: bool
    created_count: Annotated[int, msgspec.Meta(description="Expenses this schedule has created so far.")]
    done_through: Annotated[
        dt.date | None,
        msgspec.Meta(description="Dates on or before this one are done: never created (again), whatever an edit says."),
    ]
    next_on: Annotated[dt.date | None, msgspec.Meta(description="The next date an expense will be created on.")]
    created_at: dt.datetime
    updated_at: dt.datetime


class ScheduleCreate(msgspec.Struct, forbid_unknown_fields=True):
    title: str
    if TYPE_CHECKING:
        amount: Decimal
    else:
        amount: AmountText
    unit: UnitName
    start_on: dt.date
    """The first date (occurrences before today are created by the next run: catch-up)."""
    interval: Interval = 1
    day_of_month: DayOfMonth | None = None
    end_on: dt.date | None = None
    """Last date an expense may fall on (inclusive)."""
    max_count: MaxCount | None = None
    currency: str | None = None
    """Defaults to the user's currency."""
    category_id: uuid.UUID | None = None
    tags: list[str] = msgspec.field(default_factory=list)
    notes: str = ""

    def __post_init__(self) -> None:
        self.title = _clean("title", clean_title, self.title)
        self.amount = _clean("amount", parse_amount, self.amount)
        if self.currency is not None:
            self.currency = _clean("currency", parse_currency, self.currency)
        self.notes = _clean("notes", clean_notes, self.notes)
        self.tags = clean_tag_names(self.tags)
        _check_date("start_on", self.start_on)
        _check_date("end_on", self.end_on)
        if self.end_on is not None and self.end_on < self.start_on:
            raise field_error("end_on", "must not be before start_on")


class ScheduleUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Changes apply to future occurrences only: expenses already created stay as they are."""

    title: str | msgspec.UnsetType = msgspec.UNSET
    if TYPE_CHECKING:
        amount: Decimal | msgspec.UnsetType = msgspec.UNSET
    else:
        amount: AmountText | msgspec.UnsetType = msgspec.UNSET
    unit: UnitName | msgspec.UnsetType = msgspec.UNSET
    start_on: dt.date | msgspec.UnsetType = msgspec.UNSET
    interval: Interval | msgspec.UnsetType = msgspec.UNSET
    day_of_month: DayOfMonth | msgspec.UnsetType | None = msgspec.UNSET
    end_on: dt.date | msgspec.UnsetType | None = msgspec.UNSET
    max_count: MaxCount | msgspec.UnsetType | None = msgspec.UNSET
    currency: str | msgspec.UnsetType = msgspec.UNSET
    category_id: uuid.UUID | msgspec.UnsetType | None = msgspec.UNSET
    tags: list[str] | msgspec.UnsetType = msgspec.UNSET
    notes: str | msgspec.UnsetType = msgspec.UNSET
    paused: bool | msgspec.UnsetType = msgspec.UNSET

    def __post_init__(self) -> None:
        if isinstance(self.title, str):
            self.title = _clean("title", clean_title, self.title)
        if not isinstance(self.amount, msgspec.UnsetType):
            self.amount = _clean("amount", parse_amount, self.amount)
        if isinstance(self.currency, str):
            self.currency = _clean("currency", parse_currency, self.currency)
        if isinstance(self.notes, str):
            self.notes = _clean("notes", clean_notes, self.notes)
        if isinstance(self.tags, list):
            self.tags = clean_tag_names(self.tags)
        if isinstance(self.start_on, dt.date):
            _check_date("start_on", self.start_on)
        if isinstance(self.end_on, dt.date):
            _check_date("end_on", self.end_on)


class UpcomingOccurrence(msgspec.Struct):
    schedule_id: uuid.UUID
    occurs_on: dt.date
    title: str
    amount: Decimal
    currency: str
    category_id: uuid.UUID | None


def _clean(field: str, clean: Callable[[T], R], value: T) -> R:
    try:
        return clean(value)
    except ValueError as exc:
        raise field_error(field, str(exc)) from None
