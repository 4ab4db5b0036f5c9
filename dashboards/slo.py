"""SLOs: availability and latency SLIs over 30 days, error budget left, burn rates (from the shared recording rules)."""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.builders.dashboard import Row
from grafana_foundation_sdk.models import units

from dashboards import sli
from dashboards.panels import NAMESPACE, finalise, graph, new_dashboard, single

UID = "expense-tracker-slo"


def _selector(rule: str) -> str:
    return f"{rule}{{{NAMESPACE}}}"


def build() -> dict[str, Any]:
    board = new_dashboard(
        UID,
        "expense-tracker / SLO",
        f"Availability {sli.AVAILABILITY_OBJECTIVE:.1%} and latency {sli.LATENCY_OBJECTIVE:.0%} under "
        f"{sli.LATENCY_THRESHOLD_SECONDS} s, over {sli.SLO_PERIOD}.",
    )
    for kind, ratio, objective in (
        ("Availability", sli.error_ratio, sli.AVAILABILITY_OBJECTIVE),
        ("Latency", sli.slow_ratio, sli.LATENCY_OBJECTIVE),
    ):
        budget = sli.budget(objective)
        period = _selector(ratio(sli.SLO_PERIOD))
        board = (
            board.with_row(Row(f"{kind} (objective {objective:.1%})"))
            .with_panel(
                single(
                    f"{kind} SLI ({sli.SLO_PERIOD})",
                    "Share of good requests over the SLO period.",
                    units.PercentUnit,
                    f"1 - {period}",
                    [(None, "red"), (objective, "green")],
                    decimals=3,
                )
            )
            .with_panel(
                single(
                    "Error budget remaining",
                    "1 = untouched, 0 = spent, below 0 = objective missed.",
                    units.PercentUnit,
                    f"1 - {period} / {budget}",
                    [(None, "red"), (0.25, "orange"), (0.5, "green")],
                )
            )
            .with_panel(
                graph(
                    "Burn rate",
                    "How fast the budget is spent (1 = exactly on budget); alerts page at 14.4 (1 h) and 6 (6 h).",
                    units.Short,
                    *[(f"{_selector(ratio(window))} / {budget}", window) for window in ("5m", "1h", "6h", "1d")],
                    thresholds=[(None, "green"), (1, "orange"), (6, "red")],
                )
            )
        )
    return finalise(board)
