"""The app in one environment: namespace, config, secrets, database, migration, workload, traffic and guard rails."""

from __future__ import annotations

import hashlib
import json

from hikaru.model.rel_1_28 import v1, v2

from expense_tracker.constants import (
    APP_NAME,
    CONTAINER_GID,
    CONTAINER_TMP_DIR,
    CONTAINER_UID,
    HEALTH_LIVE_PATH,
    HEALTH_READY_PATH,
    HTTP_PORT,
    HTTP_PORT_NAME,
    METRICS_PATH,
    METRICS_PORT,
    METRICS_PORT_NAME,
    PROMETHEUS_MULTIPROC_DIR,
)
from expense_tracker.settings import SETTING_NAMES
from manifests_py import crds, names
from manifests_py.environments import Environment, Resources
from manifests_py.objects import Manifest, app_labels, external_secret, meta, sync_wave

POSTGRES_IMAGE = "ghcr.io/cloudnative-pg/postgresql:16.9"
"""PostgreSQL image for CloudNativePG instances, pinned (the operator's default moves with operator upgrades)."""
POSTGRES_PORT = 5432
CNPG_STATUS_PORT = 8000  # the instance manager's status endpoint, which the operator polls
CNPG_METRICS_PORT = 9187
DATABASE_NAME = "app"
DATABASE_OWNER = "app"

WEB = "web"
MIGRATE = "migrate"
APP_SECRET = f"{APP_NAME}-app"
APP_CONFIG = f"{APP_NAME}-config"
TMP_VOLUME = "tmp"
DEVELOPERS_ROLE = "developers-read-only"


def database_secret(environment: Environment) -> str:
    """The Secret CloudNativePG creates with the owner's credentials; its ``uri`` key is a libpq URI."""
    return f"{names.database_cluster(environment.name)}-app"


def config_data(environment: Environment) -> dict[str, str]:
    """Non-secret settings, by the names the app's settings catalogue defines."""
    data = {
        "APP_ENV": "production",
        "PUBLIC_URL": environment.public_url,
        "DEV_LOGIN": "false",
        "LOG_LEVEL": environment.log_level,
        "WEB_CONCURRENCY": str(environment.web_concurrency),
        "PROMETHEUS_MULTIPROC_DIR": PROMETHEUS_MULTIPROC_DIR,
        # One proxy in front of the pods: ingress-nginx (the NLB keeps client addresses, externalTrafficPolicy Local).
        # Its X-Forwarded-For entry is the client's address; without this every sign-in would count as the proxy's.
        "TRUSTED_PROXY_HOPS": "1",
    }
    if environment.sign_in.oidc:
        data["OIDC_DISCOVERY_URL"] = environment.sign_in.oidc.discovery_url
        data["OIDC_PROVIDER_NAME"] = environment.sign_in.oidc.name
    return data


def secret_keys(environment: Environment) -> list[str]:
    """Settings the ExternalSecret copies from Secrets Manager. Client ids live beside their secrets in the store, so
    the pair an operator registers with a provider is rotated in one place."""
    keys = ["SECRET_KEY"]
    if environment.sign_in.google:
        keys += ["GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET"]
    if environment.sign_in.oidc:
        keys += ["OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET"]
    return keys


def container_env(environment: Environment) -> list[v1.EnvVar]:
    env = [
        v1.EnvVar(
            name=key, valueFrom=v1.EnvVarSource(configMapKeyRef=v1.ConfigMapKeySelector(name=APP_CONFIG, key=key))
        )
        for key in sorted(config_data(environment))
    ]
    env += [
        v1.EnvVar(name=key, valueFrom=v1.EnvVarSource(secretKeyRef=v1.SecretKeySelector(name=APP_SECRET, key=key)))
        for key in secret_keys(environment)
    ]
    env.append(
        v1.EnvVar(
            name="DATABASE_URL",
            valueFrom=v1.EnvVarSource(secretKeyRef=v1.SecretKeySelector(name=database_secret(environment), key="uri")),
        )
    )
    unknown = {item.name for item in env} - SETTING_NAMES
    if unknown:
        raise ValueError(f"env names the app does not read: {sorted(unknown)}")
    return env


