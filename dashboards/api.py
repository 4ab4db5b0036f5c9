"""API (RED): rate, errors and duration per route, saturation of the pods."""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.builders.dashboard import Row
from grafana_foundation_sdk.models import units

from dashboards.panels import APP, NAMESPACE, finalise, graph, new_dashboard, single
from expense_tracker.constants import APP_NAME, METRIC_HTTP_DURATION, METRIC_HTTP_IN_PROGRESS, METRIC_HTTP_REQUESTS

UID = "expense-tracker-api"
REQUESTS = f"{METRIC_HTTP_REQUESTS}{{{APP}}}"
ERRORS = f'{METRIC_HTTP_REQUESTS}{{{APP}, status_code=~"5.."}}'
CLIENT_ERRORS = f'{METRIC_HTTP_REQUESTS}{{{APP}, status_code=~"4.."}}'
DURATION_BUCKETS = f"{METRIC_HTTP_DURATION}_bucket{{{APP}}}"
CONTAINER = f'{NAMESPACE}, container="{APP_NAME}", pod=~"$pod"'


def _ratio(selector: str, by: str = "") -> str:
    grouping = f" by ({by})" if by else ""
    part = f"sum{grouping} (rate({selector}[$__rate_interval]))"
    total = f"sum{grouping} (rate({REQUESTS}[$__rate_interval]))"
    # `or total * 0`: a ratio with no error series yet reads 0, not "No data".
    return f"({part} or {total} * 0) / {total}"


def _quantile(q: float) -> tuple[str, str]:
    buckets = f"sum by (le, method, path) (rate({DURATION_BUCKETS}[$__rate_interval]))"
    return f"histogram_quantile({q}, {buckets})", f"p{int(q * 100)} {{{{method}}}} {{{{path}}}}"


def build() -> dict[str, Any]:
    board = (
        new_dashboard(UID, "expense-tracker / API", "Request rate, errors and latency per route; pod saturation.")
        .with_row(Row("Overview"))
        .with_panel(
            single(
                "Requests/s",
                "All routes.",
                units.RequestsPerSecond,
                f"sum(rate({REQUESTS}[$__rate_interval]))",
                [(None, "blue")],
            )
        )
        .with_panel(
            single(
                "5xx ratio",
                "Share of requests answered with a server error.",
                units.PercentUnit,
                _ratio(ERRORS),
                [(None, "green"), (0.001, "orange"), (0.01, "red")],
                decimals=3,
            )
        )
        .with_panel(
            single(
                "p99 latency",
                "All routes.",
                units.Seconds,
                f"histogram_quantile(0.99, sum by (le) (rate({DURATION_BUCKETS}[$__rate_interval])))",
                [(None, "green"), (0.5, "orange"), (1, "red")],
            )
        )
        .with_panel(
            single(
                "In flight",
                "Requests being served right now.",
                units.Short,
                f"sum({METRIC_HTTP_IN_PROGRESS}{{{APP}}})",
                [(None, "green"), (50, "orange")],
                decimals=0,
            )
        )
        .with_row(Row("Rate and errors per route"))
        .with_panel(
            graph(
                "Requests/s by route",
                "Route templates, not raw paths.",
                units.RequestsPerSecond,
                (f"sum by (method, path) (rate({REQUESTS}[$__rate_interval]))", "{{method}} {{path}}"),
            )
        )
        .with_panel(
            graph(
                "Error ratio by route",
                "5xx and 4xx shares per route.",
                units.PercentUnit,
                (_ratio(ERRORS, "method, path"), "5xx {{method}} {{path}}"),
                (_ratio(CLIENT_ERRORS, "method, path"), "4xx {{method}} {{path}}"),
                minimum=0,
            )
        )
        .with_row(Row("Latency"))
        .with_panel(
            graph(
                "Latency by route",
                "p50, p95 and p99 from the request-duration histogram.",
                units.Seconds,
                _quantile(0.5),
                _quantile(0.95),
                _quantile(0.99),
                width=24,
                thresholds=[(None, "green"), (1, "red")],
            )
        )
        .with_row(Row("Pods"))
        .with_panel(
            graph(
                "CPU per pod",
                "Usage against the container's request and limit.",
                units.Short,
                (f"sum by (pod) (rate(container_cpu_usage_seconds_total{{{CONTAINER}}}[$__rate_interval]))", "{{pod}}"),
                (f'max(kube_pod_container_resource_requests{{{CONTAINER}, resource="cpu"}})', "request"),
                (f'max(kube_pod_container_resource_limits{{{CONTAINER}, resource="cpu"}})', "limit"),
                width=8,
            )
        )
        .with_panel(
            graph(
                "Memory per pod",
                "Working set against the container's request and limit.",
                units.BytesIEC,
                (f"sum by (pod) (container_memory_working_set_bytes{{{CONTAINER}}})", "{{pod}}"),
                (f'max(kube_pod_container_resource_requests{{{CONTAINER}, resource="memory"}})', "request"),
                (f'max(kube_pod_container_resource_limits{{{CONTAINER}, resource="memory"}})', "limit"),
                width=8,
            )
        )
        .with_panel(
            graph(
                "Replicas and restarts",
                "HPA current/desired/max replicas, and container restarts in the last hour.",
                units.Short,
                (f"max(kube_horizontalpodautoscaler_status_current_replicas{{{NAMESPACE}}})", "current"),
                (f"max(kube_horizontalpodautoscaler_status_desired_replicas{{{NAMESPACE}}})", "desired"),
                (f"max(kube_horizontalpodautoscaler_spec_max_replicas{{{NAMESPACE}}})", "max"),
                (f"sum(increase(kube_pod_container_status_restarts_total{{{CONTAINER}}}[1h]))", "restarts (1h)"),
                width=8,
            )
        )
    )
    return finalise(board)
