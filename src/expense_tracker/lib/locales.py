"""The user's locale (CLDR via Babel): which one applies to a request, and amounts typed in it.

Formatting lives in :mod:`expense_tracker.lib.formatting` (it reads :data:`current_locale`); this module chooses the
locale and parses what people type in forms and filters. The JSON API and the CSV format never go through here:
they stay in the locale-independent machine format (``12.50``).
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from decimal import Decimal
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from babel import Locale, UnknownLocaleError
from babel.core import negotiate_locale
from babel.numbers import (
    NumberFormatError,
    format_decimal,
    get_currency_symbol,
    get_decimal_symbol,
    get_group_symbol,
    parse_decimal,
)

from expense_tracker.constants import DEFAULT_LOCALE, LOCALES
from expense_tracker.lib.money import AMOUNT_TEXT_MAX, check_decimals

if TYPE_CHECKING:
    from litestar import Request

current_locale: ContextVar[str] = ContextVar("current_locale", default=DEFAULT_LOCALE)
"""The locale of the request being handled, set per request by :func:`set_request_locale`; the default (en_US) is what
the app used before locales existed, so code running outside a request formats as it always did."""

ACCEPT_LANGUAGE_MAX = 20
"""Language ranges read from one Accept-Language header: browsers send a handful; the rest is ignored."""
_SPACES = frozenset(" \u00a0\u202f")
"""Space-like group separators (fr_FR uses U+202F, sv_SE U+00A0): people type a plain space, browsers may paste any."""
_MINUS = ("-", "\u2212")
"""ASCII hyphen-minus and U+2212, which CLDR uses as the minus sign of sv, fi, nb, lt..."""


@cache
def locale_names() -> dict[str, str]:
    """Supported locale id -> its name in its own language ("Deutsch (Deutschland)"), for the settings choice."""
    return {code: Locale.parse(code).get_display_name(code) or code for code in LOCALES}


def parse_locale(value: str) -> str:
    """A supported locale id (``de_DE``; ``de-DE`` is accepted too), or ``ValueError``."""
    code = value.strip().replace("-", "_")
    try:
        canonical = str(Locale.parse(code))
    except (ValueError, UnknownLocaleError):
        canonical = ""
    if canonical not in LOCALES:
        raise ValueError("must be one of the supported locales such as en_US or de_DE")
    return canonical


@lru_cache(maxsize=256)  # runs on every request; browsers send a handful of distinct headers
def negotiate(accept_language: str | None) -> str:
    """The supported locale a browser's ``Accept-Language`` asks for first (by q-value), else :data:`DEFAULT_LOCALE`.

    The header is split into ranges and weights (HTTP syntax); matching the ranges to locales is Babel's
    ``negotiate_locale`` (``Locale.negotiate`` without re-parsing, so the answer is one of ``LOCALES`` as spelled
    there). A range's bare language is tried right after it, so ``de-AT`` finds ``de_DE`` (via CLDR's
    alias ``de`` -> ``de_DE``) before a lower-weighted ``en``.
    """
    ranked: list[tuple[float, int, str]] = []
    for index, item in enumerate((accept_language or "").split(",")[:ACCEPT_LANGUAGE_MAX]):
        tag, _, params = item.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and tag != "*" and weight > 0:
            ranked.append((-weight, index, tag.strip().replace("-", "_")))
    preferred: list[str] = []
    for _, _, tag in sorted(ranked):
        preferred += [tag, tag.split("_")[0]]
    return negotiate_locale(preferred, LOCALES) or DEFAULT_LOCALE


def request_locale(user_locale: str | None, accept_language: str | None) -> str:
    """The user's chosen locale, else the browser's (``user_account.locale`` NULL means "follow the browser")."""
    return user_locale if user_locale in LOCALES else negotiate(accept_language)


def set_request_locale(user_locale: str | None, accept_language: str | None) -> str:
    locale = request_locale(user_locale, accept_language)
    current_locale.set(locale)
    return locale


def example_amount(locale: str) -> str:
    """``1.234,56`` in de_DE, ``1,234.56`` in en_US: the format an amount is expected in, for hints and errors."""
    return str(format_decimal(Decimal("1234.56"), format="#,##0.00", locale=locale))


def format_message(locale: str) -> str:
    return f"Use the format {example_amount(locale)}"


def input_amount(amount: Decimal, locale: str) -> str:
    """An amount as a form field shows it: the locale's decimal sign, no grouping (so it parses back unchanged)."""
    return str(format_decimal(amount, format="0.00", locale=locale))