def _restricted_container_security() -> v1.SecurityContext:
    return v1.SecurityContext(
        allowPrivilegeEscalation=False,
        readOnlyRootFilesystem=True,
        runAsNonRoot=True,
        capabilities=v1.Capabilities(drop=["ALL"]),
        seccompProfile=v1.SeccompProfile(type="RuntimeDefault"),
    )


def _pod_security() -> v1.PodSecurityContext:
    return v1.PodSecurityContext(
        runAsNonRoot=True,
        runAsUser=CONTAINER_UID,
        runAsGroup=CONTAINER_GID,
        fsGroup=CONTAINER_GID,
        seccompProfile=v1.SeccompProfile(type="RuntimeDefault"),
    )


def _resources(resources: Resources) -> v1.ResourceRequirements:
    return v1.ResourceRequirements(
        requests={"cpu": resources.cpu_request, "memory": resources.memory_request},
        limits={"cpu": resources.cpu_limit, "memory": resources.memory_limit},
    )


def _tmp_volume() -> v1.Volume:
    return v1.Volume(name=TMP_VOLUME, emptyDir=v1.EmptyDirVolumeSource(sizeLimit="256Mi"))


def _tmp_mount() -> v1.VolumeMount:
    return v1.VolumeMount(name=TMP_VOLUME, mountPath=CONTAINER_TMP_DIR)


# Both on the pod's addresses; which peers reach which port is the NetworkPolicies' job (Prometheus: metrics only).
SERVE_COMMAND = [
    *("expense-tracker", "run", "--host", "0.0.0.0", "--port", str(HTTP_PORT)),  # noqa: S104 - in-pod
    *("--metrics-host", "0.0.0.0", "--metrics-port", str(METRICS_PORT)),  # noqa: S104 - in-pod
]
MIGRATE_COMMAND = ["expense-tracker", "database", "upgrade", "--no-prompt"]

# checkov skips are annotations on the object they concern, each with its reason.
SECRETS_AS_ENV = {
    "checkov.io/skip1": "CKV_K8S_35=the app reads its settings from the environment (12-factor); the values come from "
    "an ExternalSecret, are never in git, and only the container's own process sees them"
}


def namespace(environment: Environment) -> v1.Namespace:
    pod_security = {f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "audit", "warn")}
    return v1.Namespace(metadata=meta(names.app_namespace(environment.name), labels=pod_security))


