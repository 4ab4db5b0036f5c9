"""Dashboards speak Grafana's unit vocabulary and the app's shared names, never the manifests generator's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from dashboards.catalog import DASHBOARDS
from grafana_foundation_sdk.models import units

# Grafana unit ids as Grafana's own catalogue spells them (packages/grafana-data/src/valueFormats/categories.ts):
# what a few panels must show, written out here rather than taken from the code that builds them.
EXPECTED_UNITS = {
    ("expense-tracker-api", "Requests/s"): "reqps",
    ("expense-tracker-api", "5xx ratio"): "percentunit",
    ("expense-tracker-api", "p99 latency"): "s",
    ("expense-tracker-api", "Memory per pod"): "bytes",
    ("expense-tracker-business", "Sign-ins"): "short",
    ("expense-tracker-business", "Since the last successful recurring run"): "s",
    ("expense-tracker-database", "Last backup age"): "s",
    ("expense-tracker-database", "Volume usage"): "percentunit",
    ("expense-tracker-database", "Transactions/s"): "ops",
    ("expense-tracker-slo", "Availability SLI (30d)"): "percentunit",
    ("expense-tracker-slo", "Burn rate"): "short",
}
GRAFANA_UNITS = {value for name, value in vars(units).items() if not name.startswith("_") and isinstance(value, str)}


PANELS = [
    ((spec.uid, panel["title"]), panel)
    for spec in DASHBOARDS
    for panel in spec.build()["panels"]
    if panel["type"] != "row"
]


def _unit(panel: dict[str, Any]) -> str:
    return str(panel["fieldConfig"]["defaults"]["unit"])


def test_every_panel_unit_is_one_grafana_knows() -> None:
    assert {"s", "short", "percentunit"} <= GRAFANA_UNITS  # the SDK's catalogue is the one read here
    for key, panel in PANELS:
        assert _unit(panel) in GRAFANA_UNITS, key


def test_panels_show_their_quantities_in_the_right_unit() -> None:
    shown = {key: _unit(panel) for key, panel in PANELS if key in EXPECTED_UNITS}
    assert shown == EXPECTED_UNITS


def test_dashboards_build_without_the_manifests_generator(repo_root: Path) -> None:
    # manifests_py made unimportable: the dashboards and SLI rules need only the SDK and expense_tracker.constants.
    code = (
        "import sys; sys.modules['manifests_py'] = None\n"
        "from dashboards import catalog, sli\n"
        "assert all(spec.build() for spec in catalog.DASHBOARDS) and sli.recording_rules()\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(repo_root), str(repo_root / "src")])}
    subprocess.run([sys.executable, "-c", code], cwd=repo_root, env=env, check=True, timeout=120)
