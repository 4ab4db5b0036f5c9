"""Every dashboard: uid, the Grafana folder it is filed in, and its builder."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dashboards import api, business, database, slo

FOLDER = "expense-tracker"


@dataclass(frozen=True)
class DashboardSpec:
    uid: str
    build: Callable[[], dict[str, Any]]
    folder: str = FOLDER


DASHBOARDS = (
    DashboardSpec(api.UID, api.build),
    DashboardSpec(business.UID, business.build),
    DashboardSpec(database.UID, database.build),
    DashboardSpec(slo.UID, slo.build),
)
