from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import msgspec

from expense_tracker.constants import RATE_DECIMALS, RATE_INTEGER_DIGITS
from expense_tracker.lib.money import parse_currency
from expense_tracker.lib.problems import field_error

RATE_PATTERN = r"^[ \t]*[0-9]+(?:\.[0-9]+)?[ \t]*$"
_RATE = re.compile(RATE_PATTERN)
RATE_MESSAGE = "must be a decimal number such as 1.0825"
RATE_MAX = Decimal(10) ** RATE_INTEGER_DIGITS
RATE_UNIT = Decimal(1).scaleb(-RATE_DECIMALS)

RateText = Annotated[
    str,
    msgspec.Meta(
        pattern=RATE_PATTERN,
        max_length=40,
        description=f"Decimal string, more than 0, at most {RATE_DECIMALS} decimals: units of the base currency that "
        "one unit of the currency is worth.",
        examples=["1.0825"],
    ),
]


def parse_rate(value: Decimal | str) -> Decimal:
    """A rate > 0 with at most RATE_DECIMALS decimals; refused (not rounded) otherwise, since a rounded rate would
    silently change every converted total."""
    if isinstance(value, str):
        if len(value) > 40 or not _RATE.match(value):
            raise ValueError(RATE_MESSAGE)
        value = Decimal(value.strip())
    if not value.is_finite():
        raise ValueError(RATE_MESSAGE)
    if value <= 0:
        raise ValueError("must be greater than 0")
    if value >= RATE_MAX:
        raise ValueError(f"must be less than {RATE_MAX:,}")
    quantized = value.quantize(RATE_UNIT)
    if quantized != value:
        raise ValueError(f"must have at most {RATE_DECIMALS} decimals")
    return quantized


def clean_currency(value: str, base: str | None = None) -> str:
    try:
        code = parse_currency(value)
    except ValueError as exc:
        raise field_error("currency", str(exc)) from None
    if base is not None and code == base:
        raise field_error("currency", f"must differ from your default currency ({base})")
    return code


class RateRead(msgspec.Struct):
    id: uuid.UUID
    base: str
    currency: str
    rate: Decimal
    """1 unit of ``currency`` = ``rate`` units of ``base``."""
    valid_from: dt.date


class RateCreate(msgspec.Struct, forbid_unknown_fields=True):
    currency: str
    valid_from: dt.date
    # A string on the wire, a Decimal after __post_init__ (see CategoryCreate.monthly_budget).
    if TYPE_CHECKING:
        rate: Decimal
    else:
        rate: RateText

    def __post_init__(self) -> None:
        self.currency = clean_currency(self.currency)
        try:
            self.rate = parse_rate(self.rate)
        except ValueError as exc:
            raise field_error("rate", str(exc)) from None


class RateUpdate(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    valid_from: dt.date | msgspec.UnsetType = msgspec.UNSET
    if TYPE_CHECKING:
        rate: Decimal | msgspec.UnsetType = msgspec.UNSET
    else:
        rate: RateText | msgspec.UnsetType = msgspec.UNSET

    def __post_init__(self) -> None:
        if not isinstance(self.rate, msgspec.UnsetType):
            try:
                self.rate = parse_rate(self.rate)
            except ValueError as exc:
                raise field_error("rate", str(exc)) from None


class RateImportResult(msgspec.Struct):
    imported: int