def build(environment: Environment) -> list[Manifest]:
    ns = names.app_namespace(environment.name)
    area = f"apps/{environment.name}"
    web = app_labels(environment.name, WEB)
    migrate = app_labels(environment.name, MIGRATE)
    cluster_name = names.database_cluster(environment.name)
    config = config_data(environment)
    env = container_env(environment)
    # Rolling the pods when config changes: the hash covers the ConfigMap data and which secret keys are read.
    checksum = hashlib.sha256(
        json.dumps({"config": config, "secrets": secret_keys(environment)}, sort_keys=True).encode()
    ).hexdigest()

    out: list[Manifest] = []

    def add(obj: object) -> None:
        out.append(Manifest(area, obj))

    add(namespace(environment))
    add(
        v1.ServiceAccount(
            metadata=meta(APP_NAME, ns, labels=web, annotations=sync_wave(-2)),
            automountServiceAccountToken=False,
        )
    )
    add(v1.ConfigMap(metadata=meta(APP_CONFIG, ns, labels=web, annotations=sync_wave(-2)), data=config))
    add(
        external_secret(
            meta(APP_SECRET, ns, labels=web, annotations=sync_wave(-2)),
            names.app_secret_id(environment.name),
            secret_keys(environment),
        )
    )
    database = environment.database
    add(
        crds.Cluster(
            metadata=meta(cluster_name, ns, labels=app_labels(environment.name, "database"), annotations=sync_wave(-1)),
            spec=crds.ClusterSpec(
                instances=database.instances,
                imageName=POSTGRES_IMAGE,
                primaryUpdateStrategy="unsupervised",
                enableSuperuserAccess=False,
                storage=crds.StorageConfiguration(size=database.storage, storageClass=names.STORAGE_CLASS),
                walStorage=crds.StorageConfiguration(size=database.wal_storage, storageClass=names.STORAGE_CLASS),
                bootstrap=crds.Bootstrap(initdb=crds.InitDB(database=DATABASE_NAME, owner=DATABASE_OWNER)),
                resources=_resources(database.resources),
                affinity=crds.ClusterAffinity(
                    enablePodAntiAffinity=True,
                    topologyKey="topology.kubernetes.io/zone",
                    # Production spreads primary and standby over zones or does not schedule; one instance can't.
                    podAntiAffinityType="required" if database.instances > 1 else "preferred",
                    # A Spot reclaim gives two minutes' notice: too little for a primary. Instances run on the
                    # on-demand nodes, one per zone (issue #11, defect 9).
                    nodeSelector=dict(names.ON_DEMAND_NODES),
                ),
                priorityClassName=names.DATABASE_PRIORITY_CLASS,
                postgresql=crds.PostgresConfiguration(
                    parameters={"max_connections": "200", "log_min_duration_statement": "1000"}
                ),
                monitoring=crds.ClusterMonitoring(enablePodMonitor=True),
                # CNPG's primary PDB on a single instance blocks every node drain (there is no standby to promote).
                enablePDB=False if database.instances == 1 else None,
                serviceAccountTemplate=crds.ServiceAccountTemplate(
                    metadata=v1.ObjectMeta(
                        annotations={"eks.amazonaws.com/role-arn": environment.database_backup_role_arn}
                    )
                ),
                backup=crds.BackupConfiguration(
                    retentionPolicy=database.retention,
                    barmanObjectStore=crds.BarmanObjectStore(
                        destinationPath=f"s3://{environment.infrastructure.backup_bucket}/{environment.name}",
                        s3Credentials=crds.S3Credentials(inheritFromIAMRole=True),
                        wal=crds.Compression(compression="gzip"),
                        data=crds.Compression(compression="gzip"),
                    ),
                ),
            ),
        )
    )
    add(
        crds.ScheduledBackup(
            metadata=meta(
                f"{cluster_name}-daily", ns, labels=app_labels(environment.name, "database"), annotations=sync_wave(-1)
            ),
            spec=crds.ScheduledBackupSpec(
                schedule=database.backup_schedule,
                cluster=crds.SecretKeyName(name=cluster_name),
                method="barmanObjectStore",
                backupOwnerReference="self",
                immediate=True,
            ),
        )
    )
    # The migration runs as a Sync hook in wave 1: after the ConfigMap, ExternalSecret and database (waves -2/-1) are
    # healthy — also on the very first sync, which a PreSync hook would run before any of them exist — and before the
    # Deployment (wave 2) rolls new pods onto the new schema.
    add(
        v1.Job(
            metadata=meta(
                f"{APP_NAME}-migrate",
                ns,
                labels=migrate,
                annotations={
                    **SECRETS_AS_ENV,
                    "argocd.argoproj.io/hook": "Sync",
                    "argocd.argoproj.io/hook-delete-policy": "BeforeHookCreation",
                    **sync_wave(1),
                },
            ),
            spec=v1.JobSpec(
                backoffLimit=3,
                activeDeadlineSeconds=600,
                ttlSecondsAfterFinished=86400,
                template=v1.PodTemplateSpec(
                    metadata=v1.ObjectMeta(labels=migrate),
                    spec=v1.PodSpec(
                        serviceAccountName=APP_NAME,
                        automountServiceAccountToken=False,
                        restartPolicy="Never",
                        securityContext=_pod_security(),
                        containers=[
                            v1.Container(
                                name=MIGRATE,
                                image=environment.image,
                                command=MIGRATE_COMMAND,
                                env=env,
                                resources=_resources(environment.resources),
                                securityContext=_restricted_container_security(),
                                volumeMounts=[_tmp_mount()],
                            )
                        ],
                        volumes=[_tmp_volume()],
                    ),
                ),
            ),
        )
    )
    ports = [
        v1.ContainerPort(name=HTTP_PORT_NAME, containerPort=HTTP_PORT, protocol="TCP"),
        v1.ContainerPort(name=METRICS_PORT_NAME, containerPort=METRICS_PORT, protocol="TCP"),
    ]
    add(
        v1.Deployment(
            metadata=meta(APP_NAME, ns, labels=web, annotations={**SECRETS_AS_ENV, **sync_wave(2)}),
            spec=v1.DeploymentSpec(
                # No replicas: the HPA owns the count, and a value here would fight it on every sync.
                revisionHistoryLimit=5,
                selector=v1.LabelSelector(matchLabels=web),
                strategy=v1.DeploymentStrategy(
                    type="RollingUpdate", rollingUpdate=v1.RollingUpdateDeployment(maxSurge="25%", maxUnavailable=0)
                ),
                template=v1.PodTemplateSpec(
                    metadata=v1.ObjectMeta(labels=web, annotations={"checksum/config": checksum}),
                    spec=v1.PodSpec(
                        serviceAccountName=APP_NAME,
                        automountServiceAccountToken=False,
                        securityContext=_pod_security(),
                        # Longer than the preStop delay plus the server's own drain of in-flight requests.
                        terminationGracePeriodSeconds=40,
                        topologySpreadConstraints=[
                            v1.TopologySpreadConstraint(
                                maxSkew=1,
                                topologyKey=key,
                                whenUnsatisfiable="ScheduleAnyway",
                                labelSelector=v1.LabelSelector(matchLabels=web),
                            )
                            for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
                        ],
                        containers=[
                            v1.Container(
                                name=APP_NAME,
                                image=environment.image,
                                command=SERVE_COMMAND,
                                ports=ports,
                                env=env,
                                resources=_resources(environment.resources),
                                securityContext=_restricted_container_security(),
                                volumeMounts=[_tmp_mount()],
                                startupProbe=v1.Probe(
                                    httpGet=v1.HTTPGetAction(path=HEALTH_LIVE_PATH, port=HTTP_PORT_NAME),
                                    periodSeconds=2,
                                    failureThreshold=30,
                                ),
                                readinessProbe=v1.Probe(
                                    httpGet=v1.HTTPGetAction(path=HEALTH_READY_PATH, port=HTTP_PORT_NAME),
                                    periodSeconds=5,
                                    timeoutSeconds=2,
                                    failureThreshold=2,
                                ),
                                livenessProbe=v1.Probe(
                                    httpGet=v1.HTTPGetAction(path=HEALTH_LIVE_PATH, port=HTTP_PORT_NAME),
                                    periodSeconds=10,
                                    timeoutSeconds=2,
                                    failureThreshold=3,
                                ),
                                # Endpoints are removed asynchronously: keep serving while the ingress catches up.
                                lifecycle=v1.Lifecycle(
                                    preStop=v1.LifecycleHandler(exec=v1.ExecAction(command=["sleep", "5"]))
                                ),
                            )
                        ],
                        volumes=[_tmp_volume()],
                    ),
                ),
            ),
        )
    )
    add(
        v1.Service(
            metadata=meta(APP_NAME, ns, labels=web, annotations=sync_wave(2)),
            spec=v1.ServiceSpec(
                type="ClusterIP",
                selector=web,
                # The metrics port is here for the ServiceMonitor; the Ingress routes only the http port.
                ports=[
                    v1.ServicePort(name=name, port=number, targetPort=name, protocol="TCP")
                    for name, number in ((HTTP_PORT_NAME, HTTP_PORT), (METRICS_PORT_NAME, METRICS_PORT))
                ],
            ),
        )
    )
    backend = v1.IngressBackend(
        service=v1.IngressServiceBackend(name=APP_NAME, port=v1.ServiceBackendPort(name=HTTP_PORT_NAME))
    )
    add(
        v1.Ingress(
            metadata=meta(
                APP_NAME,
                ns,
                labels=web,
                annotations={
                    "cert-manager.io/cluster-issuer": environment.tls_issuer,
                    "nginx.ingress.kubernetes.io/proxy-body-size": "6m",  # CSV imports up to 5 MiB
                    **sync_wave(2),
                },
            ),
            spec=v1.IngressSpec(
                ingressClassName="nginx",
                tls=[v1.IngressTLS(hosts=[environment.host], secretName=f"{APP_NAME}-tls")],
                rules=[
                    v1.IngressRule(
                        host=environment.host,
                        http=v1.HTTPIngressRuleValue(
                            # One Prefix "/" covers the API too: a second "/api" path to the same backend only
                            # duplicated the route.
                            paths=[v1.HTTPIngressPath(path="/", pathType="Prefix", backend=backend)]
                        ),
                    )
                ],
            ),
        )
    )
    scaling = environment.autoscaling
    add(
        v2.HorizontalPodAutoscaler(
            metadata=meta(APP_NAME, ns, labels=web, annotations=sync_wave(2)),
            spec=v2.HorizontalPodAutoscalerSpec(
                scaleTargetRef=v2.CrossVersionObjectReference(apiVersion="apps/v1", kind="Deployment", name=APP_NAME),
                minReplicas=scaling.min_replicas,
                maxReplicas=scaling.max_replicas,
                # CPU only: a Python worker keeps the memory it once used (allocator arenas), so a memory target
                # scales out under load and never scales back in.
                metrics=[
                    v2.MetricSpec(
                        type="Resource",
                        resource=v2.ResourceMetricSource(
                            name="cpu",
                            target=v2.MetricTarget(type="Utilization", averageUtilization=scaling.cpu_utilization),
                        ),
                    )
                ],
            ),
        )
    )
    add(
        v1.PodDisruptionBudget(
            metadata=meta(APP_NAME, ns, labels=web, annotations=sync_wave(2)),
            # maxUnavailable, not minAvailable: with one replica (staging) minAvailable=1 would block every node drain.
            spec=v1.PodDisruptionBudgetSpec(maxUnavailable=1, selector=v1.LabelSelector(matchLabels=web)),
        )
    )
    add(
        crds.ServiceMonitor(
            metadata=meta(APP_NAME, ns, labels={**web, **names.PROMETHEUS_SELECTOR_LABELS}, annotations=sync_wave(2)),
            spec=crds.ServiceMonitorSpec(
                selector=v1.LabelSelector(matchLabels=web),
                namespaceSelector=crds.NamespaceSelector(matchNames=[ns]),
                endpoints=[
                    crds.Endpoint(port=METRICS_PORT_NAME, path=METRICS_PATH, interval="30s", scrapeTimeout="10s")
                ],
            ),
        )
    )
    out += [Manifest(area, policy) for policy in network_policies(environment)]
    out += [Manifest(area, obj) for obj in developer_access(environment)]
    return out


