"""Database: the CloudNativePG cluster (operator metrics) and the app's connection pools."""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.builders.dashboard import Row
from grafana_foundation_sdk.models import units

from dashboards.panels import APP, NAMESPACE, finalise, graph, new_dashboard, single
from expense_tracker.constants import METRIC_DB_POOL_CAPACITY, METRIC_DB_POOL_IN_USE, METRIC_DB_POOL_OPEN

UID = "expense-tracker-database"
DAY = 86400


def build() -> dict[str, Any]:
    board = (
        new_dashboard(UID, "expense-tracker / Database", "CloudNativePG health, replication, WAL archiving, backups.")
        .with_row(Row("Health"))
        .with_panel(
            single(
                "Instances up",
                "PostgreSQL instances reporting up.",
                units.Short,
                f"sum(cnpg_collector_up{{{NAMESPACE}}})",
                [(None, "red"), (1, "green")],
                decimals=0,
            )
        )
        .with_panel(
            single(
                "Last backup age",
                "Since the last successful base backup (alert at 26 h).",
                units.Seconds,
                f"time() - max(cnpg_collector_last_available_backup_timestamp{{{NAMESPACE}}})",
                [(None, "green"), (DAY, "orange"), (26 * 3600, "red")],
                decimals=0,
            )
        )
        .with_panel(
            single(
                "Since last WAL archived",
                "Seconds since a WAL segment last reached S3.",
                units.Seconds,
                f"max(cnpg_pg_stat_archiver_seconds_since_last_archival{{{NAMESPACE}}})",
                [(None, "green"), (600, "orange"), (3600, "red")],
                decimals=0,
            )
        )
        .with_panel(
            single(
                "Volume usage",
                "Fullest database volume (alert at 80 %).",
                units.PercentUnit,
                f"max(kubelet_volume_stats_used_bytes{{{NAMESPACE}}}"
                f" / kubelet_volume_stats_capacity_bytes{{{NAMESPACE}}})",
                [(None, "green"), (0.7, "orange"), (0.8, "red")],
            )
        )
        .with_row(Row("Load"))
        .with_panel(
            graph(
                "Connections",
                "Backends per instance.",
                units.Short,
                (f"sum by (pod) (cnpg_backends_total{{{NAMESPACE}}})", "{{pod}}"),
                width=8,
            )
        )
        .with_panel(
            graph(
                "Transactions/s",
                "Commits and rollbacks, all databases.",
                units.OpsPerSecond,
                (f"sum(rate(cnpg_pg_stat_database_xact_commit{{{NAMESPACE}}}[$__rate_interval]))", "commits"),
                (f"sum(rate(cnpg_pg_stat_database_xact_rollback{{{NAMESPACE}}}[$__rate_interval]))", "rollbacks"),
                width=8,
            )
        )
        .with_panel(
            graph(
                "Replication lag",
                "Per standby (alert at 30 s).",
                units.Seconds,
                (f"max by (pod) (cnpg_pg_replication_lag{{{NAMESPACE}}})", "{{pod}}"),
                width=8,
                thresholds=[(None, "green"), (30, "red")],
            )
        )
        .with_row(Row("Archiving and the app's pools"))
        .with_panel(
            graph(
                "WAL archiving",
                "Segments archived and failed per 5 minutes.",
                units.Short,
                (f"sum(increase(cnpg_pg_stat_archiver_archived_count{{{NAMESPACE}}}[5m]))", "archived"),
                (f"sum(increase(cnpg_pg_stat_archiver_failed_count{{{NAMESPACE}}}[5m]))", "failed"),
            )
        )
        .with_panel(
            graph(
                "App connection pools",
                "Connections checked out and open across the app's workers, against their capacity.",
                units.Short,
                (f"sum({METRIC_DB_POOL_IN_USE}{{{APP}}})", "in use"),
                (f"sum({METRIC_DB_POOL_OPEN}{{{APP}}})", "open"),
                (f"sum({METRIC_DB_POOL_CAPACITY}{{{APP}}})", "capacity"),
            )
        )
    )
    return finalise(board)
