"""Bodies of ``/api/splits``: one payment (title, date, currency, total) split into 2+ parts by category."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import msgspec

from expense_tracker.constants import SPLIT_PARTS_MAX, SPLIT_PARTS_MIN
from expense_tracker.domain.expenses.schemas import ExpenseRead, clean_notes, clean_title
from expense_tracker.lib.money import AmountText, parse_amount, parse_currency
from expense_tracker.lib.problems import field_error

PARTS_DESCRIPTION = (
    f"{SPLIT_PARTS_MIN} to {SPLIT_PARTS_MAX} parts, each with its own category, amount and notes. Their amounts must "
    "add up to `amount` exactly, in the same currency, and have the sign of `amount`: a payment's parts are all "
    "spending, a split refund's parts all money back."
)


class SplitPartCreate(msgspec.Struct, forbid_unknown_fields=True):
    if TYPE_CHECKING:  # a string on the wire, a Decimal after the split's __post_init__ (see ExpenseCreate)
        amount: Decimal
    else:
        amount: AmountText
    category_id: uuid.UUID | None = None
    notes: str = ""


class SplitPartUpdate(SplitPartCreate, forbid_unknown_fields=True):
    id: Annotated[
        uuid.UUID | None,
        msgspec.Meta(description="The existing part this one replaces (it keeps its id); null or absent: a new part."),
    ] = None


def _check_parts(parts: Sequence[SplitPartCreate]) -> None:
    """Each part's amount and notes, the errors naming the part (``part 2: ...``) under the field ``parts``."""
    if not SPLIT_PARTS_MIN <= len(parts) <= SPLIT_PARTS_MAX:
        raise field_error("parts", f"a split has {SPLIT_PARTS_MIN} to {SPLIT_PARTS_MAX} parts, not {len(parts)}")
    for number, part in enumerate(parts, start=1):
        try:
            part.amount = parse_amount(part.amount)
            part.notes = clean_notes(part.notes)
        except ValueError as exc:
            field = "amount" if isinstance(part.amount, str) else "notes"
            raise field_error("parts", f"part {number}: {field} {exc}") from None


class SplitCreate(msgspec.Struct, forbid_unknown_fields=True):
    title: str
    if TYPE_CHECKING:
        amount: Decimal
    else:
        amount: Annotated[AmountText, msgspec.Meta(description="The payment's total, the sum of its parts.")]
    parts: Annotated[Sequence[SplitPartCreate], msgspec.Meta(description=PARTS_DESCRIPTION)]
    currency: str | None = None
    """Defaults to the user's currency."""
    spent_on: dt.date | None = None
    """Defaults to today in the user's time zone."""
    tags: Annotated[
        list[str] | None,
        msgspec.Meta(
            description="Tag names for the payment, on every part (created on the fly); PUT: null keeps them."
        ),
    ] = None
    expense_id: Annotated[
        uuid.UUID | None,
        msgspec.Meta(
            description=(
                "An existing ordinary expense to split (create only): it becomes the first part and keeps its id; "
                "`spent_on` left out keeps its date."
            )
        ),
    ] = None

    def __post_init__(self) -> None:
        try:
            self.title = clean_title(self.title)
        except ValueError as exc:
            raise field_error("title", str(exc)) from None
        try:
            self.amount = parse_amount(self.amount)
        except ValueError as exc:
            raise field_error("amount", str(exc)) from None
        if self.currency is not None:
            try:
                self.currency = parse_currency(self.currency)
            except ValueError as exc:
                raise field_error("currency", str(exc)) from None
        _check_parts(self.parts)


class SplitUpdate(SplitCreate, forbid_unknown_fields=True):
    """The whole split again (PUT): parts sent with their ``id`` keep it; parts left out are deleted.

    ``currency`` and ``spent_on`` left out (or null) keep the split's own; ``expense_id`` is refused.
    """

    parts: Annotated[Sequence[SplitPartUpdate], msgspec.Meta(description=PARTS_DESCRIPTION)]


class SplitRead(msgspec.Struct):
    id: Annotated[uuid.UUID, msgspec.Meta(description="The split's id: each part's `split_id`.")]
    title: str
    amount: Annotated[Decimal, msgspec.Meta(description="The total: the sum of the parts.")]
    currency: str
    spent_on: dt.date
    parts: Annotated[list[ExpenseRead], msgspec.Meta(description="The parts, in the order they were entered.")]
    tags: Annotated[list[str], msgspec.Meta(description="The payment's tag names, sorted ignoring case.")] = (
        msgspec.field(default_factory=list)
    )