def _peer(namespace_name: str | None = None, pod_labels: dict[str, str] | None = None) -> v1.NetworkPolicyPeer:
    return v1.NetworkPolicyPeer(
        namespaceSelector=v1.LabelSelector(matchLabels={"kubernetes.io/metadata.name": namespace_name})
        if namespace_name
        else None,
        podSelector=v1.LabelSelector(matchLabels=pod_labels) if pod_labels else None,
    )


def _ports(*ports: int | str, protocol: str = "TCP") -> list[v1.NetworkPolicyPort]:
    return [v1.NetworkPolicyPort(port=port, protocol=protocol) for port in ports]


# Outside the cluster, but not the VPC or other private ranges: identity providers, S3 and Secrets Manager endpoints.
PUBLIC_INTERNET = v1.NetworkPolicyPeer(
    ipBlock=v1.IPBlock(cidr="0.0.0.0/0", except_=["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"])
)


def network_policies(environment: Environment) -> list[v1.NetworkPolicy]:
    """Default deny, then exactly the flows the app and its database need."""
    ns = names.app_namespace(environment.name)
    web = app_labels(environment.name, WEB)
    migrate = app_labels(environment.name, MIGRATE)
    database = {"cnpg.io/cluster": names.database_cluster(environment.name)}
    dns = v1.NetworkPolicyEgressRule(
        to=[_peer("kube-system", {"k8s-app": "kube-dns"})], ports=_ports(53, protocol="UDP") + _ports(53)
    )

    def policy(
        name: str,
        selector: dict[str, str],
        *,
        ingress: list[v1.NetworkPolicyIngressRule] | None = None,
        egress: list[v1.NetworkPolicyEgressRule] | None = None,
    ) -> v1.NetworkPolicy:
        types = [kind for kind, rules in (("Ingress", ingress), ("Egress", egress)) if rules is not None]
        return v1.NetworkPolicy(
            metadata=meta(name, ns, labels=web, annotations=sync_wave(-2)),
            spec=v1.NetworkPolicySpec(
                podSelector=v1.LabelSelector(matchLabels=selector or None),
                policyTypes=types,
                ingress=ingress or None,
                egress=egress or None,
            ),
        )

    from_prometheus = _peer(names.MONITORING_NAMESPACE, {"app.kubernetes.io/name": "prometheus"})
    return [
        policy("default-deny", {}, ingress=[], egress=[]),
        policy("allow-dns", {}, egress=[dns]),
        policy(
            "web-ingress",
            web,
            ingress=[
                v1.NetworkPolicyIngressRule(
                    from_=[_peer(names.INGRESS_NAMESPACE, {"app.kubernetes.io/name": "ingress-nginx"})],
                    ports=_ports(HTTP_PORT),
                ),
                # Prometheus scrapes the metrics port and nothing else; the app's port is for the ingress only.
                v1.NetworkPolicyIngressRule(from_=[from_prometheus], ports=_ports(METRICS_PORT)),
            ],
        ),
        policy(
            "web-egress",
            web,
            egress=[
                v1.NetworkPolicyEgressRule(to=[_peer(pod_labels=database)], ports=_ports(POSTGRES_PORT)),
                v1.NetworkPolicyEgressRule(to=[PUBLIC_INTERNET], ports=_ports(443)),
            ],
        ),
        policy(
            "migrate-egress",
            migrate,
            egress=[v1.NetworkPolicyEgressRule(to=[_peer(pod_labels=database)], ports=_ports(POSTGRES_PORT))],
        ),
        policy(
            "database-ingress",
            database,
            ingress=[
                v1.NetworkPolicyIngressRule(
                    from_=[_peer(pod_labels=web), _peer(pod_labels=migrate), _peer(pod_labels=database)],
                    ports=_ports(POSTGRES_PORT),
                ),
                v1.NetworkPolicyIngressRule(
                    from_=[_peer(names.CNPG_NAMESPACE, {"app.kubernetes.io/name": "cloudnative-pg"})],
                    ports=_ports(CNPG_STATUS_PORT),
                ),
                v1.NetworkPolicyIngressRule(from_=[from_prometheus], ports=_ports(CNPG_METRICS_PORT)),
            ],
        ),
        policy(
            "database-egress",
            database,
            egress=[
                v1.NetworkPolicyEgressRule(to=[_peer(pod_labels=database)], ports=_ports(POSTGRES_PORT)),
                # The instance manager talks to the Kubernetes API (inside the VPC) and backups go to S3: both 443.
                v1.NetworkPolicyEgressRule(ports=_ports(443)),
            ],
        ),
    ]


