"""Platform charts as ArgoCD Helm Applications: exact chart versions, values inline, nothing installed by hand.

Chart versions are exact so an upgrade is a reviewed one-line diff here; the CRD schemas the tests validate custom
resources against (tests/data/crd-schemas, recorded in its SOURCES.toml) are those of these charts' CRDs, and a test
fails when a pin here and that record disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from manifests_py import crds, names
from manifests_py.components.gitops import (
    APPLICATIONS_AREA,
    WAVE_CLUSTER_CONFIG,
    WAVE_CRD_OWNERS,
    application,
)
from manifests_py.environments import Infrastructure, Ops
from manifests_py.objects import Manifest

IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"
GRAFANA_ADMIN_SECRET = "grafana-admin"  # noqa: S105 - a Secret name, not a value
ALERTMANAGER_SECRET = "alertmanager-receivers"  # noqa: S105 - a Secret name, not a value
# kube-prometheus-stack mounts each Secret in alertmanagerSpec.secrets here (prometheus-operator's convention).
ALERTMANAGER_SECRETS_DIR = f"/etc/alertmanager/secrets/{ALERTMANAGER_SECRET}"
ARGOCD_ADMINS_POLICY = f"g, {names.ADMIN_GROUP}, role:admin"

# ArgoCD has no built-in health check for CloudNativePG clusters; without one a Cluster is "Healthy" the moment it
# exists and the migration hook (wave 1) would start before PostgreSQL accepts connections.
CNPG_CLUSTER_HEALTH_LUA = """hs = {status = "Progressing", message = "Waiting for the cluster to be ready"}
if obj.status ~= nil and obj.status.conditions ~= nil then
  for _, condition in ipairs(obj.status.conditions) do
    if condition.type == "Ready" and condition.status == "True" then
      hs.status = "Healthy"
      hs.message = condition.message
    elseif condition.type == "Ready" and condition.status == "False" and obj.status.phase ~= nil then
      hs.message = obj.status.phase
    end
  end
