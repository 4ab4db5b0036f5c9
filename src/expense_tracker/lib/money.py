"""Money and currency rules shared by the API, the CSV import and the UI."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import Annotated

import msgspec

from expense_tracker.constants import AMOUNT_MAX, STORED_DECIMALS

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal(AMOUNT_MAX)
AMOUNT_MESSAGE = "must be a decimal number such as 12.50"
DECIMALS_MESSAGE = f"must have at most {STORED_DECIMALS} decimals (amounts are never rounded)"
ZERO_MESSAGE = "must not be 0 (a negative amount is a refund)"
AMOUNT_TEXT_MAX = 64
# ASCII digits only (``[0-9]``, never ``\d``: Python's Decimal and int also take Arabic-Indic and full-width digits,
# "1_000" and "+5"), an optional comma thousands separator in groups of three, an optional fraction. No exponent, NaN
# or Infinity; a leading minus sign makes a refund. Surrounding spaces and tabs are
# tolerated because forms and CSV cells often carry them.
AMOUNT_PATTERN = r"^[ \t]*-?(?:[0-9]+|[0-9]{1,3}(?:,[0-9]{3})+)(?:\.[0-9]+)?[ \t]*$"
_AMOUNT = re.compile(AMOUNT_PATTERN)

AmountText = Annotated[
    str,
    msgspec.Meta(
        pattern=AMOUNT_PATTERN,
        max_length=AMOUNT_TEXT_MAX,
        description=(
            f"Decimal string, not 0, at most {AMOUNT_MAX} either way; negative is a refund. At most as many decimals "
            "as the currency has (2 for USD, 0 for JPY; 3-decimal currencies are limited to 2): never rounded."
        ),
        examples=["12.50", "-4.99"],
    ),
]
"""How an amount travels in JSON and forms: a string, checked by the grammar above before it becomes a Decimal."""


def quantize(value: Decimal) -> Decimal:
    """Round to cents, half up. Done before every write so PostgreSQL and SQLite store the same value."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def decimals(value: Decimal) -> int:
    """Decimal places a value needs (``12.50`` -> 1, ``100`` -> 0), from its digits: no arithmetic, so no context
    rounding (``normalize()`` would round ``12.000000000000000000000000000001`` to 28 digits, hiding its decimals)."""
    _, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):
        return 0
    places = -exponent
    index = len(digits) - 1
    while places > 0 and index >= 0 and digits[index] == 0:  # trailing zeros of the fraction change nothing
        places, index = places - 1, index - 1
    return max(places, 0) if index >= 0 else 0  # every digit a zero: the value is 0


def parse_amount(value: Decimal | str, *, allow_zero: bool = False, allow_negative: bool = True) -> Decimal:
    """Validate a money amount; raises ``ValueError`` with a message fit for the person who typed it.

    Negative amounts are refunds (money back) unless ``allow_negative`` is false (budgets); 0 is refused unless
    ``allow_zero`` (filters). More than two decimals are refused rather than rounded: the database stores cents, and a
    silently changed amount is worse than a question. Per-currency decimals: :func:`check_decimals`.
    """
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, str) and len(value) <= AMOUNT_TEXT_MAX and _AMOUNT.match(value):
        amount = Decimal(value.strip().replace(",", ""))
    else:
        raise ValueError(AMOUNT_MESSAGE)
    if not amount.is_finite():
        raise ValueError(AMOUNT_MESSAGE)
    # Compare before quantizing: quantize() of a value with more digits than the context's precision (28) raises
    # InvalidOperation, so "1e26" must be refused here rather than reach it.
    if abs(amount) > MAX_AMOUNT:
        raise ValueError(f"must be at most {AMOUNT_MAX}" if amount > 0 else f"must be at least -{AMOUNT_MAX}")
    if decimals(amount) > STORED_DECIMALS:
        raise ValueError(DECIMALS_MESSAGE)
    if amount < 0 and not allow_negative:
        raise ValueError("must be greater than 0")
    if amount == 0 and not allow_zero:
        raise ValueError(ZERO_MESSAGE if allow_negative else "must be greater than 0")
    return quantize(amount)


def currency_decimals(currency: str) -> int:
    """Decimals an amount in ``currency`` may have: CLDR's (via Babel) capped at what the database stores."""
    from babel.numbers import get_currency_precision

    return min(get_currency_precision(currency), STORED_DECIMALS)


def check_decimals(amount: Decimal, currency: str) -> None:
    """Refuse (``ValueError``) an amount with more decimals than ``currency`` has: ``12.345`` USD, ``5.5`` JPY."""
    from babel.numbers import get_currency_precision

    allowed = currency_decimals(currency)
    if decimals(amount) <= allowed:
        return
    if allowed == 0:
        raise ValueError(f"{currency} amounts have no decimals (never rounded)")
    if get_currency_precision(currency) > STORED_DECIMALS:
        raise ValueError(
            f"{currency} has {get_currency_precision(currency)} decimals, but amounts are stored with "
            f"{STORED_DECIMALS}: enter at most {STORED_DECIMALS}"
        )
    raise ValueError(f"{currency} amounts have at most {allowed} decimals (never rounded)")


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
