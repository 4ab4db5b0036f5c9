from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Literal, TypeVar

import msgspec

from expense_tracker.constants import LIST_COUNT_CAP
from expense_tracker.domain.expenses.search import SearchFilters
from expense_tracker.domain.tags.schemas import TAG_NAME_MAX, TAGS_PER_EXPENSE_MAX, clean_tag_names
from expense_tracker.lib.money import AmountText, parse_amount, parse_currency
from expense_tracker.lib.problems import field_error

TITLE_MAX = 200
NOTES_MAX = 2000
T = TypeVar("T")
R = TypeVar("R")
SortKey = Literal["spent_on", "-spent_on", "amount", "-amount", "created_at"]
TagMode = Literal["any", "all"]
TAGS_DESCRIPTION = (
    f"Tag names (up to {TAGS_PER_EXPENSE_MAX}, each 1 to {TAG_NAME_MAX} characters, no comma or semicolon); unknown "
    'ones are created, known ones matched ignoring case ("food" is your tag "Food"), duplicates dropped.'
)


NUL_MESSAGE = "must not contain NUL characters"


def reject_nul(value: str) -> str:
    """PostgreSQL cannot store U+0000 in text; refusing it here keeps it a 400 instead of a failed INSERT."""
    if "\x00" in value:
        raise ValueError(NUL_MESSAGE)
    return value


def clean_title(value: str) -> str:
    title = reject_nul(value).strip()
    if not 1 <= len(title) <= TITLE_MAX:
        raise ValueError(f"must be 1 to {TITLE_MAX} characters")
    return title


def clean_notes(value: str) -> str:
    if len(reject_nul(value)) > NOTES_MAX:
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
    split_id: Annotated[
        uuid.UUID | None,
        msgspec.Meta(
            description=(
                "Set on each part of a split payment (see `/api/splits/{split_id}`); such a part is changed or deleted "
                "only through its split (PATCH/DELETE here answer 409). Null for an ordinary expense."
            )
        ),
    ] = None
    # Last, with a default: the listing builds the struct positionally from the expense's columns, then sets the tags
    # it read for the whole page in one query.
    tags: Annotated[list[str], msgspec.Meta(description="Tag names, sorted ignoring case.")] = msgspec.field(
        default_factory=list
    )


class ExpenseCreate(msgspec.Struct, forbid_unknown_fields=True):
    title: str
    # On the wire the amount is a string checked against the strict money grammar (msgspec's own Decimal decoding
    # accepts "1_000", "+5", non-ASCII digits and "1e26"); __post_init__ replaces it with the parsed Decimal, which
    # is what the type checker sees and what the services receive.
    if TYPE_CHECKING:
        amount: Decimal
    else:
        amount: AmountText
    currency: str | None = None
    """Defaults to the user's currency."""
    category_id: uuid.UUID | None = None
    spent_on: dt.date | None = None
    """Defaults to today in the user's time zone."""
    notes: str = ""
    tags: Annotated[list[str], msgspec.Meta(description=TAGS_DESCRIPTION)] = msgspec.field(default_factory=list)

    def __post_init__(self) -> None:
        self.title = _checked("title", clean_title, self.title)
        self.amount = _checked("amount", parse_amount, self.amount)
        if self.currency is not None:
            self.currency = _checked("currency", parse_currency, self.currency)
        self.notes = _checked("notes", clean_notes, self.notes)
        self.tags = _checked("tags", clean_tag_names, self.tags)


class ExpenseUpdate(msgspec.Struct, forbid_unknown_fields=True):
    title: str | msgspec.UnsetType = msgspec.UNSET
    if TYPE_CHECKING:  # a string on the wire, a Decimal after __post_init__ (see ExpenseCreate)
        amount: Decimal | msgspec.UnsetType = msgspec.UNSET
    else:
        amount: AmountText | msgspec.UnsetType = msgspec.UNSET
    currency: str | msgspec.UnsetType = msgspec.UNSET
    category_id: uuid.UUID | msgspec.UnsetType | None = msgspec.UNSET
    spent_on: dt.date | msgspec.UnsetType = msgspec.UNSET
    notes: str | msgspec.UnsetType = msgspec.UNSET
    tags: Annotated[
        list[str] | msgspec.UnsetType, msgspec.Meta(description=TAGS_DESCRIPTION + " Replaces the expense's tags.")
    ] = msgspec.UNSET

    def __post_init__(self) -> None:
        if isinstance(self.title, str):
            self.title = _checked("title", clean_title, self.title)
        if not isinstance(self.amount, msgspec.UnsetType):
            self.amount = _checked("amount", parse_amount, self.amount)
        if isinstance(self.currency, str):
            self.currency = _checked("currency", parse_currency, self.currency)
        if isinstance(self.notes, str):
            self.notes = _checked("notes", clean_notes, self.notes)
        if isinstance(self.tags, list):
            self.tags = _checked("tags", clean_tag_names, self.tags)


class ExpensePage(msgspec.Struct):
    items: list[ExpenseRead]
    total: Annotated[
        int,
        msgspec.Meta(
            description=(
                "Rows matching the filters. Exact, except when `total_capped` is true: listings filtered by `q`, "
                f"`tag`, `min_amount` or `max_amount` stop counting at {LIST_COUNT_CAP}, and `total` is then "
                f'{LIST_COUNT_CAP} meaning "more than {LIST_COUNT_CAP}" (shown as "{LIST_COUNT_CAP:,}+").'
            )
        ),
    ]
    limit: int
    offset: int
    total_capped: Annotated[
        bool, msgspec.Meta(description="True when `total` is a lower bound (more rows match than it says).")
    ]
    next_cursor: Annotated[
        str | None,
        msgspec.Meta(
            description=(
                "Pass as `cursor` (same filters and `sort`, no `offset`) for the next page; null on the last page. "
                "Opaque: its format may change, and a cursor is only valid for the sort it was made for."
            )
        ),
    ]


class CurrencySum(msgspec.Struct):
    currency: str
    total: Decimal
    """Signed sum of the amounts in this currency (never converted)."""
    count: int


class ExpenseTotals(msgspec.Struct):
    """What a filtered view adds up to, per currency: amounts in different currencies are never added together."""

    count: Annotated[
        int,
        msgspec.Meta(
            description=(
                f"Expenses matching the filters; exact unless `count_capped` (then {LIST_COUNT_CAP}, meaning more)."
            )
        ),
    ]
    count_capped: Annotated[
        bool,
        msgspec.Meta(
            description=(
                f"True when more than {LIST_COUNT_CAP} expenses match a filter by `q`, `tag`, `min_amount` or "
                "`max_amount`: they are not all read, so `currencies` is empty rather than partial."
            )
        ),
    ]
    currencies: Annotated[
        list[CurrencySum], msgspec.Meta(description="One entry per currency with matches, by currency code.")
    ]


class ImportResult(msgspec.Struct):
    imported: int
    categories_created: list[str]


class ExpenseFilters(msgspec.Struct, frozen=True):
    """The query a listing, an export and the UI table share."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    category_id: uuid.UUID | None = None
    currency: str | None = None
    q: str | None = None
    """The search box as typed (free text and operators), kept for links; ``search`` is what it asks for."""
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    sort: SortKey = "-spent_on"
    search: SearchFilters | None = None
    tags: tuple[str, ...] = ()
    """Tag names (ignoring case); none: no tag filter."""
    tag_mode: TagMode = "any"
    """``any``: expenses with at least one of ``tags``; ``all``: with every one."""
