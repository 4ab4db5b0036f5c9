"""The CRD schemas the manifests are validated against belong to the chart versions the manifests install."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from manifests_py import crd_schemas

from tests.manifests.conftest import Document, of_kind

SCHEMAS = Path(__file__).resolve().parents[1] / "data" / "crd-schemas"

# Which chart installs the CRDs of each API group we use (the charts' own templates/crds, read upstream).
CRD_OWNERS = {
    "argoproj.io": "argo-cd",
    "cert-manager.io": "cert-manager",
    "external-secrets.io": "external-secrets",
    "monitoring.coreos.com": "kube-prometheus-stack",
    "postgresql.cnpg.io": "cloudnative-pg",
}


def _sources() -> list[dict[str, Any]]:
    return list(tomllib.loads((SCHEMAS / "SOURCES.toml").read_text())["source"])


def _pinned_charts(documents: list[Document]) -> dict[str, str]:
    """Helm chart name -> version, as the rendered Argo CD Applications install them."""
    pinned = {}
    for application in of_kind(documents, "Application", "argocd"):
        source = application["spec"]["source"]
        if "chart" in source:
            pinned[source["chart"]] = source["targetRevision"]
    return pinned


def test_every_schema_comes_from_the_chart_version_the_manifests_install(documents: list[Document]) -> None:
    pinned = _pinned_charts(documents)
    for source in _sources():
        # A bump in manifests_py/components/platform.py must come with refreshed schemas and this record.
        assert pinned[source["chart"]] == source["version"], (
            f"{source['chart']} is pinned at {pinned[source['chart']]} but tests/data/crd-schemas holds its CRDs at "
            f"{source['version']}: refresh them (tests/data/crd-schemas/README.md)"
        )
        for schema in source["schemas"]:
            assert CRD_OWNERS[schema.split("/")[0]] == source["chart"], schema
        assert len(source["commit"]) == 40, source["chart"]
        assert source["files"], source["chart"]


def test_every_schema_file_has_exactly_one_recorded_source() -> None:
    on_disk = sorted(str(path.relative_to(SCHEMAS)) for path in SCHEMAS.glob("*/*.json"))
    recorded = sorted(schema for source in _sources() for schema in source["schemas"])
    assert recorded == on_disk


def test_every_custom_resource_kind_the_manifests_use_has_a_recorded_schema(documents: list[Document]) -> None:
    recorded = {schema for source in _sources() for schema in source["schemas"]}
    for document in documents:
        group, _, version = document["apiVersion"].rpartition("/")
        if "." in group and not group.endswith(".k8s.io"):
            assert f"{group}/{document['kind'].lower()}_{version}.json" in recorded, document["apiVersion"]


# A chart's CRD template, shaped like cloudnative-pg's templates/crds/crds.yaml (Helm actions on their own lines).
CRD_TEMPLATE = """\
{{- if .Values.crds.create }}
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  annotations:
    {{- if .Values.crds.keep }}
    helm.sh/resource-policy: keep
    {{- end }}
  name: widgets.example.io
spec:
  group: example.io
  names:
    kind: Widget
  versions:
  - name: v1
    schema:
      openAPIV3Schema:
        type: object
        properties:
          apiVersion: {type: string}
          kind: {type: string}
          metadata: {type: object}
          spec:
            type: object
            required: [size]
            properties:
              size: {type: integer}
              selector:
                type: object
                properties:
                  name: {type: string, pattern: '^[a-z]+(?:-[a-z]+)*$'}
              extra:
                type: object
                x-kubernetes-preserve-unknown-fields: true
                properties:
                  known: {type: string}
              labels:
                type: object
                additionalProperties: {type: string}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: not-a-crd}
{{- end }}
"""

EXPECTED_SCHEMA = {
    "type": "object",
    "properties": {
        "apiVersion": {"type": "string"},
        "kind": {"type": "string"},
        "metadata": {"type": "object"},
        "spec": {
            "type": "object",
            "required": ["size"],
            "additionalProperties": False,
            "properties": {
                "size": {"type": "integer"},
                "selector": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"name": {"type": "string", "pattern": "^[a-z]+(?:-[a-z]+)*$"}},
                },
                "extra": {
                    "type": "object",
                    "x-kubernetes-preserve-unknown-fields": True,
                    "properties": {"known": {"type": "string"}},
                },
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        },
    },
}


@pytest.fixture
def refreshed(tmp_path: Path) -> dict[str, Any]:
    crd_file = tmp_path / "crds.yaml"
    crd_file.write_text(CRD_TEMPLATE)
    directory = tmp_path / "schemas"
    (directory / "example.io").mkdir(parents=True)
    (directory / "example.io" / "widget_v1.json").write_text("{}")
    written = crd_schemas.refresh([crd_file], directory)
    assert written == [directory / "example.io" / "widget_v1.json"]
    schema: dict[str, Any] = json.loads(written[0].read_text())
    return schema


def test_refresh_closes_every_listed_object_but_the_root_and_the_open_ones(refreshed: dict[str, Any]) -> None:
    assert refreshed == EXPECTED_SCHEMA


def test_a_refreshed_schema_rejects_a_misspelled_field_and_accepts_free_form_parts(
    refreshed: dict[str, Any],
) -> None:
    validator = jsonschema.validators.validator_for(refreshed)(refreshed)  # as manifests_py.validate loads them
    good = {"apiVersion": "example.io/v1", "kind": "Widget", "metadata": {"name": "w"}}
    good["spec"] = {"size": 1, "selector": {"name": "a-b"}, "extra": {"anything": 1}, "labels": {"x": "y"}}
    assert list(validator.iter_errors(good)) == []
    typo = {**good, "spec": {"size": 1, "selecter": {"name": "a"}}}
    assert [error.message for error in validator.iter_errors(typo)] == [
        "Additional properties are not allowed ('selecter' was unexpected)"
    ]


def test_refresh_leaves_kinds_the_generator_does_not_emit_alone(tmp_path: Path) -> None:
    crd_file = tmp_path / "crds.yaml"
    crd_file.write_text(CRD_TEMPLATE)
    assert crd_schemas.refresh([crd_file], tmp_path / "empty") == []
