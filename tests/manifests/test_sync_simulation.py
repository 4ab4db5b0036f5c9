"""Issue #11: the first sync of a fresh cluster, walked the way Argo CD walks it (see argocd_model.py for the rules
and the upstream files they come from), reaches Healthy for every Application `cluster up` waits for — and each
world `cluster up`'s preflight refuses, or each manifest bug planted in a copy, keeps it from getting there."""

from __future__ import annotations

import copy
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest
import yaml
from manifests_py import cluster, names, secrets
from manifests_py.environments import ENVIRONMENTS_DIR
from manifests_py.render import render, write_tree

from tests.manifests.argocd_model import (
    APPLICATION_HEALTH,
    DEGRADED,
    HEALTHY,
    MISSING,
    PROGRESSING,
    Chart,
    Document,
    Simulation,
    World,
)

# What each pinned chart brings, read from the charts (values paths are those our values set):
# - cert-manager v1.18.1: CRDs with crds.enabled; templates/servicemonitor.yaml renders a ServiceMonitor whenever
#   prometheus.servicemonitor.enabled, without a Capabilities check (read at cert-manager commit 00fd12e).
# - cloudnative-pg chart 0.24.0: templates/podmonitor.yaml renders a PodMonitor on monitoring.podMonitorEnabled,
#   no Capabilities check (cloudnative-pg/charts tag cloudnative-pg-v0.24.0).
# - external-secrets 0.18.1: its ServiceMonitor is rendered only if the API already serves it (Capabilities check).
# - argo-cd 8.1.2: ServiceMonitors gated on Capabilities too (argo-helm tag argo-cd-8.1.2), so `cluster up`'s Helm
#   install before kube-prometheus-stack exists does not fail.
# - kube-prometheus-stack 75.6.1: the prometheus-operator CRDs; Grafana mounts grafana.admin.existingSecret,
#   Alertmanager mounts alertmanagerSpec.secrets; Prometheus and Alertmanager claim volumes of the given class.
# - metrics-server 3.12.2: the metrics.k8s.io APIService.
# ingress-nginx, external-dns and cluster-autoscaler ServiceMonitors are not modelled (not read).
CHARTS = {
    "argo-cd": Chart(controllers=frozenset({"argo-cd"})),
    "cert-manager": Chart(
        crds=frozenset(
            f"{group}/{kind}"
            for group, kind in [
                ("cert-manager.io", "Certificate"),
                ("cert-manager.io", "CertificateRequest"),
                ("cert-manager.io", "ClusterIssuer"),
                ("cert-manager.io", "Issuer"),
                ("acme.cert-manager.io", "Challenge"),
                ("acme.cert-manager.io", "Order"),
            ]
        ),
        controllers=frozenset({"cert-manager"}),
        renders={"prometheus.servicemonitor.enabled": "monitoring.coreos.com/ServiceMonitor"},
    ),
    "cloudnative-pg": Chart(
        crds=frozenset(
            f"postgresql.cnpg.io/{kind}"
            for kind in ("Backup", "Cluster", "ClusterImageCatalog", "ImageCatalog", "Pooler", "ScheduledBackup")
        ),
        controllers=frozenset({"cloudnative-pg"}),
        renders={"monitoring.podMonitorEnabled": "monitoring.coreos.com/PodMonitor"},
    ),
    "external-secrets": Chart(
        crds=frozenset(
            f"external-secrets.io/{kind}"
            for kind in ("ClusterExternalSecret", "ClusterSecretStore", "ExternalSecret", "PushSecret", "SecretStore")
        ),
        controllers=frozenset({"external-secrets"}),
    ),
    "kube-prometheus-stack": Chart(
        crds=frozenset(
            f"monitoring.coreos.com/{kind}"
            for kind in (
                "Alertmanager",
                "AlertmanagerConfig",
                "PodMonitor",
                "Probe",
                "Prometheus",
                "PrometheusAgent",
                "PrometheusRule",
                "ScrapeConfig",
                "ServiceMonitor",
                "ThanosRuler",
            )
        ),
        controllers=frozenset({"prometheus-operator", "grafana"}),
        secrets=("grafana.admin.existingSecret", "alertmanager.alertmanagerSpec.secrets"),
        storage_classes=(
            "prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec.storageClassName",
            "alertmanager.alertmanagerSpec.storage.volumeClaimTemplate.spec.storageClassName",
        ),
    ),
    "ingress-nginx": Chart(controllers=frozenset({"ingress-nginx"})),
    "metrics-server": Chart(apis=frozenset({"metrics.k8s.io"}), controllers=frozenset({"metrics-server"})),
    "external-dns": Chart(controllers=frozenset({"external-dns"})),
    "cluster-autoscaler": Chart(controllers=frozenset({"cluster-autoscaler"})),
}
# Served by a fresh EKS API server (Kubernetes built-in groups).
BUILTIN_KINDS = frozenset(
    {
        "/Namespace",
        "/ConfigMap",
        "/Secret",
        "/Service",
        "/ServiceAccount",
        "apps/Deployment",
        "batch/Job",
        "batch/CronJob",
        "autoscaling/HorizontalPodAutoscaler",
        "networking.k8s.io/Ingress",
        "networking.k8s.io/NetworkPolicy",
        "policy/PodDisruptionBudget",
        "rbac.authorization.k8s.io/Role",
        "rbac.authorization.k8s.io/RoleBinding",
        "storage.k8s.io/StorageClass",
        "scheduling.k8s.io/PriorityClass",
        "apiextensions.k8s.io/CustomResourceDefinition",
    }
)
# Every Secrets Manager entry, with every key set: the world `secrets check` accepts (asserted below).
ALL_SECRETS_SET = {
    "expense-tracker/staging/app": {"SECRET_KEY", "GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET"},
    "expense-tracker/production/app": {"SECRET_KEY", "GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET"},
    "expense-tracker/grafana-admin": {"admin-user", "admin-password"},
    "expense-tracker/alertmanager": {"slack-critical-url", "slack-warning-url"},
}
PUBLISHED = "ghcr.io/expense-tracker/expense-tracker@sha256:" + "1" * 64
HORIZON = cluster.WAIT_TIMEOUT_SECONDS  # `cluster up` gives up waiting after this


