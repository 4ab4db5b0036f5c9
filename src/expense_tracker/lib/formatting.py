"""Display rules for the UI: money via CLDR (Babel), never through floats."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from babel.numbers import format_currency, get_currency_name

LOCALE = "en_US"


def money(amount: Decimal | None, currency: str) -> str:
    if amount is None:
        return "—"
    return str(format_currency(amount, currency, locale=LOCALE))


def currency_name(code: str) -> str:
    return str(get_currency_name(code, locale=LOCALE))


def day(value: dt.date) -> str:
    return f"{value:%b} {value.day}, {value.year}"


def month_label(value: str) -> str:
    """``2024-03`` -> ``Mar 2024``."""
    return f"{dt.date.fromisoformat(value + '-01'):%b %Y}"
