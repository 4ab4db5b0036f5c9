from __future__ import annotations

import re
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import msgspec

from expense_tracker.domain.expenses.schemas import NUL_MESSAGE
from expense_tracker.lib.money import AmountText, parse_amount, parse_currency
from expense_tracker.lib.problems import field_error

_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
NAME_MAX = 50
BudgetFrom = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$",
        description="YYYY-MM: the budget applies from this month on (earlier months keep theirs). "
        "Default: the current month in your time zone.",
    ),
]


def clean_name(value: str) -> str:
    if "\x00" in value:  # PostgreSQL cannot store it
        raise field_error("name", NUL_MESSAGE)
    name = " ".join(value.split())
    if not 1 <= len(name) <= NAME_MAX:
        raise field_error("name", f"must be 1 to {NAME_MAX} characters")
    return name


def clean_color(value: str) -> str:
    if not _COLOR.match(value):
        raise field_error("color", "must be a hex colour such as #1f77b4")
    return value.lower()


def clean_budget(value: Decimal | str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        return parse_amount(value, allow_negative=False)  # a budget is money one may spend: more than 0
    except ValueError as exc:
        raise field_error("monthly_budget", str(exc)) from None


def clean_budget_currency(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    try:
        return parse_currency(value)
    except ValueError as exc:
        raise field_error("budget_currency", str(exc)) from None


class CategoryRead(msgspec.Struct):
    id: uuid.UUID
    name: str
    color: str
    monthly_budget: Decimal | None
    budget_currency: str | None = None
    """The budget's currency (null without a budget); defaults to the default currency when a budget is set."""


class CategoryCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    color: str = "#7f8c8d"
    # A string on the wire (strict money grammar), a Decimal after __post_init__: see ExpenseCreate.amount.
    if TYPE_CHECKING:
        monthly_budget: Decimal | None = None
    else:
        monthly_budget: AmountText | None = None
    budget_currency: str | None = None
    """Default: the user's default currency, when a budget is set."""
    budget_from: BudgetFrom | None = None
    rollover: bool = False
    """Carry what is left (or overspent) of the budget at each month's end into the next month."""

    def __post_init__(self) -> None:
        self.name = clean_name(self.name)
        self.color = clean_color(self.color)
        self.monthly_budget = clean_budget(self.monthly_budget)
        self.budget_currency = clean_budget_currency(self.budget_currency)


class CategoryUpdate(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    name: str | msgspec.UnsetType = msgspec.UNSET
    color: str | msgspec.UnsetType = msgspec.UNSET
    if TYPE_CHECKING:  # see CategoryCreate.monthly_budget
        monthly_budget: Decimal | msgspec.UnsetType | None = msgspec.UNSET
    else:
        monthly_budget: AmountText | msgspec.UnsetType | None = msgspec.UNSET
    budget_currency: str | msgspec.UnsetType | None = msgspec.UNSET
    budget_from: BudgetFrom | msgspec.UnsetType | None = msgspec.UNSET
    """With monthly_budget, budget_currency or rollover: the month from which they apply (default: this month)."""
    rollover: bool | msgspec.UnsetType = msgspec.UNSET
    """Default: unchanged."""

    def __post_init__(self) -> None:
        if not isinstance(self.budget_currency, msgspec.UnsetType):
            self.budget_currency = clean_budget_currency(self.budget_currency)
        if isinstance(self.name, str):
            self.name = clean_name(self.name)
        if isinstance(self.color, str):
            self.color = clean_color(self.color)
        if not isinstance(self.monthly_budget, msgspec.UnsetType):
            self.monthly_budget = clean_budget(self.monthly_budget)