def world(secret_values: dict[str, set[str]] | None = None, charts: dict[str, Chart] | None = None) -> World:
    values = ALL_SECRETS_SET if secret_values is None else secret_values
    return World(
        secret_values={key: set(keys) for key, keys in values.items()},
        charts=CHARTS if charts is None else charts,
        builtin_kinds=BUILTIN_KINDS,
    )


def rendered(tmp_path: Path, released: Sequence[str]) -> tuple[Path, dict[str, Document]]:
    """Render with ``released`` environments published; write the tree; return (tree, path -> document)."""
    environments = tmp_path / "environments"
    shutil.copytree(ENVIRONMENTS_DIR, environments)
    for name in released:
        (environments / name / "image.txt").write_text(PUBLISHED + "\n")
    tree = tmp_path / "manifests"
    write_tree(render(environments), tree)
    return environments, {path: yaml.safe_load(text) for path, text in sorted(_read(tree).items())}


def _read(tree: Path) -> dict[str, str]:
    return {str(p.relative_to(tree)): p.read_text() for p in tree.rglob("*.yaml")}


def waited_for(environments: Path, tree: Path) -> list[str]:
    """The Applications `cluster up` waits for: cluster.py's own rule (all but unreleased environments)."""
    unreleased = {names.app_namespace(e) for e in cluster.unreleased_environments(environments)}
    return [name for name in cluster.application_names(tree) if name not in unreleased]


def aws_answering_from(values: dict[str, set[str]]) -> secrets.Run:
    def run(argv: Sequence[str], stdin: str | None) -> subprocess.CompletedProcess[str]:
        secret = argv[argv.index("--secret-id") + 1]
        if secret not in values:
            return subprocess.CompletedProcess(argv, 254, "", "ResourceNotFoundException")
        value = "{" + ", ".join(f'"{key}": "x"' for key in sorted(values[secret])) + "}"
        return subprocess.CompletedProcess(argv, 0, value, "")

    return run


def simulate(documents: dict[str, Document], world: World, until: Sequence[str]) -> tuple[Simulation, int | None]:
    simulation = Simulation(documents, world)
    return simulation, simulation.run(until, HORIZON)


def find(documents: dict[str, Document], kind: str, name: str, namespace: str | None = None) -> Document:
    (found,) = [
        d
        for d in documents.values()
        if d["kind"] == kind and d["metadata"]["name"] == name and d["metadata"].get("namespace") == namespace
    ]
    return found


def report(simulation: Simulation, apps: Sequence[str]) -> str:
    lines = [f"{name}: {' / '.join(simulation.status(name))}" for name in apps]
    for name in apps:
        if name in simulation.apps:
            lines += [f"  {name} {entry}" for entry in simulation.apps[name].history[-3:]]
    return "\n".join(lines)


@pytest.mark.parametrize("released", [(), ("staging",)], ids=["nothing-published", "staging-published"])
def test_first_sync_of_a_fresh_cluster_reaches_healthy_for_what_cluster_up_waits_for(
    tmp_path: Path, released: tuple[str, ...]
) -> None:
    environments, documents = rendered(tmp_path, released)
    assert secrets.check("eu-west-1", run=aws_answering_from(ALL_SECRETS_SET), tree=tmp_path / "manifests") == []
    expected = waited_for(environments, tmp_path / "manifests")
    # cluster.py's rule, against a literal: production has no image in either case; staging only without one.
    assert "expense-tracker-production" not in expected
    assert ("expense-tracker-staging" in expected) == ("staging" in released)
    assert {"root", "cluster-config", "kube-prometheus-stack", "metrics-server", "observability"} <= set(expected)

    simulation, took = simulate(documents, world(), expected)

    assert took is not None, report(simulation, expected)
    assert took < HORIZON / 2, f"first sync needs {took}s of the {HORIZON}s `cluster up` waits"