def _without_currency(value: str, currency: str, locale: str) -> str:
    """``$45``, ``45 $``, ``-$45``, ``USD 45`` -> the number: the currency's symbol in ``locale`` (CLDR) or its code."""
    for symbol in sorted({get_currency_symbol(currency, locale), currency}, key=len, reverse=True):
        if value.startswith(symbol):
            return value.removeprefix(symbol).strip()
        if value.endswith(symbol):
            return value.removesuffix(symbol).strip()
        if value.startswith(_MINUS) and value[1:].strip().startswith(symbol):  # -$45
            return value[0] + value[1:].strip().removeprefix(symbol).strip()
    return value


def parse_local_amount(text: str, currency: str | None, locale: str) -> Decimal:
    """What a person typed in ``locale`` -> the amount, or ``ValueError`` saying the expected format.

    ``12,50`` in de_DE, ``1,234.56`` / ``$45`` / ``45 $`` in en_US; a leading minus sign (ASCII or U+2212) makes a
    refund. The currency's own symbol in that locale (``$`` for USD in en_US, ``€`` for EUR, ``US$`` for USD in en_GB)
    and its ISO code may stand before or after the number. The number itself goes through Babel's strict
    ``parse_decimal``, which refuses digit groups in the wrong places (``12.50`` in de_DE, ``12,50`` in en_US), so an
    ambiguous entry is refused rather than guessed. More decimals than the currency has are refused, never rounded.
    """
    if len(text) > AMOUNT_TEXT_MAX:
        raise ValueError(format_message(locale))
    value = _without_currency(text.strip(), currency, locale) if currency else text.strip()
    negative = value.startswith(_MINUS)
    if negative:
        value = value[1:].strip()
    group, decimal_sign = get_group_symbol(locale), get_decimal_symbol(locale)
    if group in _SPACES:
        value = "".join(group if char in _SPACES else char for char in value)
    # Only ASCII digits and the locale's two separators: Decimal (under Babel) would also take "1e5", "NaN", "+5",
    # "1_000" and non-ASCII digits, none of which anyone means as an amount.
    if not value or not re.fullmatch(f"[0-9{re.escape(group + decimal_sign)}]+", value) or value[0] in group:
        raise ValueError(format_message(locale))
    try:
        amount = parse_decimal(value, locale=locale, strict=True)
    except NumberFormatError:
        raise ValueError(format_message(locale)) from None
    if not amount.is_finite():
        raise ValueError(format_message(locale))
    amount = amount.copy_negate() if negative else amount  # exact: unary minus rounds to the context
    if currency:
        try:
            check_decimals(amount, currency)
        except ValueError as exc:  # "1,234" in de_DE is 1.234: say how a thousand is written there too
            raise ValueError(f"{exc}. {format_message(locale)}") from None
    return amount


async def apply_request_locale(request: Request[Any, Any, Any]) -> None:
    """App-wide ``before_request`` hook: the locale this request's pages format and parse with.

    It runs after authentication (so the signed-in user's choice is known) and in the handler's own task, so the
    value reaches the handler and its template rendering, and no other request.
    """
    user = request.scope.get("user")
    set_request_locale(getattr(user, "locale", None), request.headers.get("accept-language"))
