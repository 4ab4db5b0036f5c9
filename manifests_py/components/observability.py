"""Dashboards as Grafana-sidecar ConfigMaps and the rules as a PrometheusRule, synced by the `observability` app."""

from __future__ import annotations

from dashboards import sli
from dashboards.catalog import DASHBOARDS
from dashboards.panels import to_json
from hikaru.model.rel_1_28 import v1

from manifests_py import crds, names
from manifests_py.components.alerts import all_alerts
from manifests_py.components.gitops import OBSERVABILITY
from manifests_py.objects import Manifest, meta

AREA = OBSERVABILITY
RULES_NAME = "expense-tracker"
CONFIGMAP_LIMIT_BYTES = 1024 * 1024
DASHBOARD_LABEL = {"grafana_dashboard": "1"}  # what kube-prometheus-stack's Grafana sidecar watches for
FOLDER_ANNOTATION = "grafana_folder"


def dashboard_configmaps() -> list[v1.ConfigMap]:
    out = []
    for spec in DASHBOARDS:
        content = to_json(spec.build())
        if len(content.encode()) > CONFIGMAP_LIMIT_BYTES:
            raise ValueError(f"dashboard {spec.uid} is {len(content)} bytes, over the ConfigMap limit")
        out.append(
            v1.ConfigMap(
                metadata=meta(
                    f"dashboard-{spec.uid}",
                    names.MONITORING_NAMESPACE,
                    labels=DASHBOARD_LABEL,
                    annotations={FOLDER_ANNOTATION: spec.folder},
                ),
                data={f"{spec.uid}.json": content},
            )
        )
    return out


def prometheus_rule() -> crds.PrometheusRule:
    recording = [crds.Rule(record=record, expr=expr) for record, expr in sli.recording_rules()]
    alerts = [
        crds.Rule(
            alert=alert.name,
            expr=alert.expr,
            for_=alert.for_,
            labels={"severity": alert.severity},
            annotations={
                "summary": alert.summary,
                "description": alert.description,
                "runbook_url": alert.runbook_url,
            },
        )
        for alert in all_alerts()
    ]
    return crds.PrometheusRule(
        metadata=meta(RULES_NAME, names.MONITORING_NAMESPACE, labels=names.PROMETHEUS_SELECTOR_LABELS),
        spec=crds.PrometheusRuleSpec(
            groups=[
                crds.RuleGroup(name="expense-tracker-sli", interval="30s", rules=recording),
                crds.RuleGroup(name="expense-tracker-alerts", rules=alerts),
            ]
        ),
    )


def build() -> list[Manifest]:
    return [Manifest(AREA, obj) for obj in (*dashboard_configmaps(), prometheus_rule())]
