"""ArgoCD: the bootstrap project and root app-of-apps, the projects, and one child Application per deliverable."""

from __future__ import annotations

from manifests_py import crds, names
from manifests_py.environments import Environment
from manifests_py.objects import Manifest, meta, sync_wave

IN_CLUSTER = "https://kubernetes.default.svc"
FINALIZER = "resources-finalizer.argocd.argoproj.io"
BOOTSTRAP_PROJECT = "bootstrap"
CLUSTER_CONFIG = "cluster-config"
BOOTSTRAP_AREA = "bootstrap"
APPLICATIONS_AREA = "argocd"
CLUSTER_AREA = "cluster"
OBSERVABILITY = "observability"

# Sync waves of the Applications the root app-of-apps creates: the charts that own CRDs first (the issuers, stores,
# clusters and ServiceMonitors of later waves are their custom resources), then cluster-wide configuration and the
# cluster's services (metrics-server before any HPA), then the dashboards and rules, then the app's environments.
# Argo CD does not assess an Application's health by default, so a wave orders creation; CRs created before their
# CRD is served converge through the retry policy below.
WAVE_CRD_OWNERS = -3
WAVE_CLUSTER_CONFIG = -2
WAVE_OBSERVABILITY = -1
WAVE_APPS = 0


def retry() -> crds.SyncRetry:
    # CRs whose CRD another app installs fail until that app is synced: retry with backoff instead of giving up.
    return crds.SyncRetry(limit=10, backoff=crds.RetryBackoff(duration="10s", factor=2, maxDuration="5m"))


def sync_policy(*options: str) -> crds.SyncPolicy:
    return crds.SyncPolicy(
        automated=crds.SyncAutomated(prune=True, selfHeal=True), syncOptions=sorted(options) or None, retry=retry()
    )


def application(
    name: str,
    project: str,
    source: crds.ApplicationSource,
    namespace: str,
    *options: str,
    cascade_delete: bool = True,
    wave: int | None = None,
) -> crds.Application:
    metadata = meta(name, names.ARGOCD_NAMESPACE, annotations=None if wave is None else sync_wave(wave))
    if cascade_delete:
        # Deleting the Application deletes what it deployed (what `cluster down` relies on).
        metadata.finalizers = [FINALIZER]
    return crds.Application(
        metadata=metadata,
        spec=crds.ApplicationSpec(
            project=project,
            source=source,
            destination=crds.ApplicationDestination(server=IN_CLUSTER, namespace=namespace),
            syncPolicy=sync_policy(*options),
            revisionHistoryLimit=10,
        ),
    )


def git_source(path: str) -> crds.ApplicationSource:
    return crds.ApplicationSource(
        repoURL=names.GIT_REPO_URL,
        targetRevision=names.GIT_REVISION,
        path=f"{names.MANIFESTS_DIR}/{path}",
        directory=crds.DirectorySource(recurse=True),
    )


def bootstrap() -> list[Manifest]:
    """Applied once by `cluster up`; from then on ArgoCD syncs everything else from git, including these."""
    project = crds.AppProject(
        metadata=meta(BOOTSTRAP_PROJECT, names.ARGOCD_NAMESPACE),
        spec=crds.AppProjectSpec(
            description="The root app-of-apps: may only create ArgoCD Applications and AppProjects.",
            sourceRepos=[names.GIT_REPO_URL],
            # No clusterResourceWhitelist: no cluster-scoped object may come from this project.
            destinations=[crds.ApplicationDestination(server=IN_CLUSTER, namespace=names.ARGOCD_NAMESPACE)],
        ),
    )
    root = application(
        names.ROOT_APPLICATION,
        BOOTSTRAP_PROJECT,
        git_source(APPLICATIONS_AREA),
        names.ARGOCD_NAMESPACE,
        cascade_delete=False,
    )
    return [Manifest(BOOTSTRAP_AREA, project), Manifest(BOOTSTRAP_AREA, root)]


