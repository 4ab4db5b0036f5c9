"""What runs the app: its service account, the schema migration Job, the Deployment and its scaling and disruption
limits."""

from __future__ import annotations

from hikaru import HikaruDocumentBase
from hikaru.model.rel_1_28 import v1, v2

from expense_tracker.constants import (
    APP_NAME,
    HEALTH_LIVE_PATH,
    HEALTH_READY_PATH,
    HTTP_PORT,
    HTTP_PORT_NAME,
    METRICS_PORT,
    METRICS_PORT_NAME,
)
from manifests_py.components.app.chart import MIGRATE, WEB, EnvironmentChart, Wave
from manifests_py.components.app.pod import SECRETS_AS_ENV, app_pod
from manifests_py.components.app.settings import checksum

# Both on the pod's addresses; which peers reach which port is the NetworkPolicies' job (Prometheus: metrics only).
SERVE_COMMAND = [
    *("expense-tracker", "run", "--host", "0.0.0.0", "--port", str(HTTP_PORT)),  # noqa: S104 - in-pod
    *("--metrics-host", "0.0.0.0", "--metrics-port", str(METRICS_PORT)),  # noqa: S104 - in-pod
]
MIGRATE_COMMAND = ["expense-tracker", "database", "upgrade", "--no-prompt"]


def service_account(chart: EnvironmentChart) -> v1.ServiceAccount:
    # No pod talks to the Kubernetes API: no token is mounted.
    return v1.ServiceAccount(metadata=chart.meta(APP_NAME, WEB, Wave.PREREQUISITES), automountServiceAccountToken=False)


def migration(chart: EnvironmentChart) -> v1.Job:
    """The schema migration, as a Sync hook in its own wave: after the ConfigMap, ExternalSecret and database are
    healthy — also on the very first sync, which a PreSync hook would run before any of them exist — and before the
    Deployment rolls new pods onto the new schema."""
    hook = {"argocd.argoproj.io/hook": "Sync", "argocd.argoproj.io/hook-delete-policy": "BeforeHookCreation"}
    return v1.Job(
        metadata=chart.meta(f"{APP_NAME}-migrate", MIGRATE, Wave.MIGRATION, annotations={**SECRETS_AS_ENV, **hook}),
        spec=v1.JobSpec(
            backoffLimit=3,
            activeDeadlineSeconds=600,
            ttlSecondsAfterFinished=86400,
            template=app_pod(
                chart,
                chart.labels(MIGRATE),
                container_name=MIGRATE,
                command=MIGRATE_COMMAND,
                pod={"restartPolicy": "Never"},
            ),
        ),
    )


def _probe(path: str, **timing: int) -> v1.Probe:
    return v1.Probe(httpGet=v1.HTTPGetAction(path=path, port=HTTP_PORT_NAME), **timing)


def deployment(chart: EnvironmentChart) -> v1.Deployment:
    web = chart.labels(WEB)
    serving = {
        "ports": [
            v1.ContainerPort(name=HTTP_PORT_NAME, containerPort=HTTP_PORT, protocol="TCP"),
            v1.ContainerPort(name=METRICS_PORT_NAME, containerPort=METRICS_PORT, protocol="TCP"),
        ],
        "startupProbe": _probe(HEALTH_LIVE_PATH, periodSeconds=2, failureThreshold=30),
        "readinessProbe": _probe(HEALTH_READY_PATH, periodSeconds=5, timeoutSeconds=2, failureThreshold=2),
        "livenessProbe": _probe(HEALTH_LIVE_PATH, periodSeconds=10, timeoutSeconds=2, failureThreshold=3),
        # Endpoints are removed asynchronously: keep serving while the ingress catches up.
        "lifecycle": v1.Lifecycle(preStop=v1.LifecycleHandler(exec=v1.ExecAction(command=["sleep", "5"]))),
    }
    spread = [
        v1.TopologySpreadConstraint(
            maxSkew=1,
            topologyKey=key,
            whenUnsatisfiable="ScheduleAnyway",
            labelSelector=v1.LabelSelector(matchLabels=web),
        )
        for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
    ]
    return v1.Deployment(
        metadata=chart.meta(APP_NAME, WEB, Wave.WORKLOAD, annotations=SECRETS_AS_ENV),
        spec=v1.DeploymentSpec(
            # No replicas: the HPA owns the count, and a value here would fight it on every sync.
            revisionHistoryLimit=5,
            selector=v1.LabelSelector(matchLabels=web),
            strategy=v1.DeploymentStrategy(
                type="RollingUpdate", rollingUpdate=v1.RollingUpdateDeployment(maxSurge="25%", maxUnavailable=0)
            ),
            template=app_pod(
                chart,
                web,
                container_name=APP_NAME,
                command=SERVE_COMMAND,
                # Rolls the pods when the settings change.
                annotations={"checksum/config": checksum(chart.environment)},
                container=serving,
                pod={
                    # Longer than the preStop delay plus the server's own drain of in-flight requests.
                    "terminationGracePeriodSeconds": 40,
                    "topologySpreadConstraints": spread,
                },
            ),
        ),
    )


def autoscaler(chart: EnvironmentChart) -> v2.HorizontalPodAutoscaler:
    scaling = chart.environment.autoscaling
    return v2.HorizontalPodAutoscaler(
        metadata=chart.meta(APP_NAME, WEB, Wave.WORKLOAD),
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


def disruption_budget(chart: EnvironmentChart) -> v1.PodDisruptionBudget:
    return v1.PodDisruptionBudget(
        metadata=chart.meta(APP_NAME, WEB, Wave.WORKLOAD),
        # maxUnavailable, not minAvailable: with one replica (staging) minAvailable=1 would block every node drain.
        spec=v1.PodDisruptionBudgetSpec(maxUnavailable=1, selector=v1.LabelSelector(matchLabels=chart.labels(WEB))),
    )


def build(chart: EnvironmentChart) -> list[HikaruDocumentBase]:
    return [service_account(chart), migration(chart), deployment(chart), autoscaler(chart), disruption_budget(chart)]
