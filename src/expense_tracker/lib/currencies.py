"""Which ISO 4217 currencies a person can choose: the ones in use today, from CLDR via Babel.

CLDR (``babel.numbers.list_currencies``) knows every ISO 4217 code ever issued: test and special codes (``XTS``,
``XXX``, ``XDR``, gold), fund codes (``USN``, ``BOV``) and withdrawn ones (``DEM``, ``FRF``, ``HRK``, ``BGN``). The
rule here: a currency is *active* on a day when some territory has it as legal tender on that day, i.e. the union of
``get_territory_currencies(territory, start_date=day, tender=True)`` over every territory CLDR lists. It follows the
installed CLDR data (a Babel upgrade brings new currencies and withdrawals), and a currency whose end date CLDR
already knows drops out on that day without a release.

Choosing a new currency (an expense's, the default currency) is limited to active ones. Currencies already stored
(old expenses, an old default, a CSV import of history) stay valid when they are not being changed: see
:func:`check_chosen_currency`.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

INACTIVE_CURRENCY_MESSAGE = "is not a currency in use today; choose an active ISO 4217 code such as USD or EUR"


@lru_cache(maxsize=2)
def _active_on(day: dt.date) -> frozenset[str]:
    from babel.core import get_global
    from babel.numbers import get_territory_currencies

    territories = get_global("territory_currencies")
    return frozenset(
        code for territory in territories for code in get_territory_currencies(territory, start_date=day, tender=True)
    )


def active_currency_codes(day: dt.date | None = None) -> frozenset[str]:
    """The codes that are legal tender somewhere on ``day`` (default: today in UTC; a day's difference at midnight
    elsewhere only matters on the day a currency is withdrawn)."""
    return _active_on(day or dt.datetime.now(dt.UTC).date())


def is_active(code: str) -> bool:
    return code in active_currency_codes()


def check_chosen_currency(code: str, stored: str | None = None) -> str | None:
    """The message refusing ``code`` as a newly chosen currency, or ``None`` when it is fine.

    ``stored`` is the value already saved (the expense's or the user's currency): keeping it unchanged is always
    allowed, so someone with expenses in ``DEM`` can still fix a title without being forced to change the currency.
    """
    if code == stored or is_active(code):
        return None
    return INACTIVE_CURRENCY_MESSAGE


def active_currency_list() -> tuple[str, ...]:
    """:func:`active_currency_codes` in alphabetical order: the currency selects' "All currencies" list."""
    return _sorted(active_currency_codes())


@lru_cache(maxsize=2)
def _sorted(codes: frozenset[str]) -> tuple[str, ...]:
    return tuple(sorted(codes))
