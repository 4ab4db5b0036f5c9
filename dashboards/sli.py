"""Service level indicators and objectives: one definition shared by the recording rules, alerts and dashboards.

Availability: the share of requests that did not fail with a 5xx. Latency: the share of requests served within
``LATENCY_THRESHOLD_SECONDS`` (a bucket boundary of the request-duration histogram, so the SLI is exact, not estimated).
Both are recorded per namespace (= environment) over the windows the multi-window, multi-burn-rate alerts need.
"""

from __future__ import annotations

from typing import Final

from expense_tracker.constants import METRIC_HTTP_DURATION, METRIC_HTTP_REQUESTS, app_namespace

AVAILABILITY_OBJECTIVE: Final = 0.999
LATENCY_OBJECTIVE: Final = 0.99
LATENCY_THRESHOLD_SECONDS: Final = "1.0"
"""p99 under 1 s; written as the histogram's own ``le`` label value."""
SLO_PERIOD: Final = "30d"
WINDOWS: Final = ("5m", "30m", "1h", "2h", "6h", "1d", "3d", SLO_PERIOD)

APP_NAMESPACES: Final = f'namespace=~"{app_namespace(".*")}"'
"""Selector of every environment's namespace, for rules over cluster metrics."""


def requests_rate(window: str) -> str:
    return f"namespace:{METRIC_HTTP_REQUESTS.removesuffix('_total')}:rate{window}"


def error_ratio(window: str) -> str:
    return f"namespace:expense_tracker_request_errors:ratio_rate{window}"


def slow_ratio(window: str) -> str:
    return f"namespace:expense_tracker_requests_slow:ratio_rate{window}"


def recording_rules() -> list[tuple[str, str]]:
    """(record, expr) in evaluation order; later rules use earlier ones of the same window."""
    rules = []
    for window in WINDOWS:
        rules.append((requests_rate(window), f"sum by (namespace) (rate({METRIC_HTTP_REQUESTS}[{window}]))"))
        # `or … * 0` keeps the ratio at 0 (not "no data") while no 5xx series exists yet.
        errors = f'sum by (namespace) (rate({METRIC_HTTP_REQUESTS}{{status_code=~"5.."}}[{window}]))'
        rules.append((error_ratio(window), f"({errors} or {requests_rate(window)} * 0) / {requests_rate(window)}"))
        fast = f'sum by (namespace) (rate({METRIC_HTTP_DURATION}_bucket{{le="{LATENCY_THRESHOLD_SECONDS}"}}[{window}]))'
        total = f"sum by (namespace) (rate({METRIC_HTTP_DURATION}_count[{window}]))"
        rules.append((slow_ratio(window), f"1 - ({fast} / {total})"))
    return rules


def budget(objective: float) -> float:
    return round(1 - objective, 6)
