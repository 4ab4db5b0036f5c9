"""Issue #11: generated-manifest defects that would hurt on day one, each tested against the rendered documents."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from manifests_py import cluster
from manifests_py.environments import ENVIRONMENTS_DIR, InvalidEnvironmentError
from manifests_py.render import render

from tests.manifests.conftest import Document, of_kind


@pytest.fixture
def environments(tmp_path: Path) -> Path:
    copy = tmp_path / "environments"
    shutil.copytree(ENVIRONMENTS_DIR, copy)
    return copy


def test_single_instance_database_has_no_pdb_so_nodes_can_drain(documents: list[Document]) -> None:
    # CNPG's primary PDB (minAvailable 1) on a one-instance cluster makes every node drain wait forever.
    clusters = {d["metadata"]["namespace"]: d["spec"] for d in of_kind(documents, "Cluster")}
    assert clusters["expense-tracker-staging"]["instances"] == 1
    assert clusters["expense-tracker-staging"].get("enablePDB") is False
    # With a standby the PDB protects the primary during drains (CNPG's default true), so it stays.
    assert clusters["expense-tracker-production"]["instances"] == 2
    assert clusters["expense-tracker-production"].get("enablePDB", True) is True


def test_no_ingress_path_is_shadowed_by_a_prefix_with_the_same_backend(documents: list[Document]) -> None:
    for ingress in of_kind(documents, "Ingress"):
        for rule in ingress["spec"]["rules"]:
            paths = rule["http"]["paths"]
            for path in paths:
                for other in paths:
                    covers = other is not path and other["pathType"] == "Prefix"
                    covers = covers and (other["path"] == "/" or path["path"].startswith(other["path"] + "/"))
                    assert not (covers and other["backend"] == path["backend"]), (
                        f"{ingress['metadata']['namespace']}: {path['path']} duplicates {other['path']}"
                    )


def test_hpas_scale_the_python_workers_on_cpu_only(documents: list[Document]) -> None:
    # A Python worker's memory does not fall when load does (the allocator keeps its arenas): a memory target
    # scales out and never back in.
    hpas = of_kind(documents, "HorizontalPodAutoscaler")
    assert len(hpas) == 2
    for hpa in hpas:
        assert [metric["resource"]["name"] for metric in hpa["spec"]["metrics"]] == ["cpu"]


def test_resource_metric_hpas_have_a_metrics_server_synced_before_the_apps(documents: list[Document]) -> None:
    # Without the resource metrics API an HPA reports FailedGetResourceMetric and Argo CD marks it Degraded.
    applications = {d["metadata"]["name"]: d for d in of_kind(documents, "Application", "argocd")}
    server = applications["metrics-server"]
    assert server["spec"]["source"]["chart"] == "metrics-server"
    assert server["spec"]["source"]["targetRevision"] == "3.12.2"
    assert server["spec"]["destination"]["namespace"] == "kube-system"

    def wave(name: str) -> int:
        return int(applications[name]["metadata"].get("annotations", {}).get("argocd.argoproj.io/sync-wave", "0"))

    for environment in ("staging", "production"):
        assert wave("metrics-server") < wave(f"expense-tracker-{environment}")


# The order the root app-of-apps must create its Applications in, written out: CRD owners, then cluster-wide
# configuration and cluster services, then dashboards and rules, then the environments.
WAVES = [
    {"argo-cd", "cert-manager", "cloudnative-pg", "external-secrets", "kube-prometheus-stack"},
    {"cluster-config", "cluster-autoscaler", "external-dns", "ingress-nginx", "metrics-server"},
    {"observability"},
    {"expense-tracker-production", "expense-tracker-staging"},
]


def test_applications_sync_in_waves_crd_owners_config_observability_apps(documents: list[Document]) -> None:
    by_wave: dict[int, set[str]] = {}
    for application in of_kind(documents, "Application", "argocd"):
        if application["metadata"]["name"] == "root":
            continue
        annotations = application["metadata"].get("annotations") or {}
        wave = int(annotations.get("argocd.argoproj.io/sync-wave", "0"))
        by_wave.setdefault(wave, set()).add(application["metadata"]["name"])
    assert [by_wave[wave] for wave in sorted(by_wave)] == WAVES


def test_every_custom_resource_comes_in_a_later_wave_than_the_chart_that_owns_its_crd(
    documents: list[Document],
) -> None:
    owners = {
        "cert-manager.io": "cert-manager",
        "external-secrets.io": "external-secrets",
        "postgresql.cnpg.io": "cloudnative-pg",
        "monitoring.coreos.com": "kube-prometheus-stack",
    }
    applications = {d["metadata"]["name"]: d for d in of_kind(documents, "Application", "argocd")}

    def wave(name: str) -> int:
        annotations = applications[name]["metadata"].get("annotations") or {}
        return int(annotations.get("argocd.argoproj.io/sync-wave", "0"))

    checked = 0
    for document in documents:
        group = document["apiVersion"].split("/")[0]
        if group not in owners or document["metadata"].get("namespace") == "argocd":
            continue
        namespace = document["metadata"].get("namespace", "")
        # Which Application deploys it: the environment's own, the dashboards-and-rules one, or cluster-config.
        if namespace.startswith("expense-tracker-"):
            deployed_by = namespace
        elif document["kind"] == "PrometheusRule":
            deployed_by = "observability"
        else:
            deployed_by = "cluster-config"
        assert wave(owners[group]) < wave(deployed_by), f"{document['kind']} {namespace}/{document['metadata']['name']}"
        checked += 1
    assert checked > 10


def test_grafana_keeps_no_read_write_once_volume_under_a_rolling_update(documents: list[Document]) -> None:
    # A RollingUpdate starts the new pod before the old one stops; with an RWO volume the new pod waits for the volume
    # (or lands in another zone) and the rollout hangs. Dashboards and data sources are provisioned, so Grafana keeps
    # no state worth a volume.
    stack = next(
        d for d in of_kind(documents, "Application", "argocd") if d["metadata"]["name"] == "kube-prometheus-stack"
    )
    grafana = stack["spec"]["source"]["helm"]["valuesObject"]["grafana"]
    persistent = grafana.get("persistence", {}).get("enabled", False)
    assert not persistent or grafana.get("deploymentStrategy", {}).get("type") == "Recreate"


ALLOW_LIST = "nginx.ingress.kubernetes.io/whitelist-source-range"


def _ops_ingress_annotations(documents: list[Document]) -> dict[str, dict[str, str]]:
    applications = {d["metadata"]["name"]: d for d in of_kind(documents, "Application", "argocd")}
    argo_cd = applications["argo-cd"]["spec"]["source"]["helm"]["valuesObject"]["server"]["ingress"]
    stack = applications["kube-prometheus-stack"]["spec"]["source"]["helm"]["valuesObject"]["grafana"]["ingress"]
    return {"argo-cd": argo_cd["annotations"], "grafana": stack["annotations"]}


def test_ops_host_answers_only_the_allowed_source_ranges(documents: list[Document]) -> None:
    # Argo CD and Grafana share ops.<zone>; Grafana's only sign-in is a local admin. The NLB keeps client addresses
    # (externalTrafficPolicy Local), so ingress-nginx can refuse everyone outside the operators' networks.
    for name, ingress_annotations in _ops_ingress_annotations(documents).items():
        assert ingress_annotations[ALLOW_LIST] == "203.0.113.0/24", name


def test_ops_allow_list_comes_from_the_ops_settings(environments: Path) -> None:
    (environments / "ops.toml").write_text('allowed_source_ranges = ["198.51.100.7/32", "2001:db8::/48"]\n')
    rendered = [yaml.safe_load(content) for content in render(environments).values()]
    for name, ingress_annotations in _ops_ingress_annotations(rendered).items():
        assert ingress_annotations[ALLOW_LIST] == "198.51.100.7/32,2001:db8::/48", name


@pytest.mark.parametrize(
    ("ranges", "message"),
    [
        ("[]", "at least one"),
        ('["0.0.0.0/0"]', "everyone"),
        ('["::/0"]', "everyone"),
        ('["10.0.0.300/32"]', "not a network"),
        ('["10.0.0.1/8"]', "not a network"),
    ],
)
def test_a_bad_or_open_ops_allow_list_is_refused(environments: Path, ranges: str, message: str) -> None:
    (environments / "ops.toml").write_text(f"allowed_source_ranges = {ranges}\n")
    with pytest.raises(InvalidEnvironmentError, match=message):
        render(environments)


def test_volumes_of_replaced_claims_are_deleted_not_leaked(documents: list[Document]) -> None:
    # CNPG replaces an instance's claim when it rebuilds the instance; with Retain the old EBS volume stays, billed and
    # unused, forever. The database's safety net is the S3 backup, not an orphaned volume.
    (storage_class,) = of_kind(documents, "StorageClass")
    assert storage_class["reclaimPolicy"] == "Delete"
    # reclaimPolicy is immutable: an existing cluster's class is replaced rather than patched (existing volumes keep
    # the policy they were created with).
    assert "Replace=true" in storage_class["metadata"]["annotations"]["argocd.argoproj.io/sync-options"]


def _outputs(environments: Path) -> dict[str, dict[str, object]]:
    current = json.loads((environments / "infrastructure.json").read_text())
    return {key: {"value": value, "type": "string", "sensitive": False} for key, value in current.items()}


def test_infra_sync_re_renders_the_manifests(environments: Path, tmp_path: Path) -> None:
    # Terraform outputs are useless to Argo CD until they are in manifests/: sync writes both, so `check` then shows
    # exactly the diff to commit.
    out = tmp_path / "manifests"
    outputs = _outputs(environments)
    outputs["backup_bucket"]["value"] = "new-backup-bucket"
    cluster.infra_sync(json.dumps(outputs), environments, out=out)
    database = yaml.safe_load((out / "apps/staging/cluster-expense-tracker-db.yaml").read_text())
    path = database["spec"]["backup"]["barmanObjectStore"]["destinationPath"]
    assert path == "s3://new-backup-bucket/staging"


def test_infra_sync_with_outputs_the_manifests_refuse_changes_nothing(environments: Path, tmp_path: Path) -> None:
    out = tmp_path / "manifests"
    before = (environments / "infrastructure.json").read_text()
    outputs = _outputs(environments)
    outputs["cert_manager_role_arn"]["value"] = "not-an-arn"
    with pytest.raises(InvalidEnvironmentError, match="not-an-arn"):
        cluster.infra_sync(json.dumps(outputs), environments, out=out)
    assert (environments / "infrastructure.json").read_text() == before
    assert not out.exists()


# Every platform workload and where its chart takes its resources (read from each pinned chart's values.yaml). The
# cluster autoscaler sees only requested demand: a pod without requests is packed onto a full node.
PLATFORM_WORKLOADS = {
    "argo-cd": [
        "controller",
        "server",
        "repoServer",
        "applicationSet",
        "redis",
        "dex",
        "notifications",
    ],
    "cert-manager": ["", "webhook", "cainjector"],
    "kube-prometheus-stack": [
        "prometheus.prometheusSpec",
        "alertmanager.alertmanagerSpec",
        "grafana",
        "prometheusOperator",
        "kube-state-metrics",
        "prometheus-node-exporter",
    ],
    "cluster-autoscaler": [""],
    "external-secrets": ["", "webhook", "certController"],
    "cloudnative-pg": [""],
    "external-dns": [""],
    "ingress-nginx": ["controller"],
    "metrics-server": [""],
}


def test_every_platform_workload_requests_cpu_and_memory_and_caps_memory(documents: list[Document]) -> None:
    applications = {d["metadata"]["name"]: d for d in of_kind(documents, "Application", "argocd")}
    for chart, paths in PLATFORM_WORKLOADS.items():
        values = applications[chart]["spec"]["source"]["helm"]["valuesObject"]
        for path in paths:
            node = values
            for key in filter(None, path.split(".")):
                node = node[key]
            resources = node.get("resources", {})
            where = f"{chart}: {path or '(top level)'}.resources"
            assert set(resources.get("requests", {})) == {"cpu", "memory"}, where
            # A memory limit stops one leaking component from taking a node's system pods down with it; no CPU limit
            # (throttling a controller under load only makes it slower to catch up).
            assert "memory" in resources.get("limits", {}), where
            assert "cpu" not in resources.get("limits", {}), where


def test_cluster_up_installs_argo_cd_with_the_values_its_own_application_carries(tmp_path: Path) -> None:
    # Installed bare, Argo CD's first sync runs without the CNPG health check (the migration hook would start before
    # PostgreSQL accepts connections) and without the RBAC policy; the Application only fixes that later.
    steps = cluster.up_plan(cluster.Settings(region="eu-west-1", state_bucket="state"))
    rendered = [" ".join(step.argv) for step in steps]
    write = next(i for i, text in enumerate(rendered) if "manifests_py argocd-values" in text)
    helm = next(i for i, text in enumerate(rendered) if text.startswith("helm upgrade --install"))
    assert write < helm
    values_file = steps[write].argv[-1]
    helm_argv = steps[helm].argv
    assert helm_argv[helm_argv.index("--values") + 1] == values_file

    written = tmp_path / "values.yaml"
    cluster.write_argocd_values(written)
    committed = yaml.safe_load(
        (Path(__file__).resolve().parents[2] / "manifests/argocd/application-argo-cd.yaml").read_text()
    )
    values = yaml.safe_load(written.read_text())
    assert values == committed["spec"]["source"]["helm"]["valuesObject"]
    assert "resource.customizations.health.postgresql.cnpg.io_Cluster" in values["configs"]["cm"]
    assert values["configs"]["rbac"]["policy.default"] == "role:readonly"


# Release tags cluster-autoscaler-1.<minor>.<patch> in kubernetes/autoscaler (stored snapshot 55c37cd5, 2026-08-22), per
# Kubernetes minor; the image registry.k8s.io/autoscaling/cluster-autoscaler carries them as v1.<minor>.<patch>.
CLUSTER_AUTOSCALER_RELEASES = {
    "1.34": ["v1.34.0", "v1.34.1", "v1.34.2", "v1.34.3", "v1.34.4", "v1.34.5"],
    "1.35": ["v1.35.0", "v1.35.1", "v1.35.2"],
    "1.36": ["v1.36.0", "v1.36.1"],
}


def test_cluster_autoscaler_matches_the_eks_minor_version(documents: list[Document]) -> None:
    # cluster-autoscaler supports exactly the Kubernetes minor it is built for; the chart's default image follows the
    # chart, not our cluster. The cluster's minor comes from Terraform (variables.tf cluster_version), which deploys it.
    variables = (Path(__file__).resolve().parents[2] / "terraform" / "variables.tf").read_text()
    cluster_minor = re.search(r'variable "cluster_version" \{[^}]*?default\s*=\s*"([0-9.]+)"', variables, re.S)
    assert cluster_minor is not None
    (autoscaler,) = [
        d for d in of_kind(documents, "Application", "argocd") if d["metadata"]["name"] == "cluster-autoscaler"
    ]
    tag = autoscaler["spec"]["source"]["helm"]["valuesObject"]["image"]["tag"]
    # A released build of that minor, and its newest patch known here.
    assert tag == CLUSTER_AUTOSCALER_RELEASES[cluster_minor.group(1)][-1], tag
