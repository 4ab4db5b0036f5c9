"""Refresh the CRD JSON schemas in ``tests/data/crd-schemas`` from the CRD YAML a pinned chart installs.

``python -m manifests_py crd-schemas FILE...`` reads CustomResourceDefinitions (plain, or a chart's Helm template whose
``{{ }}`` lines are dropped) and rewrites every schema this directory already holds for a group/kind/version they
define: the version's ``openAPIV3Schema`` with ``additionalProperties: false`` on every object that lists its
``properties`` (except the root and objects marked ``x-kubernetes-preserve-unknown-fields``), so a misspelled field
fails. That is the shape of the datreeio/CRDs-catalog files this directory started from. Schemas keep the CRDs' Go
regular expressions, so they are used without ``check_schema``. SOURCES.toml records which chart version each came
from; update it in the same change.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import yaml

from manifests_py.validate import CRD_SCHEMAS

# A line that is only Helm template actions (`{{- if .Values.crds.create }}`), or only a comment around one.
_TEMPLATE_LINE = re.compile(r"^\s*(#.*)?\{\{.*\}\}\s*$")


def crds_in(text: str) -> list[dict[str, Any]]:
    """The CustomResourceDefinitions in a YAML stream (a chart's CRD template or a plain bundle)."""
    plain = "\n".join(line for line in text.splitlines() if not _TEMPLATE_LINE.match(line))
    return [d for d in yaml.safe_load_all(plain) if isinstance(d, dict) and d.get("kind") == "CustomResourceDefinition"]


def _close(node: Any, *, root: bool) -> Any:
    if isinstance(node, dict):
        out = {key: _close(value, root=False) for key, value in node.items()}
        closable = isinstance(node.get("properties"), dict) and not node.get("x-kubernetes-preserve-unknown-fields")
        if closable and not root and "additionalProperties" not in node:
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [_close(item, root=False) for item in node]
    return node


def json_schema(open_api_v3_schema: dict[str, Any]) -> dict[str, Any]:
    """One CRD version's openAPIV3Schema as the JSON schema ``manifests_py.validate`` loads."""
    return dict(_close(copy.deepcopy(open_api_v3_schema), root=True))


def refresh(files: list[Path], directory: Path = CRD_SCHEMAS) -> list[Path]:
    """Rewrite the schemas ``directory`` holds for the CRDs in ``files``; returns the files written."""
    written = []
    for path in files:
        for crd in crds_in(path.read_text()):
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                target = directory / group / f"{kind.lower()}_{version['name']}.json"
                if not target.exists():
                    continue  # only the kinds the generator emits are kept
                schema = json_schema(version["schema"]["openAPIV3Schema"])
                target.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
                written.append(target)
    return written