def test_a_secret_without_its_value_leaves_its_external_secret_degraded_and_named(tmp_path: Path) -> None:
    environments, documents = rendered(tmp_path, ("staging",))
    values = copy.deepcopy(ALL_SECRETS_SET)
    values["expense-tracker/staging/app"].discard("GOOGLE_CLIENT_SECRET")
    preflight = secrets.check("eu-west-1", run=aws_answering_from(values), tree=tmp_path / "manifests")
    assert [line.split(":")[0] for line in preflight] == ["expense-tracker/staging/app"]  # `up` stops here

    simulation, took = simulate(documents, world(values), waited_for(environments, tmp_path / "manifests"))

    assert took is None
    sync, health, message = simulation.status("expense-tracker-staging")
    assert (sync, health) == ("OutOfSync", DEGRADED)
    assert "ExternalSecret expense-tracker-staging/expense-tracker-app" in message
    assert "expense-tracker/staging/app:GOOGLE_CLIENT_SECRET" in message
    assert any("expense-tracker-app is Degraded" in e for e in simulation.apps["expense-tracker-staging"].history)
    assert simulation.status("expense-tracker-production")[1] != HEALTHY  # its own hook, but not this secret


def test_an_image_never_published_fails_the_migration_hook_so_up_does_not_wait_for_it(tmp_path: Path) -> None:
    environments, documents = rendered(tmp_path, ("staging",))
    assert cluster.unreleased_environments(environments) == ["production"]

    simulation, _ = simulate(documents, world(), ["expense-tracker-production"])

    sync, _, _ = simulation.status("expense-tracker-production")
    assert sync == "OutOfSync"
    history = simulation.apps["expense-tracker-production"].history
    assert any(
        "batch/Job expense-tracker-production/expense-tracker-migrate is Degraded: Job was active longer" in e
        and "was never published" in e
        for e in history
    ), history
    # Nothing after the hook's wave was created: the web Deployment never exists.
    assert ("apps/Deployment", "expense-tracker-production", "expense-tracker") not in simulation.live


def test_a_storage_class_that_does_not_exist_keeps_the_database_progressing_until_up_gives_up(tmp_path: Path) -> None:
    environments, documents = rendered(tmp_path, ("staging",))
    database = find(documents, "Cluster", "expense-tracker-db", "expense-tracker-staging")
    database["spec"]["storage"]["storageClass"] = "gp3-typo"

    simulation, took = simulate(documents, world(), waited_for(environments, tmp_path / "manifests"))

    assert took is None
    # The sync waits on the database's wave forever (no sync timeout); what comes after it is never created.
    sync, health, _ = simulation.status("expense-tracker-staging")
    assert (sync, health) == ("OutOfSync", MISSING)
    waiting = simulation.apps["expense-tracker-staging"].message
    assert waiting.startswith("waiting for healthy state of postgresql.cnpg.io/Cluster expense-tracker-staging/")
    assert f'{PROGRESSING}: Waiting for the cluster to be ready: storageclass.storage.k8s.io "gp3-typo"' in waiting


def test_without_the_storage_class_object_monitoring_never_gets_its_volumes(tmp_path: Path) -> None:
    environments, documents = rendered(tmp_path, ("staging",))
    del documents["cluster/storageclass-gp3-encrypted.yaml"]

    simulation, took = simulate(documents, world(), waited_for(environments, tmp_path / "manifests"))

    assert took is None
    assert simulation.status("kube-prometheus-stack")[1] == PROGRESSING
    assert '"gp3-encrypted" not found' in simulation.status("kube-prometheus-stack")[2]