end
return hs
"""


@dataclass(frozen=True)
class Chart:
    name: str
    repository: str
    chart: str
    version: str
    namespace: str
    wave: int
    sync_options: tuple[str, ...] = ("CreateNamespace=true",)
    cascade_delete: bool = True


# Chart 10.1.1 = Argo CD v3.4.4 (appVersion), the newest argo-cd chart in argoproj/argo-helm (tag argo-cd-10.1.1,
# af0a9310bacbaa4636018dfe22c801a6d33a5c43, charts/argo-cd/Chart.yaml). Argo CD supports its three newest minors
# (3.5, 3.4, 3.3 at argoproj/argo-cd 37ee0097, docs/operator-manual/upgrading/); 3.0 (chart 8.1.2) no longer is.
# Chart 9.0.0 dropped the configs.params defaults but still renders what we set; 10.0.0 turns
# global.networkPolicy.create on (ingress-only policies: the server takes any source, metrics any namespace) - both
# from charts/argo-cd/README.md "Changelog". The 3.2 -> 3.3 upgrade needs ServerSideApply (set below).
ARGO_CD = Chart(
    "argo-cd",
    "https://argoproj.github.io/argo-helm",
    "argo-cd",
    "10.1.1",
    names.ARGOCD_NAMESPACE,
    WAVE_CRD_OWNERS,
    ("CreateNamespace=true", "ServerSideApply=true"),
    # Deleting ArgoCD's own Application must never uninstall ArgoCD from under itself.
    cascade_delete=False,
)
INGRESS_NGINX = Chart(
    "ingress-nginx",
    "https://kubernetes.github.io/ingress-nginx",
    "ingress-nginx",
    "4.12.3",
    names.INGRESS_NAMESPACE,
    WAVE_CLUSTER_CONFIG,
)
CERT_MANAGER = Chart(
    "cert-manager",
    "https://charts.jetstack.io",
    "cert-manager",
    "v1.18.1",
    names.CERT_MANAGER_NAMESPACE,
    WAVE_CRD_OWNERS,
    ("CreateNamespace=true", "ServerSideApply=true"),
)
KUBE_PROMETHEUS_STACK = Chart(
    names.PROMETHEUS_RELEASE,
    "https://prometheus-community.github.io/helm-charts",
    "kube-prometheus-stack",
    "75.6.1",
    names.MONITORING_NAMESPACE,
    WAVE_CRD_OWNERS,  # ServiceMonitor, PodMonitor, PrometheusRule: every other chart creates some
    # Its CRDs exceed the 256 KiB client-side-apply annotation limit.
    ("CreateNamespace=true", "ServerSideApply=true"),
)
# The newest cluster-autoscaler release for Kubernetes 1.35 (names.EKS_VERSION): tag cluster-autoscaler-1.35.2
# (2d42588803c71fe9b35dcd9e3669ac6bb550ca22, 2026-07-22) in kubernetes/autoscaler; 1.36.1 is for Kubernetes 1.36.
# A literal, not derived from EKS_VERSION: a bump of the cluster must look up the newest patch of the new minor.
CLUSTER_AUTOSCALER_IMAGE_TAG = "v1.35.2"
# Chart 9.59.0 (tag cluster-autoscaler-chart-9.59.0, 5a0b98e45f896e98132737240ac131a519d3b33d; the chart moved to
# cluster-autoscaler/charts/cluster-autoscaler/ after 9.51.0) is built for 1.35 (appVersion 1.35.0) and grants the
# RBAC the 1.34+ autoscaler needs (resource.k8s.io resourceslices/deviceclasses/resourceclaims); 9.47.0 was for 1.33.
CLUSTER_AUTOSCALER = Chart(
    "cluster-autoscaler",
    "https://kubernetes.github.io/autoscaler",
    "cluster-autoscaler",
    "9.59.0",
    names.AUTOSCALER_NAMESPACE,
    WAVE_CLUSTER_CONFIG,
)
EXTERNAL_SECRETS = Chart(
    "external-secrets",
    "https://charts.external-secrets.io",
    "external-secrets",
    "0.18.1",
    names.EXTERNAL_SECRETS_NAMESPACE,
    WAVE_CRD_OWNERS,
    ("CreateNamespace=true", "ServerSideApply=true"),
)
# Chart 0.29.0 = CloudNativePG 1.30.0 (cloudnative-pg/charts tag cloudnative-pg-v0.29.0,
# d1b5ad60cee2d9432a9cc05627b42a8d8dc7bbae), the newest chart; 1.30.x is the only supported minor on 2026-12
# (1.29 EOL 29 Sep 2026, 1.30 supports Kubernetes 1.34-1.36: cloudnative-pg/cloudnative-pg a95a534d,
# docs/src/supported_releases.md). 1.30 still has the in-tree barmanObjectStore; 1.31 removes it
# (docs/src/release_notes/v1.30.md "Important changes").
CLOUDNATIVE_PG = Chart(
    "cloudnative-pg",
    "https://cloudnative-pg.github.io/charts",
    "cloudnative-pg",
    "0.29.0",
    names.CNPG_NAMESPACE,
    WAVE_CRD_OWNERS,
    ("CreateNamespace=true", "ServerSideApply=true"),
)
EXTERNAL_DNS = Chart(
    "external-dns",
    "https://kubernetes-sigs.github.io/external-dns/",
    "external-dns",
    "1.17.0",
    names.EXTERNAL_DNS_NAMESPACE,
    WAVE_CLUSTER_CONFIG,
)
# Serves the resource metrics API the HPAs scale on; without it they report FailedGetResourceMetric and Argo CD marks
# them Degraded. A chart (not the EKS add-on) so its version and requests are reviewed here with the others.
METRICS_SERVER = Chart(
    "metrics-server",
    "https://kubernetes-sigs.github.io/metrics-server/",
    "metrics-server",
    "3.12.2",
    names.METRICS_SERVER_NAMESPACE,
    WAVE_CLUSTER_CONFIG,
)

CHARTS = (
    ARGO_CD,
    INGRESS_NGINX,
    CERT_MANAGER,
    KUBE_PROMETHEUS_STACK,
    CLUSTER_AUTOSCALER,
    EXTERNAL_SECRETS,
    CLOUDNATIVE_PG,
    EXTERNAL_DNS,
    METRICS_SERVER,
)


def ops_host(infrastructure: Infrastructure) -> str:
    """Operators' host: ArgoCD at `/`, Grafana at `/grafana`."""
    return f"ops.{infrastructure.domain_zone}"


