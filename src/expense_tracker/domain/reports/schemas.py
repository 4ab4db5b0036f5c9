from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import msgspec


class CurrencyTotal(msgspec.Struct):
    currency: str
    total: Decimal
    count: int
    average: Decimal


class RateUsed(msgspec.Struct):
    """An exchange rate a converted figure used: 1 ``currency`` = ``rate`` of the base from ``valid_from``."""

    currency: str
    rate: Decimal
    valid_from: dt.date


class NotConverted(msgspec.Struct):
    """Expenses in ``currency`` that had no exchange rate for their day: left out of the converted figure, never
    dropped."""

    currency: str
    total: Decimal
    count: int


class Conversion(msgspec.Struct):
    """A figure converted to ``currency`` with the user's exchange rates (each expense at the rate valid on its day)."""

    currency: str
    total: Decimal
    count: int
    """Expenses included in ``total`` (same-currency ones and converted ones)."""
    rates_up_to: dt.date | None
    """The latest ``valid_from`` of the rates used; null when no rate was needed."""
    rates: list[RateUsed]
    """Per currency, the latest rate used."""
    not_converted: list[NotConverted]


class Summary(msgspec.Struct):
    date_from: dt.date = msgspec.field(name="from")
    date_to: dt.date = msgspec.field(name="to")
    count: int = 0
    currencies: list[CurrencyTotal] = msgspec.field(default_factory=list)
    converted: Conversion | None = None
    """With ``convert=true``: every currency converted to the default currency."""


class CategoryShare(msgspec.Struct):
    category_id: uuid.UUID | None
    name: str
    color: str
    total: Decimal
    count: int
    share: Decimal
    """Percent of the period's total, 2 decimals."""


class ByCategory(msgspec.Struct):
    date_from: dt.date = msgspec.field(name="from")
    date_to: dt.date = msgspec.field(name="to")
    currency: str = ""
    total: Decimal = Decimal("0.00")
    categories: list[CategoryShare] = msgspec.field(default_factory=list)
    converted: Conversion | None = None
    """With ``convert=true``: the categories hold every currency converted to ``currency``; this says how."""
    other_currencies: list[CurrencyTotal] = msgspec.field(default_factory=list)
    """Without conversion: the period's expenses in other currencies, which the categories leave out."""


class MonthTotal(msgspec.Struct):
    month: str
    total: Decimal
    count: int


class Monthly(msgspec.Struct):
    currency: str
    months: list[MonthTotal]
    converted: Conversion | None = None
    """With ``convert=true``: the months hold every currency converted to ``currency``; this says how."""
    other_currencies: list[CurrencyTotal] = msgspec.field(default_factory=list)
    """Without conversion: the months' expenses in other currencies, which the months leave out."""


class BudgetLine(msgspec.Struct):
    category_id: uuid.UUID
    name: str
    color: str
    budget: Decimal | None
    spent: Decimal
    remaining: Decimal | None
    percent: Decimal | None
    budget_currency: str | None = None
    """The budget's currency, in which ``budget``, ``spent`` and ``remaining`` are; null (no budget): ``spent`` is
    in the report's currency."""
    not_converted: list[NotConverted] = msgspec.field(default_factory=list)
    """Spending in other currencies with no exchange rate for its day: not in ``spent``."""


class Budget(msgspec.Struct):
    month: str
    currency: str
    lines: list[BudgetLine]
    rates: list[RateUsed] = msgspec.field(default_factory=list)
    """Rates used to convert spending into the budgets' currencies (per currency, the latest used)."""
    rates_up_to: dt.date | None = None
