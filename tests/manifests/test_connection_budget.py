"""Every app process's connection pool fits in its database's ``max_connections``, at the worst moment.

The worst moment is the HPA at ``maxReplicas`` during a rolling update: ``maxSurge`` more pods run beside the old
ones (Kubernetes rounds a percentage surge *up*), each with ``WEB_CONCURRENCY`` workers holding up to
``DB_POOL_SIZE + DB_MAX_OVERFLOW`` connections, plus the migration Job. PostgreSQL keeps
``superuser_reserved_connections`` (default 3) for superusers, which CloudNativePG's instance manager and backups
use, so the app gets ``max_connections - 3`` at most. Beyond that, connects fail with "too many clients" (a 503 per
request) exactly when traffic is highest.

Pool settings come from the environment's ConfigMap when it sets them, else from the app's settings catalogue (the
value a pod would run with).
"""

from __future__ import annotations

import math

import pytest

from expense_tracker.settings import setting_value
from tests.manifests.conftest import Document, of_kind

SUPERUSER_RESERVED = 3
"""PostgreSQL's default ``superuser_reserved_connections`` (postgresql.org/docs/15/runtime-config-connection.html)."""
MIGRATION_PROCESSES = 1


def _surge(deployment: Document, replicas: int) -> int:
    raw = deployment["spec"].get("strategy", {}).get("rollingUpdate", {}).get("maxSurge", "25%")
    if isinstance(raw, str) and raw.endswith("%"):
        return math.ceil(replicas * int(raw[:-1]) / 100)  # Kubernetes rounds a surge percentage up
    return int(raw)


def _environments(documents: list[Document]) -> list[str]:
    return sorted({d["metadata"]["namespace"] for d in of_kind(documents, "Cluster")})


def app_connections_at_peak(documents: list[Document], namespace: str) -> tuple[int, int]:
    """(connections the app may hold at most, connections the database admits for it)."""
    (cluster,) = of_kind(documents, "Cluster", namespace)
    (deployment,) = of_kind(documents, "Deployment", namespace)
    (hpa,) = of_kind(documents, "HorizontalPodAutoscaler", namespace)
    (config,) = of_kind(documents, "ConfigMap", namespace)
    data = config.get("data", {})
    pool = setting_value("DB_POOL_SIZE", data) + setting_value("DB_MAX_OVERFLOW", data)
    workers = setting_value("WEB_CONCURRENCY", data)
    replicas = hpa["spec"]["maxReplicas"]
    pods = replicas + _surge(deployment, replicas)
    needed = pods * workers * pool + MIGRATION_PROCESSES * pool
    admitted = int(cluster["spec"]["postgresql"]["parameters"]["max_connections"]) - SUPERUSER_RESERVED
    return needed, admitted


def test_every_environment_has_a_database(documents: list[Document]) -> None:
    assert _environments(documents) == ["expense-tracker-production", "expense-tracker-staging"]


@pytest.mark.parametrize("namespace", ["expense-tracker-production", "expense-tracker-staging"])
def test_the_pools_fit_in_max_connections_at_the_hpa_maximum_during_a_rollout(
    documents: list[Document], namespace: str
) -> None:
    needed, admitted = app_connections_at_peak(documents, namespace)
    assert needed <= admitted, f"{namespace}: pools may need {needed} connections, the database admits {admitted}"


def test_the_arithmetic_on_a_literal_case(documents: list[Document]) -> None:
    """Production today: 6 replicas + ceil(25 % of 6) = 2 surge = 8 pods x 2 workers x (10 + 0), plus the migration's
    10: 170 of 200 - 3."""
    assert app_connections_at_peak(documents, "expense-tracker-production") == (170, 197)
