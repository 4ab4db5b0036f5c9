"""The SVG charts: round y-axis values, years under the month ticks, a phone drawing whose text is not shrunk."""

from __future__ import annotations

import re
import warnings
from decimal import Decimal

import pytest

from expense_tracker.lib.charts import Bar, bar_chart, column_chart, nice_ticks, responsive


@pytest.mark.parametrize(
    ("top", "ticks"),
    [
        ("900", ["0", "500", "1000"]),
        ("1100", ["0", "500", "1000", "1500"]),
        ("37.50", ["0", "10", "20", "30", "40"]),
        ("4", ["0", "1", "2", "3", "4"]),
        ("0.30", ["0", "0.1", "0.2", "0.3"]),
        ("0", ["0"]),
        ("-15", ["0"]),
    ],
)
def test_nice_ticks(top: str, ticks: list[str]) -> None:
    assert [f"{t.normalize():f}" for t in nice_ticks(Decimal(top))] == ticks


def months() -> list[Bar]:
    spec = [("Nov", "2025", "10"), ("Dec", "2025", "0"), ("Jan", "2026", "900"), ("Feb", "2026", "-5")]
    return [Bar(f"{m} {y}", Decimal(v), f"${v}", tick=m, group=y) for m, y, v in spec]


def test_column_chart_has_a_y_axis_and_the_year_where_it_changes() -> None:
    svg = column_chart(months(), "t", "d", "m", axis_label=lambda v: f"${v}")
    assert re.findall(r'class="tick y-tick">([^<]+)<', svg) == ["$0", "$500", "$1000"]
    assert re.findall(r'class="tick group">([^<]+)<', svg) == ["2025", "2026"]
    assert re.findall(r'class="tick">([^<]+)<', svg) == ["Nov", "Dec", "Jan", "Feb"]
    assert svg.count('class="grid"') == 3
    sizes = [float(v) for v in re.findall(r'(?:width|height)="(-?[0-9.]+)"', svg)]
    assert min(sizes) >= 0  # the refund month draws no bar of negative size


def test_the_phone_drawings_fit_a_phone_and_keep_their_own_ids() -> None:
    narrow = column_chart(months(), "t", "d", "m-narrow", axis_label=lambda v: f"${v}", width=360)
    assert 'viewBox="0 0 360 ' in narrow
    assert 'aria-labelledby="m-narrow-title m-narrow-desc"' in narrow
    cats = [Bar("Groceries and household", Decimal("200"), "$200.00"), Bar("Fun", Decimal("50"), "$50.00")]
    stacked = bar_chart(cats, "t", "d", "c-narrow", narrow=True)
    assert 'viewBox="0 0 360 ' in stacked
    # Name and amount on a line above a full-width bar: the longest bar is 356 units of 360.
    assert 'width="356.0"' in stacked
    assert 'width="89.0"' in stacked
    both = responsive("<svg>A</svg>", "<svg>B</svg>")
    assert both == '<div class="chart-wide"><svg>A</svg></div><div class="chart-narrow"><svg>B</svg></div>'


def test_a_deprecation_in_our_code_fails_the_run() -> None:
    """pyproject's filterwarnings turns DeprecationWarnings attributed to our packages into errors."""
    with pytest.raises(DeprecationWarning):
        warnings.warn_explicit("old API", DeprecationWarning, "money.py", 1, module="expense_tracker.lib.money")
    with pytest.raises(DeprecationWarning):
        warnings.warn_explicit("old API", DeprecationWarning, "test_x.py", 1, module="tests.test_x")
