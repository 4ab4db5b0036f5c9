"""Server-rendered SVG charts with accessible titles; each is shown next to a table of the same numbers.

SVG text scales with the chart, so one drawing cannot be readable both 1,000 px wide and on a 375 px phone (a 640-unit
chart shrinks its 12 px labels to 6 px there). Each chart is therefore drawn twice, wide and narrow, and
:func:`responsive` wraps both: the stylesheet shows one per screen width (the hidden one is ``display: none``, so
assistive technology meets only one).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from html import escape

NARROW_WIDTH = 360
"""Viewbox width of the phone drawings: close to a phone's CSS width, so 12-unit text stays about 12 px."""


@dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal
    display: str
    color: str = "var(--accent)"
    tick: str = ""
    """The short label under a column (``Mar``); the first word of ``label`` when empty."""
    group: str = ""
    """Written under the tick where it changes (the year under the first month and under each January)."""


def _scale(bars: list[Bar]) -> Decimal:
    top = max((b.value for b in bars), default=Decimal(0))
    return top if top > 0 else Decimal(1)


def _share(bar: Bar, top: Decimal) -> float:
    """A bar's length as a fraction of the longest. A negative total (refunds exceeding spending) draws no bar, never
    one of negative size (invalid SVG); its amount is still written next to it and in its tooltip."""
    return float(max(bar.value, Decimal(0)) / top)


def nice_ticks(top: Decimal, count: int = 4) -> list[Decimal]:
    """Round axis values from 0 up to at least ``top``: steps of 1, 2 or 5 times a power of ten (0, 500, 1000...)."""
    if top <= 0:
        return [Decimal(0)]
    raw = float(top) / count
    power = Decimal(10) ** math.floor(math.log10(raw))
    step = next(m * power for m in (Decimal(1), Decimal(2), Decimal(5), Decimal(10)) if m * power >= Decimal(raw))
    steps = math.ceil(top / step)
    return [step * i for i in range(steps + 1)]


def column_chart(
    bars: list[Bar],
    title: str,
    description: str,
    chart_id: str,
    *,
    axis_label: Callable[[Decimal], str] | None = None,
    width: int = 640,
) -> str:
    """Vertical bars (e.g. 12 months): a y-axis with round values and grid lines (when ``axis_label`` formats them),
    the short label under each bar with its group (year) beneath where it changes, the value in each bar's tooltip."""
    height, top_pad, right_pad, label_h = 240, 10, 8, 44
    left = (64 if width > NARROW_WIDTH else 50) if axis_label else 8
    slot = (width - left - right_pad) / max(len(bars), 1)
    ticks = nice_ticks(max((b.value for b in bars), default=Decimal(0))) if axis_label else []
    top = ticks[-1] if len(ticks) > 1 else _scale(bars)
    plot_h = height - top_pad
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height + label_h}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{chart_id}-title">{escape(title)}</title><desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]
    if axis_label:
        for value in ticks:
            y = height - float(value / top) * plot_h
            parts.append(
                f'<line x1="{left}" y1="{y:.1f}" x2="{width - right_pad}" y2="{y:.1f}" class="grid"/>'
                f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick y-tick">'
                f"{escape(axis_label(value))}</text>"
            )
    parts.append(f'<line x1="{left}" y1="{height}" x2="{width - right_pad}" y2="{height}" class="axis"/>')
    previous_group = None
    for index, bar in enumerate(bars):
        bar_h = _share(bar, top) * plot_h
        x = left + index * slot + slot * 0.15
        y = height - bar_h
        centre = x + slot * 0.35
        tick = bar.tick or bar.label.split(" ")[0]
        group = ""
        if bar.group and bar.group != previous_group:
            group = (
                f'<text x="{centre:.1f}" y="{height + 34}" text-anchor="middle" class="tick group">'
                f"{escape(bar.group)}</text>"
            )
        previous_group = bar.group
        parts.append(
            f'<g class="bar"><rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{bar_h:.1f}" '
            f'fill="{escape(bar.color)}"><title>{escape(bar.label)}: {escape(bar.display)}</title></rect>'
            f'<text x="{centre:.1f}" y="{height + 17}" text-anchor="middle" class="tick">'
            f"{escape(tick)}</text>{group}</g>"
        )
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(bars: list[Bar], title: str, description: str, chart_id: str, *, narrow: bool = False) -> str:
    """Horizontal bars (e.g. categories), each labelled with its name and amount. ``narrow`` (phones) writes the name
    and the amount on a line of their own above a full-width bar, instead of beside it."""
    if narrow:
        return _stacked_bar_chart(bars, title, description, chart_id)
    row, label_w, width = 34, 150, 640
    height = max(len(bars), 1) * row + 10
    top = _scale(bars)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{chart_id}-title">{escape(title)}</title><desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]
    for index, bar in enumerate(bars):
        y = 5 + index * row
        bar_w = _share(bar, top) * (width - label_w - 130)
        parts.append(
            f'<g class="bar"><text x="{label_w - 8}" y="{y + 21}" text-anchor="end" class="tick">'
            f"{escape(bar.label)}</text>"
            f'<rect x="{label_w}" y="{y + 5}" width="{bar_w:.1f}" height="{row - 12}" fill="{escape(bar.color)}">'
            f"<title>{escape(bar.label)}: {escape(bar.display)}</title></rect>"
            f'<text x="{label_w + bar_w + 8:.1f}" y="{y + 21}" class="value">{escape(bar.display)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _stacked_bar_chart(bars: list[Bar], title: str, description: str, chart_id: str) -> str:
    row, pad, width = 42, 2, NARROW_WIDTH
    height = max(len(bars), 1) * row + 6
    top = _scale(bars)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{chart_id}-title">{escape(title)}</title><desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]
    for index, bar in enumerate(bars):
        y = 4 + index * row
        bar_w = _share(bar, top) * (width - 2 * pad)
        parts.append(
            f'<g class="bar"><text x="{pad}" y="{y + 14}" class="tick">{escape(bar.label)}</text>'
            f'<text x="{width - pad}" y="{y + 14}" text-anchor="end" class="value">{escape(bar.display)}</text>'
            f'<rect x="{pad}" y="{y + 20}" width="{bar_w:.1f}" height="14" fill="{escape(bar.color)}">'
            f"<title>{escape(bar.label)}: {escape(bar.display)}</title></rect></g>"
        )
    parts.append("</svg>")
    return "".join(parts)


def responsive(wide: str, narrow: str) -> str:
    """Both drawings of one chart; the stylesheet shows the wide one on large screens, the narrow one on phones."""
    return f'<div class="chart-wide">{wide}</div><div class="chart-narrow">{narrow}</div>'
