"""A small model of Argo CD syncing the rendered tree on a fresh cluster, with the health checks it applies.

Pinned upstream read for every rule (cite these when changing one):
- Argo CD v3.0.6 (chart argo-cd 8.1.2, appVersion v3.0.6), argoproj/argo-cd tag v3.0.6:
  controller/health.go (Application health = worst of its resources; hooks and resources without a health check
  are skipped; Missing/Unknown of a child Application does not count), docs/operator-manual/health.md (no
  health for argoproj.io/Application since 1.8 unless `resource.customizations.health.argoproj.io_Application`),
  resource_customizations/external-secrets.io/{ExternalSecret,ClusterSecretStore}/health.lua,
  resource_customizations/cert-manager.io/ClusterIssuer/health.lua (Ready condition: True Healthy, False Degraded,
  none Progressing). There is no CloudNativePG Cluster check in v3.0.6: ours comes from argocd-cm.
- gitops-engine 89c110b5952e (argo-cd v3.0.6 go.mod), argoproj/gitops-engine:
  pkg/sync/sync_tasks.go (order: phase, wave, kind order, name; Namespaces and CRDs bubble up before the objects
  that need them), pkg/sync/sync_context.go (dry-run of every task first: an unknown kind fails the operation unless
  SkipDryRunOnMissingResource or its CRD is in the same sync; a wave's tasks must be Healthy — or, for hooks,
  complete — before the next wave; Degraded fails the operation; the last wave is not waited for when it has no
  hooks), pkg/health/health.go (healthOrder), health_hpa.go (the FIRST condition that is degraded or healthy
  decides), health_job.go, health_deployment.go, health_service.go, health_ingress.go. No CronJob check there
  (health.go GetHealthCheckFunc: batch/Job only) nor in argo-cd v3.0.6's resource_customizations: a CronJob has no
  health, so it is never waited for and never counts in the Application's health. (resource_customizations/batch/
  CronJob/health.lua arrived in v3.2.0, argo-cd d3de4435ce: Healthy until scheduled, Degraded while the last run
  failed.)
- argo-cd controller retry (spec.syncPolicy.retry): a failed operation is retried after duration * factor^n
  (capped at maxDuration) until `limit` retries are used; automated sync does not retry a failed revision itself.

The model advances in ticks of TICK seconds. Controllers (external-secrets, CloudNativePG, cert-manager,
ingress-nginx, metrics-server, the kubelet pulling images) act on the state of the previous tick, so every
dependency costs one tick. A chart Application is modelled by what the test's table says it provides (CRDs served
once applied; controllers and APIs once its workloads are Healthy) and what its values make it need (Secrets it
mounts, StorageClasses its claims use, custom resources it renders).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Document = dict[str, Any]
Key = tuple[str, str, str]  # (group/Kind, namespace, name)

TICK = 10
HEALTHY, SUSPENDED, PROGRESSING, MISSING, DEGRADED, UNKNOWN = (
    "Healthy",
    "Suspended",
    "Progressing",
    "Missing",
    "Degraded",
    "Unknown",
)
HEALTH_ORDER = (HEALTHY, SUSPENDED, PROGRESSING, MISSING, DEGRADED, UNKNOWN)  # pkg/health/health.go healthOrder

# pkg/sync/sync_tasks.go kindOrder (Helm's kind_sorter); kinds not listed sort after all of these.
KIND_ORDER = [
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
]

CLUSTER_SCOPED = {
    "/Namespace",
    "storage.k8s.io/StorageClass",
    "scheduling.k8s.io/PriorityClass",
    "apiextensions.k8s.io/CustomResourceDefinition",
    "rbac.authorization.k8s.io/ClusterRole",
    "rbac.authorization.k8s.io/ClusterRoleBinding",
    "cert-manager.io/ClusterIssuer",
    "external-secrets.io/ClusterSecretStore",
}
HOOK = "argocd.argoproj.io/hook"
WAVE = "argocd.argoproj.io/sync-wave"
SYNC_OPTIONS = "argocd.argoproj.io/sync-options"
SKIP_DRY_RUN = "SkipDryRunOnMissingResource=true"
CNPG_HEALTH = "resource.customizations.health.postgresql.cnpg.io_Cluster"
APPLICATION_HEALTH = "resource.customizations.health.argoproj.io_Application"
CHART_WORKLOADS = "model/ChartWorkloads"  # stands for the Deployments/StatefulSets a chart renders
PROGRESS_DEADLINE_SECONDS = 600  # Deployment .spec.progressDeadlineSeconds default (Kubernetes API reference)


def group_kind(document: Document) -> str:
    api_version = document["apiVersion"]
    return f"{api_version.split('/')[0] if '/' in api_version else ''}/{document['kind']}"


def lookup(values: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(values, dict) or part not in values:
            return None
        values = values[part]
    return values


@dataclass(frozen=True)
class Chart:
    """What installing a chart gives the cluster, and what our values make it need."""

    crds: frozenset[str] = frozenset()  # group/Kind served once the chart's sync applied its CRDs
    apis: frozenset[str] = frozenset()  # aggregated API groups served once its workloads are Healthy
    controllers: frozenset[str] = frozenset()  # controllers running once its workloads are Healthy
    renders: Mapping[str, str] = field(default_factory=dict)  # values path -> group/Kind rendered when truthy
    secrets: tuple[str, ...] = ()  # values paths naming Secrets (release namespace) its pods mount
    storage_classes: tuple[str, ...] = ()  # values paths naming StorageClasses its volume claims use


@dataclass
class World:
    """What the cluster and AWS hold outside the tree: the preconditions `cluster up` checks, and EKS defaults."""

    secret_values: dict[str, set[str]]  # Secrets Manager id -> keys holding a non-empty value
    charts: Mapping[str, Chart]  # chart name -> model
    unreleased_digest: str = "@sha256:" + "0" * 64
    builtin_kinds: frozenset[str] = frozenset()
    namespaces: frozenset[str] = frozenset({"default", "kube-system", "kube-public", "kube-node-lease", "argocd"})
    storage_classes: frozenset[str] = frozenset({"gp2"})  # EKS creates gp2 (in-tree provisioner)
    provisioners: frozenset[str] = frozenset({"ebs.csi.aws.com"})  # terraform/eks.tf aws-ebs-csi-driver add-on


@dataclass
class Live:
    document: Document
    app: str
    created: int


@dataclass
class Task:
    document: Document
    key: Key
    wave: int
    hook: str | None

    @property
    def phase(self) -> int:
        return {"PreSync": -1, "Sync": 0, "PostSync": 1}.get(self.hook or "Sync", 0)


@dataclass
class AppState:
    name: str
    document: Document
    targets: list[Document]
    operation: list[list[Task]] | None = None  # remaining (phase, wave) groups of the running operation
    applied: bool = False  # the first remaining group has been applied
    failures: int = 0
    retry_at: int = 0
    gave_up: bool = False
    succeeded: bool = False
    message: str = ""
    history: list[str] = field(default_factory=list)

    @property
    def options(self) -> list[str]:
        return self.document["spec"].get("syncPolicy", {}).get("syncOptions") or []

    @property
    def namespace(self) -> str:
        return str(self.document["spec"]["destination"]["namespace"])


def key_of(document: Document, default_namespace: str) -> Key:
    kind = group_kind(document)
    namespace = "" if kind in CLUSTER_SCOPED else document["metadata"].get("namespace", default_namespace)
    return kind, namespace, document["metadata"]["name"]


def annotations_of(document: Document) -> dict[str, str]:
    return document["metadata"].get("annotations") or {}


class Simulation:
    def __init__(self, files: Mapping[str, str | Document], world: World) -> None:
        import yaml

        self.world = world
        self.tree = {path: yaml.safe_load(text) if isinstance(text, str) else text for path, text in files.items()}
        self.now = 0
        self.live: dict[Key, Live] = {}
        self.served = set(world.builtin_kinds) | {"argoproj.io/Application", "argoproj.io/AppProject", CHART_WORKLOADS}
        self.namespaces = set(world.namespaces)
        self.apps: dict[str, AppState] = {}
        self.health: dict[Key, tuple[str, str] | None] = {}
        argo_cd = next(
            d for d in self.tree.values() if d["kind"] == "Application" and d["metadata"]["name"] == "argo-cd"
        )
        self.argocd_cm: dict[str, str] = argo_cd["spec"]["source"]["helm"]["valuesObject"]["configs"]["cm"]

    # ---- what the tree says each Application deploys -------------------------------------------------------

    def targets(self, application: Document) -> list[Document]:
        source = application["spec"]["source"]
        namespace = application["spec"]["destination"]["namespace"]
        if "path" in source:
            prefix = source["path"].removeprefix("manifests/") + "/"
            return [d for path, d in self.tree.items() if path.startswith(prefix)]
        chart = self.world.charts[source["chart"]]
        values = source.get("helm", {}).get("valuesObject", {})
        out: list[Document] = []
        for crd in sorted(chart.crds):
            group, kind = crd.split("/")
            out.append(
                {
                    "apiVersion": "apiextensions.k8s.io/v1",
                    "kind": "CustomResourceDefinition",
                    "metadata": {"name": f"{kind.lower()}s.{group}"},
                    "spec": {"group": group, "names": {"kind": kind}},
                }
            )
        for path, kind in sorted(chart.renders.items()):
            if lookup(values, path):
                group, name = kind.split("/")
                out.append({"apiVersion": f"{group}/v1", "kind": name, "metadata": {"name": f"{source['chart']}"}})
        out.append(
            {
                "apiVersion": "model/v1",
                "kind": "ChartWorkloads",
                "metadata": {"name": source["chart"], "namespace": namespace},
                "needs": {
                    "secrets": [s for p in chart.secrets for s in _as_list(lookup(values, p))],
                    "storage_classes": [s for p in chart.storage_classes for s in _as_list(lookup(values, p))],
                },
                "provides": {"apis": sorted(chart.apis), "controllers": sorted(chart.controllers)},
            }
        )
        return out

    # ---- health: controllers and Argo CD's checks, from the previous tick's state ------------------------------

    def healthy(self, key: Key) -> bool:
        return (self.health.get(key) or (HEALTHY, ""))[0] == HEALTHY and key in self.live

    def running(self, controller: str) -> bool:
        return any(
            controller in live.document["provides"]["controllers"] and self.healthy(key)
            for key, live in self.live.items()
            if key[0] == CHART_WORKLOADS
        )

    def api_served(self, api: str) -> bool:
        return any(
            api in live.document["provides"]["apis"] and self.healthy(key)
            for key, live in self.live.items()
            if key[0] == CHART_WORKLOADS
        )

    def secret_exists(self, namespace: str, name: str) -> bool:
        synced = {
            live.document["spec"]["target"]["name"]
            for key, live in self.live.items()
            if (key[0], key[1]) == ("external-secrets.io/ExternalSecret", namespace) and self.healthy(key)
        }
        # CloudNativePG writes <cluster>-app (user, password, uri) for the initdb owner (cnpg docs, "Secrets").
        databases = {
            f"{key[2]}-app"
            for key, live in self.live.items()
            if (key[0], key[1]) == ("postgresql.cnpg.io/Cluster", namespace) and self.cnpg_ready(live.document)
        }
        return name in synced | databases

    def storage_problem(self, storage_class: str) -> str | None:
        classes = {k[2]: v.document for k, v in self.live.items() if k[0] == "storage.k8s.io/StorageClass"}
        if storage_class in classes:
            provisioner = classes[storage_class]["provisioner"]
            return None if provisioner in self.world.provisioners else f"no provisioner {provisioner}"
        if storage_class in self.world.storage_classes:
            return None
        return f'storageclass.storage.k8s.io "{storage_class}" not found (claims stay Pending)'

    def cnpg_ready(self, cluster: Document) -> bool:
        if not self.running("cloudnative-pg"):
            return False
        spec = cluster["spec"]
        volumes = [spec.get("storage", {}), spec.get("walStorage", {})]
        return not any(self.storage_problem(v["storageClass"]) for v in volumes if v.get("storageClass"))

    def pod_problem(self, namespace: str, pod: Document) -> str | None:
        for container in pod["spec"].get("containers", []) + pod["spec"].get("initContainers", []):
            if container["image"].endswith(self.world.unreleased_digest):
                return f"ImagePullBackOff: {container['image']} was never published"
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref and not self.secret_exists(namespace, ref["name"]):
                    return f'CreateContainerConfigError: secret "{ref["name"]}" not found'
                ref = env.get("valueFrom", {}).get("configMapKeyRef")
                if ref and ("/ConfigMap", namespace, ref["name"]) not in self.live:
                    return f'CreateContainerConfigError: configmap "{ref["name"]}" not found'
        return None

    def evaluate(self, key: Key) -> tuple[str, str] | None:  # noqa: PLR0911, PLR0912 - one branch per kind
        live = self.live[key]
        document, age = live.document, self.now - live.created
        kind, namespace, name = key
        if kind == CHART_WORKLOADS:
            for secret in document["needs"]["secrets"]:
                if not self.secret_exists(namespace, secret):
                    return PROGRESSING, f'pods wait for secret "{secret}"'
            for storage_class in document["needs"]["storage_classes"]:
                if problem := self.storage_problem(storage_class):
                    return PROGRESSING, problem
            return HEALTHY, ""
        if kind == "apps/Deployment":  # health_deployment.go
            problem = self.pod_problem(namespace, document["spec"]["template"])
            if problem is None:
                return HEALTHY, ""
            deadline = document["spec"].get("progressDeadlineSeconds", PROGRESS_DEADLINE_SECONDS)
            if age >= deadline:
                return DEGRADED, f'Deployment "{name}" exceeded its progress deadline ({problem})'
            return PROGRESSING, f"Waiting for rollout to finish: 0 updated replicas are available ({problem})"
        if kind == "batch/Job":  # health_job.go: Failed condition -> Degraded, Complete -> Healthy, else Progressing
            problem = self.pod_problem(namespace, document["spec"]["template"])
            if problem is None:
                return HEALTHY, "Job completed"
            deadline = document["spec"].get("activeDeadlineSeconds")
            if deadline is not None and age >= deadline:
                return DEGRADED, f"Job was active longer than specified deadline ({problem})"
            return PROGRESSING, problem
        if kind == "batch/CronJob":
            return None  # no health check in Argo CD v3.0.6 (see the module docstring)
        if kind == "autoscaling/HorizontalPodAutoscaler":
            return self.hpa_health(namespace, document)
        if kind == "networking.k8s.io/Ingress":  # health_ingress.go: needs status.loadBalancer.ingress
            if self.running("ingress-nginx"):
                return HEALTHY, ""
            return PROGRESSING, "no load balancer address published yet"
        if kind == "/Service":  # health_service.go: only LoadBalancer waits
            if document["spec"].get("type") == "LoadBalancer" and not self.running("ingress-nginx"):
                return PROGRESSING, ""
            return HEALTHY, ""
        if kind == "external-secrets.io/ExternalSecret":
            return self.external_secret_health(namespace, document)
        if kind == "external-secrets.io/ClusterSecretStore":
            if self.running("external-secrets"):
                return HEALTHY, "store validated"
            return PROGRESSING, "Waiting for ClusterSecretStore"
        if kind == "cert-manager.io/ClusterIssuer":  # the ACME server is a stood-in: it answers
            if self.running("cert-manager"):
                return HEALTHY, "The ACME account was registered with the ACME server"
            return PROGRESSING, "Initializing ClusterIssuer"
        if kind == "postgresql.cnpg.io/Cluster":
            if CNPG_HEALTH not in self.argocd_cm:
                return None  # no built-in check in Argo CD v3.0.6
            if self.cnpg_ready(document):
                return HEALTHY, "Cluster is Ready"
            problems = [self.storage_problem(v["storageClass"]) for v in (document["spec"]["storage"],)]
            return PROGRESSING, "Waiting for the cluster to be ready" + "".join(f": {p}" for p in problems if p)
        if kind == "argoproj.io/Application":
            if APPLICATION_HEALTH not in self.argocd_cm or name not in self.apps:
                return None  # Argo CD >= 1.8: no health for Applications unless customised
            return self.app_health(self.apps[name])
        return None

    def hpa_conditions(self, namespace: str, document: Document) -> list[tuple[str, str, str, str]]:
        """(type, status, reason, message) as the HPA controller writes them: AbleToScale first, then ScalingActive."""
        target = document["spec"]["scaleTargetRef"]
        if ("apps/" + target["kind"], namespace, target["name"]) not in self.live:
            return [
                ("AbleToScale", "False", "FailedGetScale", "the HPA controller was unable to get the target's scale")
            ]
        conditions = [
            ("AbleToScale", "True", "SucceededGetScale", "the HPA controller was able to get the target's scale")
        ]
        if self.api_served("metrics.k8s.io"):
            conditions.append(
                ("ScalingActive", "True", "ValidMetricFound", "the HPA was able to compute a replica count")
            )
        else:
            message = "unable to get metrics for resource cpu: no metrics returned from resource metrics API"
            conditions.append(("ScalingActive", "False", "FailedGetResourceMetric", message))
        return conditions

    def hpa_health(self, namespace: str, document: Document) -> tuple[str, str]:
        """health_hpa.go checkConditions: the first condition that is degraded, or healthy, decides."""
        degraded = {
            ("AbleToScale", "FailedGetScale"),
            ("AbleToScale", "FailedUpdateScale"),
            ("ScalingActive", "FailedGetResourceMetric"),
            ("ScalingActive", "InvalidSelector"),
        }
        for kind, status, reason, message in self.hpa_conditions(namespace, document):
            if (kind, reason) in degraded:
                return DEGRADED, message
            if kind in {"AbleToScale", "ScalingLimited"} and status == "True":
                return HEALTHY, message
        return PROGRESSING, "Waiting to Autoscale"

    def external_secret_health(self, namespace: str, document: Document) -> tuple[str, str]:
        if not self.running("external-secrets"):
            return PROGRESSING, "Waiting for ExternalSecret"  # no status yet: the Lua check's default
        store = document["spec"]["secretStoreRef"]
        store_key = ("external-secrets.io/" + store["kind"], "", store["name"])
        if store_key not in self.live:
            return DEGRADED, f'could not get SecretStore "{store["name"]}"'
        if not self.healthy(store_key):
            return DEGRADED, f'SecretStore "{store["name"]}" is not ready'
        missing = sorted(
            f"{item['remoteRef']['key']}:{item['remoteRef']['property']}"
            for item in document["spec"].get("data", [])
            if item["remoteRef"]["property"] not in self.world.secret_values.get(item["remoteRef"]["key"], set())
        )
        if missing:
            # external-secrets says "could not get secret data from provider"; the model adds which entries lack a value
            return DEGRADED, f"could not get secret data from provider ({', '.join(missing)})"
        return HEALTHY, "Secret was synced"

    # ---- Argo CD: sync operations and Application status -------------------------------------------------------

    def tasks(self, app: AppState) -> list[list[Task]]:
        tasks = []
        for document in app.targets:
            hook = annotations_of(document).get(HOOK)
            wave = int(annotations_of(document).get(WAVE, "0"))
            tasks.append(Task(document, key_of(document, app.namespace), wave, hook))

        def order(task: Task) -> tuple[int, int, int, str]:
            kind = task.document["kind"]
            position = KIND_ORDER.index(kind) - len(KIND_ORDER) if kind in KIND_ORDER else 0
            return task.phase, task.wave, position, task.key[2]

        tasks.sort(key=order)
        # sync_tasks.go adjustDeps: a Namespace, or a CRD, moves to the wave of the first task that needs it.
        for is_dependency, needs in ((_namespace_provided, _namespace_needed), (_kind_provided, _kind_needed)):
            for task in list(tasks):
                dependency = is_dependency(task)
                first = next((t for t in tasks if dependency and needs(t) == dependency and t is not task), None)
                if dependency and first is not None and tasks.index(first) < tasks.index(task):
                    tasks.remove(task)
                    tasks.insert(tasks.index(first), task)
                    task.wave = first.wave
        groups: dict[tuple[int, int], list[Task]] = {}
        for task in tasks:
            groups.setdefault((task.phase, task.wave), []).append(task)
        return [groups[k] for k in sorted(groups)]

    def skip_dry_run(self, app: AppState, task: Task, crds_in_sync: set[str]) -> bool:
        return (
            SKIP_DRY_RUN in app.options
            or SKIP_DRY_RUN in annotations_of(task.document).get(SYNC_OPTIONS, "")
            or task.key[0] in crds_in_sync
        )

    def fail(self, app: AppState, message: str) -> None:
        """Retry with backoff (spec.syncPolicy.retry) until the limit; then the revision stays failed."""
        app.operation, app.message = None, message
        app.history.append(f"t={self.now}s failed: {message}")
        retry = app.document["spec"].get("syncPolicy", {}).get("retry")
        if retry is None or app.failures >= retry["limit"]:
            app.gave_up = True
            return
        backoff = retry.get("backoff", {})
        duration, factor = _seconds(backoff.get("duration", "5s")), backoff.get("factor", 2)
        app.retry_at = self.now + min(duration * factor**app.failures, _seconds(backoff.get("maxDuration", "3m")))
        app.failures += 1

    def apply(self, app: AppState, task: Task) -> str | None:
        kind, namespace, name = task.key
        if kind not in self.served:
            return f"{kind}: the server could not find the requested resource (no matches for kind)"
        if namespace and namespace not in self.namespaces:
            return f'namespaces "{namespace}" not found'
        if task.hook and "BeforeHookCreation" in annotations_of(task.document).get(f"{HOOK}-delete-policy", ""):
            self.live.pop(task.key, None)
        if task.key not in self.live:
            self.live[task.key] = Live(task.document, app.name, self.now)
        if kind == "apiextensions.k8s.io/CustomResourceDefinition":
            self.served.add(f"{task.document['spec']['group']}/{task.document['spec']['names']['kind']}")
        elif kind == "/Namespace":
            self.namespaces.add(name)
        elif kind == "argoproj.io/Application" and name not in self.apps:
            self.apps[name] = AppState(name, task.document, self.targets(task.document))
        return None

    def step(self, app: AppState) -> None:  # noqa: PLR0911, PLR0912 - one outcome each, as sync_context.go Sync()
        if app.operation is None:
            if app.succeeded or app.gave_up or self.now < app.retry_at:
                return
            if "CreateNamespace=true" in app.options:
                self.namespaces.add(app.namespace)
            groups = self.tasks(app)
            crds = {
                f"{t.document['spec']['group']}/{t.document['spec']['names']['kind']}"
                for g in groups
                for t in g
                if t.key[0] == "apiextensions.k8s.io/CustomResourceDefinition"
            }
            for task in (t for g in groups for t in g):
                if task.key[0] not in self.served and not self.skip_dry_run(app, task, crds):
                    self.fail(app, f"dry run: {task.key[0]} {task.key[2]}: no matches for kind")
                    return
            app.operation, app.applied = groups, False
            return
        if not app.operation:
            app.operation, app.succeeded = None, True
            return
        group = app.operation[0]
        if not app.applied:
            for task in group:
                if error := self.apply(app, task):
                    self.fail(app, f"{task.key[0]} {task.key[1]}/{task.key[2]}: {error}")
                    return
            app.applied = True
            if len(app.operation) == 1 and not any(t.hook for t in group):
                app.operation, app.succeeded = None, True  # the last wave is not waited for
            return
        waiting = []
        for task in group:
            health = self.health.get(task.key)
            status, message = health or (HEALTHY, "")
            if status == DEGRADED or (task.hook and status == UNKNOWN):
                self.fail(app, f"{task.key[0]} {task.key[1]}/{task.key[2]} is {status}: {message}")
                return
            if status != HEALTHY:
                waiting.append(f"{task.key[0]} {task.key[1]}/{task.key[2]} ({status}: {message})")
        if waiting:
            app.message = "waiting for healthy state of " + ", ".join(waiting)
            return
        app.operation, app.applied = app.operation[1:], False

    def app_health(self, app: AppState) -> tuple[str, str]:
        """controller/health.go setApplicationHealth: the worst health of the app's non-hook resources."""
        worst, why = HEALTHY, ""
        for document in app.targets:
            if annotations_of(document).get(HOOK):
                continue
            key = key_of(document, app.namespace)
            if key in self.live:
                health = self.health.get(key)
                if health is None:
                    continue
                status, message = health
            else:
                if not self.has_health_check(key[0]) or key[0] == "argoproj.io/Application":
                    continue
                status, message = MISSING, "not created"
            if HEALTH_ORDER.index(status) > HEALTH_ORDER.index(worst):
                worst, why = status, f"{key[0]} {key[1]}/{key[2]}: {message}"
        return worst, why

    def has_health_check(self, kind: str) -> bool:
        return kind in {
            "apps/Deployment",
            "batch/Job",
            "autoscaling/HorizontalPodAutoscaler",
            "networking.k8s.io/Ingress",
            "/Service",
            "external-secrets.io/ExternalSecret",
            "external-secrets.io/ClusterSecretStore",
            "cert-manager.io/ClusterIssuer",
            CHART_WORKLOADS,
        } or (kind == "postgresql.cnpg.io/Cluster" and CNPG_HEALTH in self.argocd_cm)

    def status(self, name: str) -> tuple[str, str, str]:
        """(sync status, health status, message) as `kubectl get application` would show them."""
        app = self.apps.get(name)
        if app is None:
            return "Unknown", MISSING, "the Application was never created"
        synced = app.succeeded and all(
            key_of(d, app.namespace) in self.live for d in app.targets if not annotations_of(d).get(HOOK)
        )
        health, why = self.app_health(app)
        return ("Synced" if synced else "OutOfSync"), health, why or app.message

    # ---- driving it ----------------------------------------------------------------------------------------

    def bootstrap(self) -> None:
        """`cluster up`: Argo CD is installed by Helm, then manifests/bootstrap is applied."""
        self.live[("model/ChartWorkloads", "argocd", "argo-cd")] = Live(
            {"needs": {"secrets": [], "storage_classes": []}, "provides": {"controllers": ["argo-cd"], "apis": []}},
            "helm",
            0,
        )
        for path, document in self.tree.items():
            if path.startswith("bootstrap/"):
                task = Task(document, key_of(document, "argocd"), 0, None)
                assert (
                    self.apply(AppState("kubectl", {"spec": {"destination": {"namespace": "argocd"}}}, []), task)
                    is None
                )

    def run(self, until: Iterable[str], horizon: int) -> int | None:
        """Tick until every Application in ``until`` is Synced and Healthy; the time it took, or None at the horizon."""
        wanted = list(until)
        self.bootstrap()
        while self.now <= horizon:
            self.health = {key: self.evaluate(key) for key in self.live}
            for app in list(self.apps.values()):
                self.step(app)
            if all(self.status(name)[:2] == ("Synced", HEALTHY) for name in wanted):
                return self.now
            self.now += TICK
        return None


def _namespace_provided(task: Task) -> str | None:
    return task.key[2] if task.key[0] == "/Namespace" else None


def _namespace_needed(task: Task) -> str:
    return task.key[1]


def _kind_provided(task: Task) -> str | None:
    if task.key[0] != "apiextensions.k8s.io/CustomResourceDefinition":
        return None
    return f"{task.document['spec']['group']}/{task.document['spec']['names']['kind']}"


def _kind_needed(task: Task) -> str:
    return task.key[0]


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _seconds(text: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600}
    return int(text[:-1]) * units[text[-1]]
