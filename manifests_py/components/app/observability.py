"""How Prometheus finds the app: a ServiceMonitor on the Service's metrics port (the database's PodMonitor is
CloudNativePG's, switched on in the Cluster)."""

from __future__ import annotations

from hikaru import HikaruDocumentBase
from hikaru.model.rel_1_28 import v1

from expense_tracker.constants import APP_NAME, METRICS_PATH, METRICS_PORT_NAME
from manifests_py import crds, names
from manifests_py.components.app.chart import WEB, EnvironmentChart, Wave


def service_monitor(chart: EnvironmentChart) -> crds.ServiceMonitor:
    return crds.ServiceMonitor(
        # kube-prometheus-stack selects ServiceMonitors by its release label.
        metadata=chart.meta(APP_NAME, WEB, Wave.WORKLOAD, labels=names.PROMETHEUS_SELECTOR_LABELS),
        spec=crds.ServiceMonitorSpec(
            selector=v1.LabelSelector(matchLabels=chart.labels(WEB)),
            namespaceSelector=crds.NamespaceSelector(matchNames=[chart.namespace]),
            endpoints=[crds.Endpoint(port=METRICS_PORT_NAME, path=METRICS_PATH, interval="30s", scrapeTimeout="10s")],
        ),
    )


def build(chart: EnvironmentChart) -> list[HikaruDocumentBase]:
    return [service_monitor(chart)]
