"""Names the manifests, the Terraform tests and the lifecycle commands share.

The app's own names (ports, paths, metric names) live in ``expense_tracker.constants``; these are the platform's:
namespaces, service accounts bound to AWS roles, chart releases and the GitOps repository. Terraform's IRSA trust
policies must name exactly these ``namespace:serviceaccount`` pairs, and its tests import them from here.
"""

from __future__ import annotations

from typing import Final

from expense_tracker import constants
from expense_tracker.constants import APP_NAME

app_namespace = constants.app_namespace
"""The namespace one environment of the app runs in: a name of the shared vocabulary (the dashboards select it too)."""

# Kubernetes versions every built-in object must validate against: the one the older design targeted and the one
# Terraform deploys (its `cluster_version` variable defaults to EKS_VERSION; a Terraform test checks they agree).
EKS_VERSION: Final = "1.35"
VALIDATED_KUBERNETES_VERSIONS: Final = ("1.29", EKS_VERSION)

CLUSTER_NAME: Final = "gitops-delivery-cluster"
"""EKS cluster (Terraform's cluster_name default; a Terraform test checks they agree)."""

GIT_REPO_URL: Final = "https://github.com/expense-tracker/expense-tracker.git"
GIT_REVISION: Final = "main"
MANIFESTS_DIR: Final = "manifests"
IMAGE_REPOSITORY: Final = "ghcr.io/expense-tracker/expense-tracker"

ARGOCD_NAMESPACE: Final = "argocd"
MONITORING_NAMESPACE: Final = "monitoring"
INGRESS_NAMESPACE: Final = "ingress-nginx"
CERT_MANAGER_NAMESPACE: Final = "cert-manager"
EXTERNAL_SECRETS_NAMESPACE: Final = "external-secrets"
CNPG_NAMESPACE: Final = "cnpg-system"
EXTERNAL_DNS_NAMESPACE: Final = "external-dns"
AUTOSCALER_NAMESPACE: Final = "kube-system"

# Service accounts that assume AWS roles through IRSA (namespace, name).
AUTOSCALER_SERVICE_ACCOUNT: Final = (AUTOSCALER_NAMESPACE, "cluster-autoscaler")
EBS_CSI_SERVICE_ACCOUNT: Final = ("kube-system", "ebs-csi-controller-sa")
EXTERNAL_SECRETS_SERVICE_ACCOUNT: Final = (EXTERNAL_SECRETS_NAMESPACE, "external-secrets")
CERT_MANAGER_SERVICE_ACCOUNT: Final = (CERT_MANAGER_NAMESPACE, "cert-manager")
EXTERNAL_DNS_SERVICE_ACCOUNT: Final = (EXTERNAL_DNS_NAMESPACE, "external-dns")

# ArgoCD projects: the platform (cluster-wide charts) and the app (namespaced objects only).
PLATFORM_PROJECT: Final = "platform"
APPS_PROJECT: Final = "apps"
ROOT_APPLICATION: Final = "root"

# kube-prometheus-stack selects ServiceMonitors and PrometheusRules by its Helm release label.
PROMETHEUS_RELEASE: Final = "kube-prometheus-stack"
PROMETHEUS_SELECTOR_LABELS: Final = {"release": PROMETHEUS_RELEASE}
GRAFANA_PATH: Final = "/grafana"

CLUSTER_SECRET_STORE: Final = "aws-secrets-manager"  # noqa: S105 - a name
STORAGE_CLASS: Final = "gp3-encrypted"

# Terraform labels every managed node group with its size (terraform/modules/network_plan); the on-demand `system`
# size is where Spot cannot take a database instance away. The capacity test applies the module and checks pods that
# select this label have somewhere to go.
NODE_SIZE_LABEL: Final = "node-size"
ON_DEMAND_NODES: Final = {NODE_SIZE_LABEL: "system"}
# Database instances outrank everything else: when an on-demand node is full of pods that could run anywhere, the
# scheduler evicts those (the autoscaler then adds Spot nodes for them) instead of leaving a primary Pending.
DATABASE_PRIORITY_CLASS: Final = "database"
LETSENCRYPT_STAGING: Final = "letsencrypt-staging"
LETSENCRYPT_PRODUCTION: Final = "letsencrypt-production"

# Identity-provider groups mapped to ArgoCD and Kubernetes roles.
ADMIN_GROUP: Final = f"{APP_NAME}-admins"
DEPLOYER_GROUP: Final = f"{APP_NAME}-deployers"
DEVELOPER_GROUP: Final = f"{APP_NAME}-developers"


def database_cluster(environment: str) -> str:
    """CloudNativePG cluster name; CNPG names its service account, Services and app Secret after it."""
    del environment  # one cluster per namespace: the name needs no environment suffix
    return f"{APP_NAME}-db"


def app_secret_id(environment: str) -> str:
    """AWS Secrets Manager secret holding the app's secret settings (Terraform creates it without a value)."""
    return f"{APP_NAME}/{environment}/app"


GRAFANA_ADMIN_SECRET_ID: Final = f"{APP_NAME}/grafana-admin"
"""Secrets Manager secret with Grafana's admin credentials (Terraform creates it without a value)."""

ALERTMANAGER_SECRET_ID: Final = f"{APP_NAME}/alertmanager"
"""Secrets Manager secret with the Alertmanager receivers' Slack incoming-webhook URLs (JSON keys below)."""
ALERTMANAGER_SECRET_KEYS: Final = ("slack-critical-url", "slack-warning-url")
METRICS_SERVER_NAMESPACE: Final = "kube-system"
