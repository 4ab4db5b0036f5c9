"""Bodies of the budgets API (``/api/budgets``); every field is in the OpenAPI schema."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING

import msgspec

from expense_tracker.domain.reports.schemas import NotConverted, RateUsed
from expense_tracker.lib.money import AmountText, parse_amount, parse_currency
from expense_tracker.lib.problems import field_error


class BudgetSet(msgspec.Struct, forbid_unknown_fields=True):
    """A category's budget from a month on (until its next change); ``amount`` null: no budget from that month."""

    # A string on the wire (strict money grammar), a Decimal after __post_init__: see ExpenseCreate.amount.
    if TYPE_CHECKING:
        amount: Decimal | None
    else:
        amount: AmountText | None
    currency: str | None = None
    """Default: the budget's currency in the month before, else the category's, else the default currency."""
    rollover: bool = False
    """Carry what is left (or overspent) at the end of each month into the next one."""

    def __post_init__(self) -> None:
        if self.amount is not None:
            try:
                self.amount = parse_amount(self.amount, allow_negative=False)
            except ValueError as exc:
                raise field_error("amount", str(exc)) from None
        if self.currency is not None and self.currency.strip():
            try:
                self.currency = parse_currency(self.currency)
            except ValueError as exc:
                raise field_error("currency", str(exc)) from None
        else:
            self.currency = None


class BudgetEntry(msgspec.Struct):
    """One change of a category's budget: from ``month`` until the next entry."""

    month: str
    """YYYY-MM."""
    amount: Decimal | None
    """Null: no budget from this month."""
    currency: str | None
    rollover: bool


class BudgetHistory(msgspec.Struct):
    category_id: uuid.UUID
    name: str
    entries: list[BudgetEntry]
    """Oldest first."""


class CategoryBudget(msgspec.Struct):
    """One category in one month. Money is in ``currency``: the budget's, or the default currency without one."""

    category_id: uuid.UUID
    name: str
    color: str
    currency: str
    budget: Decimal | None
    """The budget in force this month; null: no budget."""
    budget_from: str | None
    """YYYY-MM of the change that set it (null without a budget)."""
    rollover: bool
    carried_in: Decimal
    """Left (negative: overspent) at the end of last month and carried into this one; 0 without rollover."""
    available: Decimal | None
    """budget + carried_in."""
    spent: Decimal
    left: Decimal | None
    """available - spent; negative when overspent."""
    percent: Decimal | None
    """spent as a percent of ``available`` (null without a budget or with nothing available)."""
    not_converted: list[NotConverted] = msgspec.field(default_factory=list)
    """Spending in other currencies with no exchange rate for its day: not in ``spent``, listed here."""


class BudgetTotal(msgspec.Struct):
    """The budgeted categories of one currency added up."""

    currency: str
    budget: Decimal
    carried_in: Decimal
    available: Decimal
    spent: Decimal
    left: Decimal


class BudgetMonth(msgspec.Struct):
    month: str
    currency: str
    """The default currency (categories without a budget show their spending in it)."""
    lines: list[CategoryBudget]
    totals: list[BudgetTotal]
    rates: list[RateUsed] = msgspec.field(default_factory=list)
    rates_up_to: dt.date | None = None


class BudgetYearCell(msgspec.Struct):
    month: str
    currency: str
    budget: Decimal | None
    carried_in: Decimal
    spent: Decimal
    left: Decimal | None
    not_converted: list[NotConverted] = msgspec.field(default_factory=list)


class BudgetYearSum(msgspec.Struct):
    """Months with a budget in ``currency`` added up: budget, spending and budget - spending (carry-overs left out:
    they move money between months, so they would count it twice)."""

    currency: str
    budget: Decimal
    spent: Decimal
    left: Decimal


class BudgetYearRow(msgspec.Struct):
    category_id: uuid.UUID
    name: str
    color: str
    months: list[BudgetYearCell]
    """January to December."""
    totals: list[BudgetYearSum]
    """Per budget currency (one unless the budget's currency changed during the year)."""


class BudgetYearMonthTotal(msgspec.Struct):
    month: str
    budget: Decimal
    spent: Decimal
    left: Decimal


class BudgetYearTotal(msgspec.Struct):
    currency: str
    months: list[BudgetYearMonthTotal]
    budget: Decimal
    spent: Decimal
    left: Decimal


class BudgetYear(msgspec.Struct):
    year: int
    currency: str
    categories: list[BudgetYearRow]
    totals: list[BudgetYearTotal]
    """Per currency, the budgeted months of every category: per month and for the year."""
    rates: list[RateUsed] = msgspec.field(default_factory=list)
    rates_up_to: dt.date | None = None