def _resources(cpu: str, memory: str, memory_limit: str) -> dict[str, Any]:
    """Requests so the cluster autoscaler sees the demand; a memory cap so one leak cannot starve a node; no CPU
    limit (throttling a controller under load only makes it slower to catch up)."""
    return {"resources": {"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": memory_limit}}}


def _service_account(name: str, role_arn: str) -> dict[str, Any]:
    return {"create": True, "name": name, "annotations": {IRSA_ANNOTATION: role_arn}}


def _ops_ingress_annotations(ops: Ops) -> dict[str, str]:
    # Grafana's only sign-in is a local admin and Argo CD's UI is a way into the cluster: the ops host answers only
    # the operators' networks (client addresses survive the NLB: externalTrafficPolicy Local).
    return {
        "cert-manager.io/cluster-issuer": names.LETSENCRYPT_PRODUCTION,
        "nginx.ingress.kubernetes.io/whitelist-source-range": ",".join(ops.allowed_source_ranges),
    }


def _tls_ingress(host: str, path: str, secret: str, ops: Ops) -> dict[str, Any]:
    return {
        "enabled": True,
        "ingressClassName": "nginx",
        "annotations": _ops_ingress_annotations(ops),
        "hosts": [host],
        "path": path,
        "tls": [{"hosts": [host], "secretName": secret}],
    }


def _slack(key: str) -> dict[str, Any]:
    return {
        "api_url_file": f"{ALERTMANAGER_SECRETS_DIR}/{key}",
        "send_resolved": True,
        "title": "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} {{ .CommonLabels.namespace }}",
        "text": "{{ range .Alerts }}{{ .Annotations.summary }}\n{{ .Annotations.runbook_url }}\n{{ end }}",
    }


