"""Business: what people do with the app."""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.builders.dashboard import Row
from grafana_foundation_sdk.models import units

from dashboards import jobs
from dashboards.panels import APP, NAMESPACE, finalise, graph, new_dashboard, single
from expense_tracker.constants import (
    JOB_LAST_RUN_FAILED_METRIC,
    JOB_LAST_SUCCESS_METRIC,
    METRIC_ACTIVE_USERS,
    METRIC_EXPENSES_CREATED,
    METRIC_IMPORTS,
    METRIC_SIGN_IN_FAILURES,
    METRIC_SIGN_INS,
)

UID = "expense-tracker-business"


def _total(metric: str, extra: str = "") -> str:
    return f"sum(increase({metric}{{{APP}{extra}}}[$__range]))"


def build() -> dict[str, Any]:
    board = (
        new_dashboard(
            UID,
            "expense-tracker / Business",
            "Sign-ins, expenses, imports, active users and the recurring-expenses job.",
        )
        .with_row(Row("In the selected range"))
        .with_panel(
            single(
                "Active users (24 h)",
                "Users with a signed-in request in the last 24 hours.",
                units.Short,
                f"max({METRIC_ACTIVE_USERS}{{{NAMESPACE}}})",
                [(None, "blue")],
                decimals=0,
            )
        )
        .with_panel(
            single("Sign-ins", "All providers.", units.Short, _total(METRIC_SIGN_INS), [(None, "blue")], decimals=0)
        )
        .with_panel(
            single(
                "Expenses created",
                "API, UI and imports.",
                units.Short,
                _total(METRIC_EXPENSES_CREATED),
                [(None, "blue")],
                decimals=0,
            )
        )
        .with_panel(
            single(
                "Rejected imports",
                "CSV files refused with per-row errors.",
                units.Short,
                _total(METRIC_IMPORTS, ', outcome="rejected"'),
                [(None, "green"), (10, "orange")],
                decimals=0,
            )
        )
        .with_row(Row("Recurring expenses job"))
        .with_panel(
            single(
                "Since the last successful recurring run",
                "The CronJob runs every 15 minutes; the alert fires after an hour without a success.",
                units.Seconds,
                f"time() - max({jobs.recurring(JOB_LAST_SUCCESS_METRIC, NAMESPACE)})",
                [(None, "green"), (1800, "orange"), (3600, "red")],
                decimals=0,
            )
        )
        .with_panel(
            single(
                "Last recurring run failed",
                "1 while the last run failed (runs are idempotent: the next successful one catches up).",
                units.Short,
                f"max({jobs.recurring(JOB_LAST_RUN_FAILED_METRIC, NAMESPACE)})",
                [(None, "green"), (1, "red")],
                decimals=0,
            )
        )
        .with_row(Row("Over time"))
        .with_panel(
            graph(
                "Sign-ins by provider",
                "Successful sign-ins per hour, and refusals by reason.",
                units.Short,
                (f"sum by (provider) (increase({METRIC_SIGN_INS}{{{APP}}}[1h]))", "{{provider}}"),
                (
                    f"sum by (provider, reason) (increase({METRIC_SIGN_IN_FAILURES}{{{APP}}}[1h]))",
                    "refused {{provider}} {{reason}}",
                ),
            )
        )
        .with_panel(
            graph(
                "Expenses created by source",
                "Per hour.",
                units.Short,
                (f"sum by (source) (increase({METRIC_EXPENSES_CREATED}{{{APP}}}[1h]))", "{{source}}"),
            )
        )
        .with_panel(
            graph(
                "Imports by outcome",
                "CSV imports per hour.",
                units.Short,
                (f"sum by (outcome) (increase({METRIC_IMPORTS}{{{APP}}}[1h]))", "{{outcome}}"),
            )
        )
        .with_panel(
            graph(
                "Active users (24 h)",
                "Users with a signed-in request in the last 24 hours.",
                units.Short,
                (f"max({METRIC_ACTIVE_USERS}{{{NAMESPACE}}})", "active users"),
            )
        )
    )
    return finalise(board)
