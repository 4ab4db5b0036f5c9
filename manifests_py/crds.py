"""Typed hikaru classes for the custom resources the manifests use.

Small on purpose: each class models the fields this project sets, named as the CRD names them, so a typo is an error in
Python rather than a field the operator silently ignores; the tests validate the output against each CRD's
``openAPIV3Schema`` at the pinned chart version. Free-form parts (Helm values) are plain dicts.

hikaru's ``get_clean_dict()`` drops empty containers but keeps a nested object whose fields are all unset (it becomes
``{}``), so marker objects such as ``emptyDir: {}`` are modelled as classes with optional fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hikaru import HikaruBase, HikaruDocumentBase, set_default_release
from hikaru.crd import HikaruCRDDocumentMixin, register_crd_class

set_default_release("rel_1_28")

from hikaru.model.rel_1_28.v1 import LabelSelector, ObjectMeta, ResourceRequirements  # noqa: E402

# --- ArgoCD ----------------------------------------------------------------------------------------------------------


@dataclass
class HelmSource(HikaruBase):
    releaseName: str | None = None
    valuesObject: dict[str, Any] | None = None


@dataclass
class DirectorySource(HikaruBase):
    recurse: bool | None = None


@dataclass
class ApplicationSource(HikaruBase):
    repoURL: str
    targetRevision: str
    path: str | None = None
    chart: str | None = None
    helm: HelmSource | None = None
    directory: DirectorySource | None = None


@dataclass
class ApplicationDestination(HikaruBase):
    server: str
    namespace: str | None = None


@dataclass
class SyncAutomated(HikaruBase):
    prune: bool | None = None
    selfHeal: bool | None = None


@dataclass
class RetryBackoff(HikaruBase):
    duration: str | None = None
    factor: int | None = None
    maxDuration: str | None = None


@dataclass
class SyncRetry(HikaruBase):
    limit: int | None = None
    backoff: RetryBackoff | None = None


@dataclass
class SyncPolicy(HikaruBase):
    automated: SyncAutomated | None = None
    syncOptions: list[str] | None = None
    retry: SyncRetry | None = None


@dataclass
class ApplicationSpec(HikaruBase):
    project: str
    source: ApplicationSource
    destination: ApplicationDestination
    syncPolicy: SyncPolicy | None = None
    revisionHistoryLimit: int | None = None


@dataclass
class GroupKind(HikaruBase):
    group: str
    kind: str


@dataclass
class ProjectRole(HikaruBase):
    name: str
    description: str | None = None
    policies: list[str] | None = None
    groups: list[str] | None = None


@dataclass
class AppProjectSpec(HikaruBase):
    description: str | None = None
    sourceRepos: list[str] | None = None
    destinations: list[ApplicationDestination] | None = None
    clusterResourceWhitelist: list[GroupKind] | None = None
    clusterResourceBlacklist: list[GroupKind] | None = None
    namespaceResourceBlacklist: list[GroupKind] | None = None
    roles: list[ProjectRole] | None = None


@dataclass
class Application(HikaruDocumentBase, HikaruCRDDocumentMixin):
    metadata: ObjectMeta
    spec: ApplicationSpec
    apiVersion: str = "argoproj.io/v1alpha1"
    kind: str = "Application"


@dataclass
class AppProject(HikaruDocumentBase, HikaruCRDDocumentMixin):
    metadata: ObjectMeta
    spec: AppProjectSpec
    apiVersion: str = "argoproj.io/v1alpha1"
    kind: str = "AppProject"


# --- cert-manager ----------------------------------------------------------------------------------------------------


@dataclass
class SecretKeyName(HikaruBase):
    name: str


@dataclass
class Route53Solver(HikaruBase):
    region: str
    hostedZoneID: str | None = None


@dataclass
class DNS01Solver(HikaruBase):
    route53: Route53Solver


@dataclass
class SolverSelector(HikaruBase):
    dnsZones: list[str] | None = None


@dataclass
class ACMESolver(HikaruBase):
    dns01: DNS01Solver
    selector: SolverSelector | None = None


@dataclass
class ACMEIssuer(HikaruBase):
    server: str
    privateKeySecretRef: SecretKeyName
    solvers: list[ACMESolver]
    email: str | None = None


@dataclass
class IssuerSpec(HikaruBase):
    acme: ACMEIssuer


@dataclass
class ClusterIssuer(HikaruDocumentBase, HikaruCRDDocumentMixin):
    metadata: ObjectMeta
    spec: IssuerSpec
    apiVersion: str = "cert-manager.io/v1"
    kind: str = "ClusterIssuer"


# --- prometheus-operator ---------------------------------------------------------------------------------------------


@dataclass
class NamespaceSelector(HikaruBase):
    matchNames: list[str] | None = None


@dataclass
class Endpoint(HikaruBase):
    port: str
    path: str | None = None
    interval: str | None = None
    scrapeTimeout: str | None = None


@dataclass
class ServiceMonitorSpec(HikaruBase):
    selector: LabelSelector
    endpoints: list[Endpoint]
    namespaceSelector: NamespaceSelector | None = None


@dataclass
class ServiceMonitor(HikaruDocumentBase, HikaruCRDDocumentMixin):
    metadata: ObjectMeta
    spec: ServiceMonitorSpec
    apiVersion: str = "monitoring.coreos.com/v1"
    kind: str = "ServiceMonitor"


@dataclass
class Rule(HikaruBase):
    expr: str
    alert: str | None = None
    record: str | None = None
    for_: str | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None


@dataclass
class RuleGroup(HikaruBase):
    name: str
    rules: list[Rule]
    interval: str | None = None


@dataclass
class PrometheusRuleSpec(HikaruBase):
    groups: list[RuleGroup]


@dataclass
class PrometheusRule(HikaruDocumentBase, HikaruCRDDocumentMixin):
    metadata: ObjectMeta
    spec: PrometheusRuleSpec
    apiVersion: str = "monitoring.coreos.com/v1"
    kind: str = "PrometheusRule"


# --- CloudNativePG ---------------------------------------------------------------------------------------------------


@dataclass
class StorageConfiguration(HikaruBase):
    size: str
    storageClass: str | None = None


@dataclass
class InitDB(HikaruBase):
    database: str
    owner: str


@dataclass
class Bootstrap(HikaruBase):
    initdb: InitDB


@dataclass
class S3Credentials(HikaruBase):
    inheritFromIAMRole: bool


@dataclass
class Compression(HikaruBase):
    compression: str | None = None


@dataclass
class BarmanObjectStore(HikaruBase):
    destinationPath: str
    s3Credentials: S3Credentials
    wal: Compression | None = None
    data: Compression | None = None


@dataclass
class BackupConfiguration(HikaruBase):
    barmanObjectStore: BarmanObjectStore
    retentionPolicy: str | None = None


@dataclass
class ServiceAccountTemplate(HikaruBase):
    metadata: ObjectMeta


@dataclass
class ClusterAffinity(HikaruBase):
    enablePodAntiAffinity: bool | None = None
    nodeSelector: dict[str, str] | None = None
    podAntiAffinityType: str | None = None
    topologyKey: str | None = None


@dataclass
class PostgresConfiguration(HikaruBase):
    parameters: dict[str, str] | None = None


@dataclass
class ClusterMonitoring(HikaruBase):
    enablePodMonitor: bool | None = None


@dataclass
class ClusterSpec(HikaruBase):
    instances: int
    imageName: str
    storage: StorageConfiguration
    bootstrap: Bootstrap
    walStorage: StorageConfiguration | None = None
    primaryUpdateStrategy: str | None = None
    backup: BackupConfiguration | None = None
    serviceAccountTemplate: ServiceAccountTemplate | None = None
    affinity: ClusterAffinity | None = None
    resources: ResourceRequirements | None = None
    postgresql: PostgresConfiguration | None = None
    monitoring: ClusterMonitoring | None = None
    enableSuperuserAccess: bool | None = None
    enablePDB: bool | None = None
    priorityClassName: str | None = None


@dataclass
class Cluster(HikaruDocumentBase, HikaruCRDDocumentMixin):
    metadata: ObjectMeta
    spec: ClusterSpec
    apiVersion: str = "postgresql.cnpg.io/v1"
    kind: str = "Cluster"


@dataclass
class ScheduledBackupSpec(HikaruBase):
    schedule: str
    cluster: SecretKeyName
    method: str | None = None
    backupOwnerReference: str | None = None
    immediate: bool | None = None


@dataclass
class ScheduledBackup(HikaruDocumentBase, HikaruCRDDocumentMixin):
    metadata: ObjectMeta
    spec: ScheduledBackupSpec
    apiVersion: str = "postgresql.cnpg.io/v1"
    kind: str = "ScheduledBackup"


# --- external-secrets ------------------------------------------------------------------------------------------------


@dataclass
class SecretStoreRef(HikaruBase):
    name: str
    kind: str


@dataclass
class ExternalSecretTarget(HikaruBase):
    name: str
    creationPolicy: str | None = None
    deletionPolicy: str | None = None


@dataclass
class RemoteRef(HikaruBase):
    key: str
    property: str | None = None


@dataclass
class ExternalSecretData(HikaruBase):
    secretKey: str
    remoteRef: RemoteRef


@dataclass
class ExternalSecretSpec(HikaruBase):
    secretStoreRef: SecretStoreRef
    target: ExternalSecretTarget
    data: list[ExternalSecretData]
    refreshInterval: str | None = None


@dataclass
class ExternalSecret(HikaruDocumentBase, HikaruCRDDocumentMixin):
    metadata: ObjectMeta
    spec: ExternalSecretSpec
    apiVersion: str = "external-secrets.io/v1"
    kind: str = "ExternalSecret"


@dataclass
class AWSProvider(HikaruBase):
    service: str
    region: str


@dataclass
class SecretStoreProvider(HikaruBase):
    aws: AWSProvider


@dataclass
class SecretStoreSpec(HikaruBase):
    provider: SecretStoreProvider


@dataclass
class ClusterSecretStore(HikaruDocumentBase, HikaruCRDDocumentMixin):
    metadata: ObjectMeta
    spec: SecretStoreSpec
    apiVersion: str = "external-secrets.io/v1"
    kind: str = "ClusterSecretStore"


CUSTOM_RESOURCES: tuple[tuple[type[HikaruDocumentBase], str, bool], ...] = (
    (Application, "applications", True),
    (AppProject, "appprojects", True),
    (ClusterIssuer, "clusterissuers", False),
    (ServiceMonitor, "servicemonitors", True),
    (PrometheusRule, "prometheusrules", True),
    (Cluster, "clusters", True),
    (ScheduledBackup, "scheduledbackups", True),
    (ExternalSecret, "externalsecrets", True),
    (ClusterSecretStore, "clustersecretstores", False),
)
for _cls, _plural, _namespaced in CUSTOM_RESOURCES:
    register_crd_class(_cls, _plural, is_namespaced=_namespaced)
