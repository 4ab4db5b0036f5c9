"""Small vocabulary over grafana-foundation-sdk so each dashboard reads as a list of panels.

Every panel queries the ``$datasource`` variable; the namespace (= environment) and pod variables are defined once
here; panel ids are assigned in layout order when a dashboard is finalised, so they are stable across renders.
"""

from __future__ import annotations

import json
from typing import Any

from grafana_foundation_sdk.builders import common, dashboard, prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.common import BigValueGraphMode, LegendDisplayMode, LegendPlacement
from grafana_foundation_sdk.models.dashboard import (
    DashboardLinkType,
    DataSourceRef,
    Threshold,
    ThresholdsMode,
    VariableRefresh,
)

from expense_tracker.constants import APP_NAME, METRIC_BUILD_INFO

TAG = APP_NAME
DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")
APP = 'namespace="$namespace", pod=~"$pod"'
"""Selector for the app's own metrics on the chosen environment and pods."""
NAMESPACE = 'namespace="$namespace"'

Thresholds = list[tuple[float | None, str]]


def _thresholds(steps: Thresholds) -> dashboard.ThresholdsConfig:
    return (
        dashboard.ThresholdsConfig()
        .mode(ThresholdsMode.ABSOLUTE)
        .steps([Threshold(value=value, color=color) for value, color in steps])
    )


def query(expr: str, legend: str | None = None, ref: str = "A") -> prometheus.Dataquery:
    q = prometheus.Dataquery().expr(expr).ref_id(ref)
    return q.legend_format(legend) if legend else q


def graph(
    title: str,
    description: str,
    unit: str,
    *queries: tuple[str, str],
    width: int = 12,
    thresholds: Thresholds | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
) -> timeseries.Panel:
    panel = (
        timeseries.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .unit(unit)
        .height(8)
        .span(width)
        .legend(
            common.VizLegendOptions()
            .display_mode(LegendDisplayMode.TABLE)
            .placement(LegendPlacement.BOTTOM)
            .show_legend(True)
            .calcs(["lastNotNull", "max"])
        )
    )
    for index, (expr, legend) in enumerate(queries):
        panel = panel.with_target(query(expr, legend, chr(ord("A") + index)))
    if thresholds:
        panel = panel.thresholds(_thresholds(thresholds))
    if minimum is not None:
        panel = panel.min(minimum)
    if maximum is not None:
        panel = panel.max(maximum)
    return panel


def single(
    title: str, description: str, unit: str, expr: str, thresholds: Thresholds, *, width: int = 6, decimals: int = 2
) -> stat.Panel:
    return (
        stat.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .unit(unit)
        .decimals(decimals)
        .height(5)
        .span(width)
        .graph_mode(BigValueGraphMode.AREA)
        .reduce_options(common.ReduceDataOptions().calcs(["lastNotNull"]))
        .thresholds(_thresholds(thresholds))
        .with_target(query(expr))
    )


def new_dashboard(uid: str, title: str, description: str) -> dashboard.Dashboard:
    return (
        dashboard.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags([TAG])
        .editable()
        .refresh("1m")
        .time("now-6h", "now")
        .timezone("browser")
        .with_variable(dashboard.DatasourceVariable("datasource").label("Data source").type("prometheus"))
        .with_variable(
            dashboard.QueryVariable("namespace")
            .label("Environment")
            .datasource(DATASOURCE)
            .query(f"label_values({METRIC_BUILD_INFO}, namespace)")
            .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        )
        .with_variable(
            dashboard.QueryVariable("pod")
            .label("Pod")
            .datasource(DATASOURCE)
            .query(f'label_values({METRIC_BUILD_INFO}{{namespace="$namespace"}}, pod)')
            .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
            .multi(True)
            .include_all(True)
            .all_value(".*")
        )
        # Every expense-tracker dashboard links to the others, keeping the time range and variables.
        .link(
            dashboard.DashboardLink("expense-tracker")
            .type(DashboardLinkType.DASHBOARDS)
            .tags([TAG])
            .as_dropdown(True)
            .include_vars(True)
            .keep_time(True)
        )
    )


def finalise(board: dashboard.Dashboard) -> dict[str, Any]:
    """The dashboard as plain JSON data with panel ids numbered in layout order."""
    data: dict[str, Any] = json.loads(json.dumps(board.build(), cls=JSONEncoder))
    for number, panel in enumerate(data["panels"], start=1):
        panel["id"] = number
    return data


def to_json(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