def projects(environments: tuple[Environment, ...], chart_repositories: list[str]) -> list[Manifest]:
    platform = crds.AppProject(
        metadata=meta(names.PLATFORM_PROJECT, names.ARGOCD_NAMESPACE),
        spec=crds.AppProjectSpec(
            description="Cluster platform: pinned Helm charts and cluster-wide configuration.",
            sourceRepos=sorted([names.GIT_REPO_URL, *chart_repositories]),
            destinations=[
                crds.ApplicationDestination(server=IN_CLUSTER, namespace=namespace)
                for namespace in sorted(
                    {
                        names.ARGOCD_NAMESPACE,
                        names.MONITORING_NAMESPACE,
                        names.INGRESS_NAMESPACE,
                        names.CERT_MANAGER_NAMESPACE,
                        names.EXTERNAL_SECRETS_NAMESPACE,
                        names.CNPG_NAMESPACE,
                        names.EXTERNAL_DNS_NAMESPACE,
                        names.AUTOSCALER_NAMESPACE,
                        names.METRICS_SERVER_NAMESPACE,
                    }
                )
            ],
            clusterResourceWhitelist=[crds.GroupKind(group="*", kind="*")],
        ),
    )
    apps = crds.AppProject(
        metadata=meta(names.APPS_PROJECT, names.ARGOCD_NAMESPACE),
        spec=crds.AppProjectSpec(
            description="expense-tracker environments: namespaced objects only, from this repository only.",
            sourceRepos=[names.GIT_REPO_URL],
            destinations=[
                crds.ApplicationDestination(server=IN_CLUSTER, namespace=names.app_namespace(environment.name))
                for environment in environments
            ],
            # The environment's own Namespace (with its Pod Security labels) is the only cluster-scoped object.
            clusterResourceWhitelist=[crds.GroupKind(group="", kind="Namespace")],
            # Quotas and limit ranges are the platform's call, not the app's.
            namespaceResourceBlacklist=[
                crds.GroupKind(group="", kind="ResourceQuota"),
                crds.GroupKind(group="", kind="LimitRange"),
            ],
            roles=[
                crds.ProjectRole(
                    name="deployer",
                    description="Sync and inspect the app's environments; nothing else.",
                    policies=[
                        f"p, proj:{names.APPS_PROJECT}:deployer, applications, {action}, {names.APPS_PROJECT}/*, allow"
                        for action in ("get", "sync")
                    ],
                    groups=[names.DEPLOYER_GROUP],
                )
            ],
        ),
    )
    return [Manifest(APPLICATIONS_AREA, platform), Manifest(APPLICATIONS_AREA, apps)]


def app_applications(environments: tuple[Environment, ...]) -> list[Manifest]:
    out = [
        Manifest(
            APPLICATIONS_AREA,
            application(
                CLUSTER_CONFIG,
                names.PLATFORM_PROJECT,
                git_source(CLUSTER_AREA),
                names.ARGOCD_NAMESPACE,
                "SkipDryRunOnMissingResource=true",
                "ServerSideApply=true",
                wave=WAVE_CLUSTER_CONFIG,
            ),
        )
    ]
    out.append(
        Manifest(
            APPLICATIONS_AREA,
            application(
                OBSERVABILITY,
                names.PLATFORM_PROJECT,
                git_source(OBSERVABILITY),
                names.MONITORING_NAMESPACE,
                # Dashboards are large ConfigMaps (client-side apply would hit the annotation size limit) and the
                # PrometheusRule CRD comes with kube-prometheus-stack.
                "ServerSideApply=true",
                "SkipDryRunOnMissingResource=true",
                wave=WAVE_OBSERVABILITY,
            ),
        )
    )
    for environment in environments:
        namespace = names.app_namespace(environment.name)
        out.append(
            Manifest(
                APPLICATIONS_AREA,
                application(
                    namespace,
                    names.APPS_PROJECT,
                    git_source(f"apps/{environment.name}"),
                    namespace,
                    "SkipDryRunOnMissingResource=true",
                    "PruneLast=true",
                    wave=WAVE_APPS,
                ),
            )
        )
    return out
