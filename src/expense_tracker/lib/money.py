"""Money and currency rules shared by the API, the CSV import and the UI."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import Annotated

import msgspec

from expense_tracker.constants import AMOUNT_MAX

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal(AMOUNT_MAX)
AMOUNT_MESSAGE = "must be a decimal number such as 12.50"
AMOUNT_TEXT_MAX = 64
# ASCII digits only (``[0-9]``, never ``\d``: Python's Decimal and int also take Arabic-Indic and full-width digits,
# "1_000" and "+5"), an optional comma thousands separator in groups of three, an optional fraction. No exponent, NaN
# or Infinity; a minus sign parses so the answer can say "must be greater than 0". Surrounding spaces and tabs are
# tolerated because forms and CSV cells often carry them.
AMOUNT_PATTERN = r"^[ \t]*-?(?:[0-9]+|[0-9]{1,3}(?:,[0-9]{3})+)(?:\.[0-9]+)?[ \t]*$"
_AMOUNT = re.compile(AMOUNT_PATTERN)

AmountText = Annotated[
    str,
    msgspec.Meta(
        pattern=AMOUNT_PATTERN,
        max_length=AMOUNT_TEXT_MAX,
        description=f"Decimal string, more than 0 and at most {AMOUNT_MAX}; rounded half up to cents.",
        examples=["12.50"],
    ),
]
"""How an amount travels in JSON and forms: a string, checked by the grammar above before it becomes a Decimal."""


def quantize(value: Decimal) -> Decimal:
    """Round to cents, half up. Done before every write so PostgreSQL and SQLite store the same value."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_amount(value: Decimal | str, *, allow_zero: bool = False) -> Decimal:
    """Validate and quantize a money amount; raises ``ValueError`` with a message fit for the person who typed it."""
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, str) and len(value) <= AMOUNT_TEXT_MAX and _AMOUNT.match(value):
        amount = Decimal(value.strip().replace(",", ""))
    else:
        raise ValueError(AMOUNT_MESSAGE)
    if not amount.is_finite():
        raise ValueError(AMOUNT_MESSAGE)
    # Compare before rounding: quantize() of a value with more digits than the context's precision (28) raises
    # InvalidOperation, so "1e26" must be refused here rather than reach it.
    if abs(amount) > MAX_AMOUNT + 1:
        raise ValueError(f"must be at most {AMOUNT_MAX}")
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
