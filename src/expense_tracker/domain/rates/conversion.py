"""Converting sums of money between currencies with one user's exchange rates: pure Decimal arithmetic, no I/O.

Rates: a row (currency X, rate r, valid_from f) says 1 X = r units of the base (the user's default currency D) from
day f until the day before the next row of X. An amount in X spent on day d converts to D with the row of X with the
latest ``valid_from <= d``; to another currency T (a budget's) through D: ``amount * r_X(d) / r_T(d)``. No row on or
before d -> the amount is *not converted*: counted and summed per currency, never dropped.

Rounding: sums are converted, not single expenses. Each (currency, rate period) sum, in exact cents, is multiplied by
its rate exactly (a cross rate divides, at Decimal's 28 significant digits); the exact products are added, and the
result is rounded half up to cents once, at the end. A total and its parts are each rounded once from their exact
values, so the parts may add up to a cent more or less than the total.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Generic, TypeVar

from expense_tracker.lib.money import currency_decimals

K = TypeVar("K")
CENT = Decimal("0.01")
ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Rate:
    currency: str
    valid_from: dt.date
    rate: Decimal


@dataclass(frozen=True)
class Factor:
    """Multiply an amount in the source currency by ``value`` to get the target currency; ``rates`` are the rows
    used (none when source or target is the base itself)."""

    value: Decimal
    rates: tuple[Rate, ...]


class RateTable:
    """One user's rates for one base currency, searchable by currency and day."""

    def __init__(self, base: str, rates: Iterable[Rate]) -> None:
        self.base = base
        by_currency: dict[str, list[Rate]] = defaultdict(list)
        for rate in rates:
            by_currency[rate.currency].append(rate)
        self._rates = {cur: sorted(rows, key=lambda r: r.valid_from) for cur, rows in by_currency.items()}
        self._days = {cur: [r.valid_from for r in rows] for cur, rows in self._rates.items()}

    def rate_on(self, currency: str, day: dt.date) -> Rate | None:
        """The row in force on ``day``: the latest with ``valid_from <= day``."""
        days = self._days.get(currency, [])
        index = bisect.bisect_right(days, day)
        return self._rates[currency][index - 1] if index else None

    def factor(self, source: str, target: str, day: dt.date) -> Factor | None:
        if source == target:
            return Factor(Decimal(1), ())
        used: list[Rate] = []
        value = Decimal(1)
        if source != self.base:
            rate = self.rate_on(source, day)
            if rate is None:
                return None
            used.append(rate)
            value *= rate.rate
        if target != self.base:
            rate = self.rate_on(target, day)
            if rate is None:
                return None
            used.append(rate)
            value /= rate.rate
        return Factor(value, tuple(used))

    def segments(self, source: str, target: str, start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
        """[start, end] cut at every day on which the source's or the target's rate changes: within a segment one
        factor applies (or none)."""
        cuts = sorted(
            {
                day
                for currency in {source, target} - {self.base}
                for day in self._days.get(currency, [])
                if start < day <= end
            }
        )
        segments = []
        first = start
        for cut in cuts:
            segments.append((first, cut - ONE_DAY))
            first = cut
        segments.append((first, end))
        return segments


@dataclass
class Sum:
    cents: int = 0
    count: int = 0

    def add(self, cents: int, count: int) -> None:
        self.cents += cents
        self.count += count


def round_cents(value: Decimal, currency: str | None = None) -> Decimal:
    """Half up to cents, or to ``currency``'s own unit when it has fewer decimals (a yen, for JPY: a converted JPY
    figure never shows cents the currency does not have), still written with two places like stored amounts."""
    # More digits than the default context's 28: a large history times a large cross rate must still round, not raise
    # InvalidOperation (a 500).
    with localcontext() as context:
        context.prec = 60
        unit = CENT if currency is None else Decimal(1).scaleb(-currency_decimals(currency))
        return value.quantize(unit, rounding=ROUND_HALF_UP).quantize(CENT)


@dataclass
class Conversion(Generic[K]):
    """Sums per key converted to ``target``; what could not be converted, per key and currency; the rates used."""

    target: str
    exact: dict[K, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    counts: dict[K, int] = field(default_factory=lambda: defaultdict(int))
    missing: dict[K, dict[str, Sum]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(Sum)))
    rates_used: dict[str, Rate] = field(default_factory=dict)
    """Per currency, the latest rate row any converted sum used."""

    def add(self, key: K, cents: int, count: int, factor: Factor | None, currency: str) -> None:
        if factor is None:
            self.missing[key][currency].add(cents, count)
            return
        self.exact[key] += Decimal(cents).scaleb(-2) * factor.value
        self.counts[key] += count
        for rate in factor.rates:
            known = self.rates_used.get(rate.currency)
            if known is None or rate.valid_from > known.valid_from:
                self.rates_used[rate.currency] = rate

    def total(self, key: K) -> Decimal:
        """The key's converted sum, rounded half up to cents (the target's unit) once."""
        return round_cents(self.exact.get(key, Decimal(0)), self.target)

    def grand_total(self) -> Decimal:
        """Every key's converted sum, added exactly and rounded half up to cents once."""
        return round_cents(sum(self.exact.values(), Decimal(0)), self.target)

    def converted_count(self) -> int:
        return sum(self.counts.values())

    def not_converted(self, key: K | None = None) -> dict[str, Sum]:
        """Per currency, what had no rate: for one key, or for all of them."""
        found: dict[str, Sum] = defaultdict(Sum)
        for each, by_currency in self.missing.items():
            if key is None or each == key:
                for currency, amount in by_currency.items():
                    found[currency].add(amount.cents, amount.count)
        return {c: s for c, s in sorted(found.items()) if s.count}

    def rates_up_to(self) -> dt.date | None:
        """The latest ``valid_from`` among the rates used (None when nothing needed a rate)."""
        return max((r.valid_from for r in self.rates_used.values()), default=None)
