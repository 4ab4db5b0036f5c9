"""Who may do what in the app's namespace: developers read everything except Secrets."""

from __future__ import annotations

from hikaru import HikaruDocumentBase
from hikaru.model.rel_1_28 import v1

from manifests_py import names
from manifests_py.components.app.chart import WEB, EnvironmentChart, Wave

DEVELOPERS_ROLE = "developers-read-only"
READ = ("get", "list", "watch")

# API group → resources developers may read. Secrets are left out on purpose (and so is everything that would reveal
# them, such as pods/exec); a new kind the app deploys needs a row here to be visible to developers.
DEVELOPER_READABLE: dict[str, tuple[str, ...]] = {
    "": (
        "pods",
        "pods/log",
        "services",
        "endpoints",
        "configmaps",
        "events",
        "persistentvolumeclaims",
        "serviceaccounts",
    ),
    "apps": ("deployments", "replicasets"),
    "batch": ("jobs", "cronjobs"),
    "networking.k8s.io": ("ingresses", "networkpolicies"),
    "autoscaling": ("horizontalpodautoscalers",),
    "policy": ("poddisruptionbudgets",),
    "postgresql.cnpg.io": ("clusters", "backups", "scheduledbackups"),
    "external-secrets.io": ("externalsecrets",),
    "monitoring.coreos.com": ("servicemonitors", "prometheusrules"),
}


def build(chart: EnvironmentChart) -> list[HikaruDocumentBase]:
    rules = [
        v1.PolicyRule(apiGroups=[group], resources=list(resources), verbs=list(READ))
        for group, resources in DEVELOPER_READABLE.items()
    ]
    return [
        v1.Role(metadata=chart.meta(DEVELOPERS_ROLE, WEB, Wave.PREREQUISITES), rules=rules),
        v1.RoleBinding(
            metadata=chart.meta(DEVELOPERS_ROLE, WEB, Wave.PREREQUISITES),
            roleRef=v1.RoleRef(apiGroup="rbac.authorization.k8s.io", kind="Role", name=DEVELOPERS_ROLE),
            subjects=[v1.Subject(kind="Group", name=names.DEVELOPER_GROUP, apiGroup="rbac.authorization.k8s.io")],
        ),
    ]
