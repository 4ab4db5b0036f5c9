"""Money and currency rules shared by the API, the CSV import and the UI."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache

from expense_tracker.constants import AMOUNT_MAX

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal(AMOUNT_MAX)


def quantize(value: Decimal) -> Decimal:
    """Round to cents, half up. Done before every write so PostgreSQL and SQLite store the same value."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_amount(value: Decimal | str, *, allow_zero: bool = False) -> Decimal:
    """Validate and quantize a money amount; raises ``ValueError`` with a message fit for the person who typed it."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(value.strip().replace(",", ""))
    except (InvalidOperation, AttributeError):
        raise ValueError("must be a decimal number such as 12.50") from None
    if not amount.is_finite():
        raise ValueError("must be a decimal number such as 12.50")
    amount = quantize(amount)
    if amount < 0 or (amount == 0 and not allow_zero):
        raise ValueError("must be greater than 0" if not allow_zero else "must not be negative")
    if amount > MAX_AMOUNT:
        raise ValueError(f"must be at most {AMOUNT_MAX}")
    return amount


@cache
def currency_codes() -> frozenset[str]:
    """ISO 4217 codes known to CLDR (via Babel)."""
    from babel.numbers import list_currencies

    return frozenset(list_currencies())


def parse_currency(value: str) -> str:
    code = value.strip().upper()
    if code not in currency_codes():
        raise ValueError("must be an ISO 4217 currency code such as USD or EUR")
    return code
