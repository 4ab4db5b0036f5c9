"""The generated PrometheusRule, dashboards, and Debian's Prometheus binaries (skip, or fail under CI, when absent)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hikaru import get_clean_dict
from manifests_py.components.observability import prometheus_rule

REQUIRE_PROMETHEUS = os.environ.get("REQUIRE_PROMETHEUS") == "1"


def binary(name: str) -> str:
    path = shutil.which(name)
    if path:
        return path
    reason = f"{name} is not installed (apt-get install prometheus)"
    if REQUIRE_PROMETHEUS:
        pytest.fail(f"REQUIRE_PROMETHEUS=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def rule_spec() -> dict[str, Any]:
    """The PrometheusRule's spec: exactly a Prometheus rules file."""
    spec: dict[str, Any] = get_clean_dict(prometheus_rule())["spec"]
    return spec


@pytest.fixture
def rules_file(rule_spec: dict[str, Any], tmp_path: Path) -> Path:
    path = tmp_path / "rules.yml"
    path.write_text(yaml.safe_dump(rule_spec, sort_keys=False))
    return path
