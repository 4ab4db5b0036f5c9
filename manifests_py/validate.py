"""Schema validation of rendered objects: built-in kinds with kubernetes-validate (strict), custom resources against
their CRD's openAPIV3Schema kept as data in ``tests/data/crd-schemas``."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

from manifests_py.names import VALIDATED_KUBERNETES_VERSIONS

CRD_SCHEMAS = Path(__file__).resolve().parent.parent / "tests" / "data" / "crd-schemas"


@functools.cache
def _crd_validator(api_version: str, kind: str) -> jsonschema.protocols.Validator | None:
    if "/" not in api_version or "." not in api_version.split("/", maxsplit=1)[0]:
        return None  # a built-in group (core, apps, batch) or a k8s.io group: kubernetes-validate's job
    group, version = api_version.split("/")
    path = CRD_SCHEMAS / group / f"{kind.lower()}_{version}.json"
    if not path.exists():
        if group.endswith(".k8s.io"):
            return None
        raise FileNotFoundError(f"no CRD schema for {api_version} {kind} (expected {path})")
    schema = json.loads(path.read_text())
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def problems(document: dict[str, Any]) -> list[str]:
    """Every schema violation of one object, as readable lines; empty when it is valid."""
    api_version, kind = document.get("apiVersion", ""), document.get("kind", "")
    validator = _crd_validator(api_version, kind)
    if validator is not None:
        return [
            f"{'.'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}"
            for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
        ]
    found = []
    for version in VALIDATED_KUBERNETES_VERSIONS:
        try:
            kubernetes_validate.validate(document, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            where = ".".join(str(p) for p in error.path) or "(root)"
            found.append(f"Kubernetes {version}: {where}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError:
            found.append(f"Kubernetes {version} has no {api_version} {kind}")
    return found


def validate_files(files: dict[str, str]) -> list[str]:
    """``path: problem`` for every rendered file that is not valid."""
    report = []
    for path, content in files.items():
        report += [f"{path}: {problem}" for problem in problems(yaml.safe_load(content))]
    return report
