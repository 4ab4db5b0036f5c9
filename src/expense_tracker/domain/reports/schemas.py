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


class Summary(msgspec.Struct):
    date_from: dt.date = msgspec.field(name="from")
    date_to: dt.date = msgspec.field(name="to")
    count: int = 0
    currencies: list[CurrencyTotal] = msgspec.field(default_factory=list)


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


class MonthTotal(msgspec.Struct):
    month: str
    total: Decimal
    count: int


class Monthly(msgspec.Struct):
    currency: str
    months: list[MonthTotal]


class BudgetLine(msgspec.Struct):
    category_id: uuid.UUID
    name: str
    color: str
    budget: Decimal | None
    spent: Decimal
    remaining: Decimal | None
    percent: Decimal | None


class Budget(msgspec.Struct):
    month: str
    currency: str
    lines: list[BudgetLine]