def test_a_custom_resource_synced_before_its_crd_owner_fails_without_a_retry(tmp_path: Path) -> None:
    environments, documents = rendered(tmp_path, ("staging",))
    config = find(documents, "Application", "cluster-config", "argocd")
    config["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] = "-4"  # before cert-manager, external-secrets
    del config["spec"]["syncPolicy"]["retry"]

    simulation, took = simulate(documents, world(), waited_for(environments, tmp_path / "manifests"))

    assert took is None
    app = simulation.apps["cluster-config"]
    assert app.gave_up
    assert "no matches for kind" in app.history[0]


def test_the_retry_policy_is_what_carries_custom_resources_past_their_crd_owner(tmp_path: Path) -> None:
    # Argo CD assesses no Application health (see the next test), so the root's waves only order creation: charts
    # and the Applications holding their custom resources sync side by side. The first attempts of the latter
    # fail on kinds not yet served, and the retry policy brings them through.
    environments, documents = rendered(tmp_path, ("staging",))

    simulation, took = simulate(documents, world(), waited_for(environments, tmp_path / "manifests"))

    assert took is not None
    failed_first = {name for name, app in simulation.apps.items() if app.failures}
    assert "cert-manager" in failed_first  # its ServiceMonitor waits for kube-prometheus-stack's CRDs
    retries = {name: simulation.apps[name].failures for name in failed_first}
    limit = find(documents, "Application", "cert-manager", "argocd")["spec"]["syncPolicy"]["retry"]["limit"]
    assert max(retries.values()) < limit, retries


def test_restoring_application_health_would_deadlock_the_root_waves(tmp_path: Path) -> None:
    # docs/operator-manual/health.md (v3.0.6) offers a Lua check that restores Application health for app-of-apps
    # waves. With it, the root waits for kube-prometheus-stack (wave -3) to be Healthy before it creates
    # cluster-config (wave -2) — whose ExternalSecret and StorageClass kube-prometheus-stack's pods wait for.
    environments, documents = rendered(tmp_path, ("staging",))
    argo_cd = find(documents, "Application", "argo-cd", "argocd")
    argo_cd["spec"]["source"]["helm"]["valuesObject"]["configs"]["cm"][APPLICATION_HEALTH] = "-- from health.md"

    simulation, took = simulate(documents, world(), waited_for(environments, tmp_path / "manifests"))

    assert took is None
    assert "cluster-config" not in simulation.apps
    assert "kube-prometheus-stack" in simulation.apps["root"].message


def test_without_metrics_server_argo_cd_still_calls_the_hpa_healthy(tmp_path: Path) -> None:
    # health_hpa.go returns at the first condition that is healthy or degraded, and the HPA controller writes
    # AbleToScale (True) before ScalingActive (False, FailedGetResourceMetric): Argo CD shows Healthy. So no
    # sync or health wait catches a missing metrics API; test_day_one's static check on the metrics-server
    # Application is the guard.
    environments, documents = rendered(tmp_path, ("staging",))
    del documents["argocd/application-metrics-server.yaml"]
    expected = [n for n in waited_for(environments, tmp_path / "manifests") if n != "metrics-server"]

    simulation, took = simulate(documents, world(), expected)

    assert took is not None
    hpa = find(documents, "HorizontalPodAutoscaler", "expense-tracker", "expense-tracker-staging")
    reasons = [c[2] for c in simulation.hpa_conditions("expense-tracker-staging", hpa)]
    assert reasons == ["SucceededGetScale", "FailedGetResourceMetric"]
    assert simulation.hpa_health("expense-tracker-staging", hpa)[0] == HEALTHY


def test_the_recurring_cronjob_comes_after_the_migration_and_leaves_the_environment_healthy(tmp_path: Path) -> None:
    # Argo CD v3.0.6 has no health check for CronJobs: the CronJob is created in its wave and then neither waited for
    # nor counted, so it can never hold the sync or keep the Application Progressing or Degraded. Its runs need the
    # migrated schema: it is created only once the migration hook has completed, like the Deployment.
    environments, documents = rendered(tmp_path, ("staging",))
    namespace = "expense-tracker-staging"

    simulation, took = simulate(documents, world(), waited_for(environments, tmp_path / "manifests"))

    assert took is not None, report(simulation, [namespace])
    assert simulation.status(namespace)[:2] == ("Synced", HEALTHY)
    cronjob = ("batch/CronJob", namespace, "expense-tracker-recurring")
    migration = ("batch/Job", namespace, "expense-tracker-migrate")
    assert cronjob in simulation.live
    assert simulation.evaluate(cronjob) is None
    assert not simulation.has_health_check("batch/CronJob")
    assert simulation.live[cronjob].created > simulation.live[migration].created
    deployment = ("apps/Deployment", namespace, "expense-tracker")
    assert simulation.live[cronjob].created >= simulation.live[deployment].created


def test_a_recurring_cronjob_in_an_earlier_wave_would_run_before_the_migration(tmp_path: Path) -> None:
    # The planted ordering bug the previous test guards against: in the prerequisites' wave the CronJob exists (and
    # may fire) before the migration hook has run.
    environments, documents = rendered(tmp_path, ("staging",))
    namespace = "expense-tracker-staging"
    cronjob = find(documents, "CronJob", "expense-tracker-recurring", namespace)
    cronjob["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] = "-2"

    simulation, _ = simulate(documents, world(), waited_for(environments, tmp_path / "manifests"))

    key = ("batch/CronJob", namespace, "expense-tracker-recurring")
    assert simulation.live[key].created < simulation.live[("batch/Job", namespace, "expense-tracker-migrate")].created
