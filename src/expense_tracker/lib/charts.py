"""Server-rendered SVG charts with accessible titles; each is shown next to a table of the same numbers."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from html import escape


@dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal
    display: str
    color: str = "var(--accent)"


def _scale(bars: list[Bar]) -> Decimal:
    top = max((b.value for b in bars), default=Decimal(0))
    return top if top > 0 else Decimal(1)


def _share(bar: Bar, top: Decimal) -> float:
    """A bar's length as a fraction of the longest. A negative total (refunds exceeding spending) draws no bar, never
    one of negative size (invalid SVG); its amount is still written next to it and in its tooltip."""
    return float(max(bar.value, Decimal(0)) / top)


def column_chart(bars: list[Bar], title: str, description: str, chart_id: str) -> str:
    """Vertical bars (e.g. 12 months), labels under each bar, value in each bar's tooltip title."""
    width, height, pad, label_h = 640, 240, 8, 40
    slot = (width - 2 * pad) / max(len(bars), 1)
    top = _scale(bars)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height + label_h}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{chart_id}-title">{escape(title)}</title><desc id="{chart_id}-desc">{escape(description)}</desc>',
        f'<line x1="{pad}" y1="{height}" x2="{width - pad}" y2="{height}" class="axis"/>',
    ]
    for index, bar in enumerate(bars):
        bar_h = _share(bar, top) * (height - 20)
        x = pad + index * slot + slot * 0.15
        y = height - bar_h
        parts.append(
            f'<g class="bar"><rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{bar_h:.1f}" '
            f'fill="{escape(bar.color)}"><title>{escape(bar.label)}: {escape(bar.display)}</title></rect>'
            f'<text x="{x + slot * 0.35:.1f}" y="{height + 16}" text-anchor="middle" class="tick">'
            f"{escape(bar.label.split(' ')[0])}</text></g>"
        )
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(bars: list[Bar], title: str, description: str, chart_id: str) -> str:
    """Horizontal bars (e.g. categories), each labelled with its name and amount."""
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
