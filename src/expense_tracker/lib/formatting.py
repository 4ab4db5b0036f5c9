"""Display rules for the UI: money, numbers and dates via CLDR (Babel) in the request's locale, never through floats.

Every function reads the locale from :data:`expense_tracker.lib.locales.current_locale` (set per request from the
user's choice or the browser), so callers keep passing only the value: ``money(amount, currency)``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from babel.dates import format_date, format_interval, format_skeleton
from babel.numbers import format_compact_currency, format_currency, format_decimal, get_currency_name

from expense_tracker.constants import DEFAULT_LOCALE
from expense_tracker.lib.locales import current_locale, example_amount, input_amount

LOCALE = DEFAULT_LOCALE
"""The locale outside any request (CLI, tests calling these directly)."""


def money(amount: Decimal | None, currency: str) -> str:
    """``1.234,56 €`` in de_DE, ``-$4.99`` (a refund) in en_US."""
    if amount is None:
        return "—"
    return str(format_currency(amount, currency, locale=current_locale.get()))


def number(value: Decimal | int) -> str:
    """A plain number with the locale's grouping: ``1.234`` in de_DE."""
    return str(format_decimal(value, locale=current_locale.get()))


def amount_input(value: Decimal | None) -> str:
    """An amount as a form field shows it (``12,50`` in de_DE), which the form parses back unchanged."""
    return "" if value is None else input_amount(value, current_locale.get())


def rate_number(value: Decimal | str) -> str:
    """An exchange rate with all its decimals (up to 8) and no grouping: ``1,085`` in de_DE, so it reads as typed."""
    return str(format_decimal(Decimal(value).normalize(), format="0.########", locale=current_locale.get()))


def amount_example() -> str:
    """The expected format of a typed amount: ``1.234,56`` in de_DE."""
    return example_amount(current_locale.get())


def currency_name(code: str) -> str:
    return str(get_currency_name(code, locale=current_locale.get()))


def day(value: dt.date) -> str:
    """CLDR's medium date: ``Mar 5, 2024`` in en_US, ``05.03.2024`` in de_DE, ``5 mars 2024`` in fr_FR."""
    return str(format_date(value, format="medium", locale=current_locale.get()))


def month_label(value: str) -> str:
    """``2024-03`` -> ``Mar 2024`` (en_US), ``März 2024`` (de_DE)."""
    return str(format_skeleton("yMMM", dt.date.fromisoformat(value + "-01"), locale=current_locale.get()))


def month_short(value: str) -> str:
    """``2024-03`` -> ``Mar`` (en_US), ``März`` (de_DE): a chart's month tick (the year is written once beneath)."""
    return str(format_skeleton("MMM", dt.date.fromisoformat(value + "-01"), locale=current_locale.get()))


def year_label(value: str) -> str:
    """``2024-03`` -> ``2024`` as the locale writes years."""
    return str(format_skeleton("y", dt.date.fromisoformat(value + "-01"), locale=current_locale.get()))


def axis_money(amount: Decimal, currency: str) -> str:
    """A chart axis value, short: ``$1.5K``, ``1500 €`` (CLDR's compact currency format)."""
    return str(format_compact_currency(amount, currency, locale=current_locale.get(), fraction_digits=1))


def month_title(value: dt.date) -> str:
    """A month in full: ``March 2024`` (en_US), ``März 2024`` (de_DE)."""
    return str(format_skeleton("yMMMM", value, locale=current_locale.get()))


def day_range(start: dt.date, end: dt.date) -> str:
    """Days of one month, CLDR's interval format: ``February 1 - 5`` (en_US), ``1.-5. Februar`` (de_DE), both with an
    en dash; one day alone: ``February 1``."""
    if start == end:
        return str(format_skeleton("MMMMd", start, locale=current_locale.get()))
    return str(format_interval(start, end, "MMMMd", locale=current_locale.get()))
