"""The app in one environment, one component per module, composed here (the layout kube-prometheus uses: a component
is a function of its parameters returning its objects).

- ``chart``: the environment chart that stamps namespace, labels and sync waves on every object; the namespace.
- ``settings``: ConfigMap, ExternalSecret and the environment variables that read them.
- ``database``: the CloudNativePG Cluster and its scheduled backup.
- ``pod``: the one hardened pod template the Deployment, the migration Job and the CronJob share.
- ``workload``: service account, migration Job, Deployment, autoscaler, disruption budget.
- ``recurring``: the CronJob running ``expense-tracker recurring run`` (recurring expenses and maintenance).
- ``network``: Service, Ingress and the NetworkPolicies.
- ``rbac``: developers' read-only access, from a table.
- ``observability``: the ServiceMonitor.
"""

from __future__ import annotations

from manifests_py.components.app import database, network, observability, rbac, recurring, settings, workload
from manifests_py.components.app.chart import EnvironmentChart, namespace
from manifests_py.environments import Environment
from manifests_py.objects import Manifest

COMPONENTS = (settings, database, workload, recurring, network, rbac, observability)


def build(environment: Environment) -> list[Manifest]:
    chart = EnvironmentChart(environment)
    return chart.manifests([namespace(chart), *(obj for component in COMPONENTS for obj in component.build(chart))])
