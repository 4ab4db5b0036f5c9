"""Dashboard JSON structure: ids, layout, datasources, variables, size, determinism, and the sidecar ConfigMaps."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml
from dashboards.catalog import DASHBOARDS
from dashboards.panels import to_json
from manifests_py.components.observability import CONFIGMAP_LIMIT_BYTES, DASHBOARD_LABEL, FOLDER_ANNOTATION
from manifests_py.render import render

BUILT_IN_VARIABLES = {"__rate_interval", "__range", "__interval"}
BOARDS = {spec.uid: spec.build() for spec in DASHBOARDS}


def _panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    return [panel for panel in board["panels"] if panel["type"] != "row"]


def _rectangles_overlap(a: dict[str, int], b: dict[str, int]) -> bool:
    return (
        a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]
    )


def test_the_four_dashboards_exist_with_unique_uids() -> None:
    assert set(BOARDS) == {
        "expense-tracker-api",
        "expense-tracker-business",
        "expense-tracker-database",
        "expense-tracker-slo",
    }
    for uid, board in BOARDS.items():
        assert board["uid"] == uid


@pytest.mark.parametrize("uid", sorted(BOARDS))
def test_panel_ids_are_unique_and_layout_does_not_overlap(uid: str) -> None:
    panels = BOARDS[uid]["panels"]
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids))
    assert all(isinstance(i, int) and i > 0 for i in ids)
    for index, panel in enumerate(panels):
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24
        for other in panels[index + 1 :]:
            assert not _rectangles_overlap(grid, other["gridPos"]), (panel["title"], other["title"])


@pytest.mark.parametrize("uid", sorted(BOARDS))
def test_every_panel_uses_the_datasource_variable_and_has_units(uid: str) -> None:
    for panel in _panels(BOARDS[uid]):
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        assert panel["fieldConfig"]["defaults"].get("unit"), panel["title"]
        assert panel.get("description"), panel["title"]
        assert panel["targets"], panel["title"]


@pytest.mark.parametrize("uid", sorted(BOARDS))
def test_every_variable_used_is_defined(uid: str) -> None:
    board = BOARDS[uid]
    defined = {variable["name"] for variable in board["templating"]["list"]}
    assert {"datasource", "namespace", "pod"} <= defined
    used = set(re.findall(r"\$\{?(\w+)", json.dumps(board["panels"])))
    assert used - BUILT_IN_VARIABLES <= defined
    for variable in board["templating"]["list"]:
        if "query" in variable and variable["type"] == "query":
            assert set(re.findall(r"\$(\w+)", str(variable["query"]))) <= defined


def test_dashboards_link_to_each_other() -> None:
    for board in BOARDS.values():
        assert any(link["type"] == "dashboards" and "expense-tracker" in link["tags"] for link in board["links"])
        assert "expense-tracker" in board["tags"]


def test_rendering_is_deterministic_and_configmaps_fit() -> None:
    first = {spec.uid: to_json(spec.build()) for spec in DASHBOARDS}
    second = {spec.uid: to_json(spec.build()) for spec in DASHBOARDS}
    assert first == second
    configmaps = [
        yaml.safe_load(content)
        for path, content in render().items()
        if path.startswith("observability/configmap-dashboard-")
    ]
    assert len(configmaps) == len(DASHBOARDS)
    for configmap in configmaps:
        assert configmap["metadata"]["labels"]["grafana_dashboard"] == DASHBOARD_LABEL["grafana_dashboard"]
        assert configmap["metadata"]["annotations"][FOLDER_ANNOTATION] == "expense-tracker"
        (key, value), *rest = configmap["data"].items()
        assert not rest
        assert key.endswith(".json")
        assert len(value.encode()) < CONFIGMAP_LIMIT_BYTES
        assert json.loads(value)["uid"] == key.removesuffix(".json")
        assert value == json.dumps(json.loads(value), sort_keys=True, indent=1, ensure_ascii=False) + "\n"