def developer_access(environment: Environment) -> list[object]:
    """Developers may read everything in the app's namespace except Secrets."""
    ns = names.app_namespace(environment.name)
    web = app_labels(environment.name, WEB)
    rules = [
        v1.PolicyRule(
            apiGroups=[""],
            resources=[
                "pods",
                "pods/log",
                "services",
                "endpoints",
                "configmaps",
                "events",
                "persistentvolumeclaims",
                "serviceaccounts",
            ],
            verbs=["get", "list", "watch"],
        ),
        v1.PolicyRule(apiGroups=["apps"], resources=["deployments", "replicasets"], verbs=["get", "list", "watch"]),
        v1.PolicyRule(apiGroups=["batch"], resources=["jobs"], verbs=["get", "list", "watch"]),
        v1.PolicyRule(
            apiGroups=["networking.k8s.io"], resources=["ingresses", "networkpolicies"], verbs=["get", "list", "watch"]
        ),
        v1.PolicyRule(
            apiGroups=["autoscaling"], resources=["horizontalpodautoscalers"], verbs=["get", "list", "watch"]
        ),
        v1.PolicyRule(apiGroups=["policy"], resources=["poddisruptionbudgets"], verbs=["get", "list", "watch"]),
        v1.PolicyRule(
            apiGroups=["postgresql.cnpg.io"],
            resources=["clusters", "backups", "scheduledbackups"],
            verbs=["get", "list", "watch"],
        ),
        v1.PolicyRule(apiGroups=["external-secrets.io"], resources=["externalsecrets"], verbs=["get", "list", "watch"]),
        v1.PolicyRule(
            apiGroups=["monitoring.coreos.com"],
            resources=["servicemonitors", "prometheusrules"],
            verbs=["get", "list", "watch"],
        ),
    ]
    return [
        v1.Role(metadata=meta(DEVELOPERS_ROLE, ns, labels=web, annotations=sync_wave(-2)), rules=rules),
        v1.RoleBinding(
            metadata=meta(DEVELOPERS_ROLE, ns, labels=web, annotations=sync_wave(-2)),
            roleRef=v1.RoleRef(apiGroup="rbac.authorization.k8s.io", kind="Role", name=DEVELOPERS_ROLE),
            subjects=[v1.Subject(kind="Group", name=names.DEVELOPER_GROUP, apiGroup="rbac.authorization.k8s.io")],
        ),
    ]