def alertmanager_config() -> dict[str, Any]:
    """Critical alerts to one channel, everything else that has news in it to another; nothing is dropped.

    The chart's default sends everything to a "null" receiver. Here the root receiver is the warning channel so an
    alert with a missing or unexpected severity still reaches a person; only the chart's plumbing alerts (Watchdog,
    which always fires by design, and InfoInhibitor) go to "null".
    """
    critical_key, warning_key = names.ALERTMANAGER_SECRET_KEYS
    return {
        "global": {"resolve_timeout": "5m"},
        "route": {
            "receiver": "warning",
            "group_by": ["namespace", "alertname"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "12h",
            "routes": [
                {"receiver": "null", "matchers": ['alertname =~ "Watchdog|InfoInhibitor"']},
                {"receiver": "critical", "matchers": ['severity = "critical"'], "repeat_interval": "1h"},
                {"receiver": "warning", "matchers": ['severity =~ "warning|info"']},
            ],
        },
        "inhibit_rules": [
            # A critical alert mutes the warning of the same alert in the same namespace (e.g. a volume 95% full
            # mutes "80% full"): one problem, one message.
            {
                "source_matchers": ['severity = "critical"'],
                "target_matchers": ['severity =~ "warning|info"'],
                "equal": ["namespace", "alertname"],
            },
            {
                "source_matchers": ['severity = "warning"'],
                "target_matchers": ['severity = "info"'],
                "equal": ["namespace", "alertname"],
            },
        ],
        "receivers": [
            {"name": "null"},
            {"name": "critical", "slack_configs": [_slack(critical_key)]},
            {"name": "warning", "slack_configs": [_slack(warning_key)]},
        ],
        "templates": ["/etc/alertmanager/config/*.tmpl"],
    }


# Every key path values() sets was checked (2026-12-02) against the chart's values.yaml at the pinned tag (and, where
# the chart ships one, against values.schema.json with the chart defaults merged in: no errors):
#   argo-cd                argoproj/argo-helm               argo-cd-10.1.1                    charts/argo-cd
#   ingress-nginx          kubernetes/ingress-nginx         helm-chart-4.12.3 (af6352cbe46e)  charts/ingress-nginx
#   cert-manager           cert-manager/cert-manager        v1.18.1 (d5382c8e024d)            deploy/charts/cert-manager
#   kube-prometheus-stack  prometheus-community/helm-charts kube-prometheus-stack-75.6.1 (6e04778b433b), with its
#                          subcharts grafana 9.2.9 (grafana/helm-charts 0fae436adc92), kube-state-metrics 6.1.0
#                          (e1cfa8a63350), prometheus-node-exporter 4.47.0 (aae25dc9b830)
#   cluster-autoscaler     kubernetes/autoscaler            cluster-autoscaler-chart-9.59.0
#   external-secrets       external-secrets/external-secrets helm-chart-0.18.1 (fa6f59cbde20)
#   cloudnative-pg         cloudnative-pg/charts            cloudnative-pg-v0.29.0
#   external-dns           kubernetes-sigs/external-dns     external-dns-helm-chart-1.17.0 (675cc7c03f05)
#   metrics-server         kubernetes-sigs/metrics-server   metrics-server-helm-chart-3.12.2 (65945d221ff1)
# Keys absent from values.yaml are entries of free-form maps the templates pass through whole (argo-cd configs.cm and
# configs.params, grafana.ini, autoscaler extraArgs, resources.limits, pod securityContext.fsGroup) or keys the
# values.yaml documents commented out (cert-manager serviceAccount.name/annotations, grafana ingress.ingressClassName).
# external-dns extraArgs defaults to a map but its template and values.schema.json take a list too. Re-check on a bump.


def values(chart: Chart, infrastructure: Infrastructure, ops: Ops) -> dict[str, Any]:  # noqa: PLR0911 - one branch per chart
    host = ops_host(infrastructure)
    monitor = {"enabled": True, "additionalLabels": names.PROMETHEUS_SELECTOR_LABELS}
    if chart is ARGO_CD:
        return {
            "global": {"domain": host},
            "configs": {
                "params": {"server.insecure": True},  # TLS ends at the ingress controller
                "cm": {
                    "url": f"https://{host}",
                    "resource.customizations.health.postgresql.cnpg.io_Cluster": CNPG_CLUSTER_HEALTH_LUA,
                    "exec.enabled": False,
                },
                "rbac": {
                    # Everyone signed in may look; only the admin group may change the platform.
                    "policy.default": "role:readonly",
                    "policy.csv": ARGOCD_ADMINS_POLICY + "\n",
                    "scopes": "[groups]",
                },
            },
            "server": {
                "ingress": {
                    "enabled": True,
                    "ingressClassName": "nginx",
                    "annotations": _ops_ingress_annotations(ops),
                    "tls": True,
                },
                "metrics": {"enabled": True, "serviceMonitor": monitor},
                **_resources("50m", "128Mi", "256Mi"),
            },
            "controller": {
                "metrics": {"enabled": True, "serviceMonitor": monitor},
                **_resources("250m", "512Mi", "1Gi"),
            },
            "repoServer": {
                "metrics": {"enabled": True, "serviceMonitor": monitor},
                **_resources("100m", "256Mi", "512Mi"),
            },
            "applicationSet": _resources("25m", "64Mi", "128Mi"),
            "redis": _resources("50m", "64Mi", "128Mi"),
            "dex": _resources("25m", "64Mi", "128Mi"),
            "notifications": _resources("25m", "64Mi", "128Mi"),
        }
    if chart is INGRESS_NGINX:
        return {
            "controller": {
                "replicaCount": 2,
                "minAvailable": 1,
                "service": {
                    "annotations": {
                        "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
                        "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
                    },
                    "externalTrafficPolicy": "Local",  # keeps client IPs for logs and rate limits
                },
                "config": {"use-forwarded-headers": "false", "hsts": "true"},
                "metrics": {"enabled": True, "serviceMonitor": monitor},
                **_resources("100m", "128Mi", "512Mi"),
            }
        }
    if chart is CERT_MANAGER:
        return {
            "crds": {"enabled": True, "keep": True},
            "serviceAccount": _service_account(
                names.CERT_MANAGER_SERVICE_ACCOUNT[1], infrastructure.cert_manager_role_arn
            ),
            # The projected IRSA token must be readable by cert-manager's non-root user.
            "securityContext": {"fsGroup": 1001},
            **_resources("25m", "64Mi", "128Mi"),
            "webhook": _resources("10m", "32Mi", "64Mi"),
            "cainjector": _resources("25m", "128Mi", "256Mi"),
            "prometheus": {
                "enabled": True,
                "servicemonitor": {"enabled": True, "labels": names.PROMETHEUS_SELECTOR_LABELS},
            },
        }
    if chart is KUBE_PROMETHEUS_STACK:
        storage = {"storageClassName": names.STORAGE_CLASS, "accessModes": ["ReadWriteOnce"]}
        return {
            "grafana": {
                "admin": {
                    "existingSecret": GRAFANA_ADMIN_SECRET,
                    "userKey": "admin-user",
                    "passwordKey": "admin-password",
                },
                "grafana.ini": {
                    "server": {"root_url": f"https://{host}{names.GRAFANA_PATH}", "serve_from_sub_path": True},
                    "auth.anonymous": {"enabled": False},
                },
                "ingress": _tls_ingress(host, names.GRAFANA_PATH, "grafana-tls", ops),
                # Stateless: dashboards come from ConfigMaps (the sidecar) and data sources from the chart, so there
                # is nothing to keep, and an RWO volume would hang every RollingUpdate (the new pod waits for the
                # old one's volume, possibly in another zone).
                "persistence": {"enabled": False},
                **_resources("50m", "192Mi", "384Mi"),
                "sidecar": {
                    "dashboards": {
                        "enabled": True,
                        "label": "grafana_dashboard",
                        "labelValue": "1",
                        "folderAnnotation": "grafana_folder",
                        "searchNamespace": "ALL",
                        "provider": {"foldersFromFilesStructure": True},
                    }
                },
            },
            "prometheus": {
                "prometheusSpec": {
                    "retention": "15d",
                    "retentionSize": "45GB",
                    # CloudNativePG creates its own PodMonitors without our release label.
                    "podMonitorSelectorNilUsesHelmValues": False,
                    **_resources("200m", "1Gi", "2Gi"),
                    "storageSpec": {
                        "volumeClaimTemplate": {"spec": {**storage, "resources": {"requests": {"storage": "50Gi"}}}}
                    },
                }
            },
            # EKS runs the controller manager, scheduler and etcd out of reach and kube-proxy serves metrics on
            # 127.0.0.1 only: their scrapes can only fail and their "Down" alerts would fire forever.
            "prometheusOperator": _resources("50m", "128Mi", "256Mi"),
            "kube-state-metrics": _resources("25m", "64Mi", "128Mi"),
            "prometheus-node-exporter": _resources("25m", "32Mi", "64Mi"),
            "kubeControllerManager": {"enabled": False},
            "kubeScheduler": {"enabled": False},
            "kubeEtcd": {"enabled": False},
            "kubeProxy": {"enabled": False},
            "defaultRules": {
                "rules": {
                    "etcd": False,
                    "kubeControllerManager": False,
                    "kubeProxy": False,
                    "kubeSchedulerAlerting": False,
                    "kubeSchedulerRecording": False,
                }
            },
            "alertmanager": {
                "config": alertmanager_config(),
                "alertmanagerSpec": {
                    # Webhook URLs are credentials: an ExternalSecret fills this Secret from Secrets Manager.
                    "secrets": [ALERTMANAGER_SECRET],
                    **_resources("25m", "64Mi", "128Mi"),
                    "storage": {
                        "volumeClaimTemplate": {"spec": {**storage, "resources": {"requests": {"storage": "2Gi"}}}}
                    },
                },
            },
        }
    if chart is CLUSTER_AUTOSCALER:
        return {
            "autoDiscovery": {"clusterName": infrastructure.cluster_name},
            "awsRegion": infrastructure.aws_region,
            # The autoscaler supports only the Kubernetes minor it was built for; the chart's default image follows
            # the chart. Bump together with names.EKS_VERSION.
            "image": {"tag": CLUSTER_AUTOSCALER_IMAGE_TAG},
            **_resources("50m", "128Mi", "256Mi"),
            "rbac": {
                "serviceAccount": _service_account(
                    names.AUTOSCALER_SERVICE_ACCOUNT[1], infrastructure.cluster_autoscaler_role_arn
                )
            },
            "extraArgs": {
                "balance-similar-node-groups": True,
                "expander": "least-waste",
                "skip-nodes-with-system-pods": False,
            },
            "serviceMonitor": {
                "enabled": True,
                "namespace": names.AUTOSCALER_NAMESPACE,
                "selector": names.PROMETHEUS_SELECTOR_LABELS,
            },
        }
    if chart is EXTERNAL_SECRETS:
        return {
            "installCRDs": True,
            **_resources("25m", "64Mi", "128Mi"),
            "webhook": _resources("25m", "64Mi", "128Mi"),
            "certController": _resources("25m", "64Mi", "128Mi"),
            "serviceAccount": _service_account(
                names.EXTERNAL_SECRETS_SERVICE_ACCOUNT[1], infrastructure.external_secrets_role_arn
            ),
            "serviceMonitor": {"enabled": True, "additionalLabels": names.PROMETHEUS_SELECTOR_LABELS},
        }
    if chart is CLOUDNATIVE_PG:
        return {
            "crds": {"create": True},
            "monitoring": {"podMonitorEnabled": True},
            **_resources("50m", "128Mi", "256Mi"),
        }
    if chart is EXTERNAL_DNS:
        return {
            "provider": {"name": "aws"},
            **_resources("10m", "64Mi", "128Mi"),
            "env": [{"name": "AWS_DEFAULT_REGION", "value": infrastructure.aws_region}],
            "serviceAccount": _service_account(
                names.EXTERNAL_DNS_SERVICE_ACCOUNT[1], infrastructure.external_dns_role_arn
            ),
            "domainFilters": [infrastructure.domain_zone],
            "extraArgs": [f"--zone-id-filter={infrastructure.hosted_zone_id}"],
            "policy": "sync",
            "registry": "txt",
            "txtOwnerId": infrastructure.cluster_name,
            "sources": ["ingress", "service"],
            "serviceMonitor": {"enabled": True, "additionalLabels": names.PROMETHEUS_SELECTOR_LABELS},
        }
    if chart is METRICS_SERVER:
        return {
            # Two replicas and a PDB: the HPAs go blind (and Degraded) whenever the only replica is drained.
            "replicas": 2,
            "podDisruptionBudget": {"enabled": True, "minAvailable": 1},
            **_resources("50m", "64Mi", "128Mi"),
        }
    raise ValueError(f"no values for chart {chart.name}")


def build(infrastructure: Infrastructure, ops: Ops) -> list[Manifest]:
    out = []
    for chart in CHARTS:
        source = crds.ApplicationSource(
            repoURL=chart.repository,
            chart=chart.chart,
            targetRevision=chart.version,
            helm=crds.HelmSource(releaseName=chart.name, valuesObject=values(chart, infrastructure, ops)),
        )
        app = application(
            chart.name,
            names.PLATFORM_PROJECT,
            source,
            chart.namespace,
            *chart.sync_options,
            cascade_delete=chart.cascade_delete,
            wave=chart.wave,
        )
        out.append(Manifest(APPLICATIONS_AREA, app))
    return out
