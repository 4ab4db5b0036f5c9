"""Every object is schema-valid: built-ins against Kubernetes 1.29 and the EKS version (strict), custom resources
against their CRD's openAPIV3Schema; and the validator itself catches what it should."""

from __future__ import annotations

import pytest
from manifests_py.names import VALIDATED_KUBERNETES_VERSIONS
from manifests_py.validate import problems, validate_files

from tests.manifests.conftest import Document


def test_every_rendered_object_is_valid(files: dict[str, str]) -> None:
    assert len(files) > 50
    assert validate_files(files) == []


def test_both_kubernetes_versions_are_checked() -> None:
    assert VALIDATED_KUBERNETES_VERSIONS[0] == "1.29"
    assert len(set(VALIDATED_KUBERNETES_VERSIONS)) == 2


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "x"},
                "spec": {"selector": {}, "template": {"spec": {"containers": [{"name": "a", "imagee": "x"}]}}},
            },
            "'imagee' was unexpected",
        ),
        ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"a": 1}}, "not of type"),
        (
            {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "Application",
                "metadata": {"name": "x"},
                "spec": {"projekt": "a"},
            },
            "'projekt' was unexpected",
        ),
        (
            {
                "apiVersion": "postgresql.cnpg.io/v1",
                "kind": "Cluster",
                "metadata": {"name": "x"},
                "spec": {"instances": "two"},
            },
            "not of type 'integer'",
        ),
    ],
)
def test_validator_reports_broken_objects(document: Document, expected: str) -> None:
    assert any(expected in line for line in problems(document))


def test_custom_resource_without_a_schema_is_an_error_not_a_pass() -> None:
    with pytest.raises(FileNotFoundError, match="no CRD schema"):
        problems({"apiVersion": "example.io/v1", "kind": "Widget", "metadata": {"name": "x"}})


def test_every_custom_resource_kind_is_generated(documents: list[Document]) -> None:
    custom = {(d["apiVersion"], d["kind"]) for d in documents if "." in d["apiVersion"].split("/")[0]}
    custom = {item for item in custom if not item[0].split("/")[0].endswith("k8s.io")}
    assert {kind for _, kind in custom} >= {
        "Application",
        "AppProject",
        "ClusterIssuer",
        "ServiceMonitor",
        "Cluster",
        "ScheduledBackup",
        "ExternalSecret",
        "ClusterSecretStore",
    }
