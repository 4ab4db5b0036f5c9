"""Alertmanager routing of the generated kube-prometheus-stack config, modelled on Alertmanager's own semantics.

``amtool config routes test`` is not available here, so the dispatcher is modelled (prometheus/alertmanager
``dispatch/route.go``): a route matches when all its matchers match; its children are tried in order and the first
match wins unless that child has ``continue: true``; when no child matches, the route itself takes the alert.
Regex matchers are anchored. Inhibition (``inhibit/inhibit.go``): a firing alert matching ``source_matchers``
mutes an alert matching ``target_matchers`` when every label in ``equal`` has the same value in both.
Expected receivers are literals here, not read from the generator.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

MANIFEST = Path(__file__).resolve().parents[2] / "manifests/argocd/application-kube-prometheus-stack.yaml"
_MATCHER = re.compile(r'^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"?(.*?)"?\s*$')


def _values() -> dict[str, Any]:
    document = yaml.safe_load(MANIFEST.read_text())
    values: dict[str, Any] = document["spec"]["source"]["helm"]["valuesObject"]
    return values


def _config() -> dict[str, Any]:
    config: dict[str, Any] = _values()["alertmanager"]["config"]
    return config


def _matches(matchers: list[str], labels: dict[str, str]) -> bool:
    for text in matchers:
        found = _MATCHER.match(text)
        assert found, f"unparseable matcher {text!r}"
        name, op, value = found.groups()
        actual = labels.get(name, "")  # a missing label matches as the empty string, as in Alertmanager
        ok = {
            "=": actual == value,
            "!=": actual != value,
            "=~": re.fullmatch(value, actual) is not None,
            "!~": re.fullmatch(value, actual) is None,
        }[op]
        if not ok:
            return False
    return True


def _route(route: dict[str, Any], labels: dict[str, str], inherited: str | None = None) -> list[str]:
    assert "match" not in route, "deprecated matchers; use `matchers`"
    assert "match_re" not in route, "deprecated matchers; use `matchers`"
    if not _matches(route.get("matchers", []), labels):
        return []
    receiver = route.get("receiver", inherited)
    assert receiver, "a route without a receiver and nothing to inherit"
    found: list[str] = []
    for child in route.get("routes", []):
        matched = _route(child, labels, receiver)
        found += matched
        if matched and not child.get("continue", False):
            break
    return found or [receiver]


def receivers_for(labels: dict[str, str]) -> list[str]:
    return _route(_config()["route"], labels)


def inhibited(target: dict[str, str], firing: list[dict[str, str]]) -> bool:
    for rule in _config().get("inhibit_rules", []):
        if not _matches(rule.get("target_matchers", []), target):
            continue
        for source in firing:
            if source is target or not _matches(rule.get("source_matchers", []), source):
                continue
            if all(source.get(label, "") == target.get(label, "") for label in rule.get("equal", [])):
                return True
    return False


NS = "expense-tracker-production"
# (labels of the alert, receivers that must get it)
ROUTES: list[tuple[dict[str, str], list[str]]] = [
    ({"alertname": "ExpenseTrackerDatabaseDown", "severity": "critical", "namespace": NS}, ["critical"]),
    ({"alertname": "ExpenseTrackerAvailabilityBudgetBurnFast", "severity": "critical", "namespace": NS}, ["critical"]),
    ({"alertname": "ExpenseTrackerPodNotReady", "severity": "warning", "namespace": NS}, ["warning"]),
    ({"alertname": "KubePodCrashLooping", "severity": "warning", "namespace": "monitoring"}, ["warning"]),
    ({"alertname": "CPUThrottlingHigh", "severity": "info", "namespace": NS}, ["warning"]),
    # An alert someone forgot to label still reaches a person rather than vanishing.
    ({"alertname": "SomethingUnlabelled", "namespace": NS}, ["warning"]),
    ({"alertname": "SomethingOdd", "severity": "page", "namespace": NS}, ["warning"]),
    # The always-firing dead man's switch and the info inhibitor are plumbing, not news.
    ({"alertname": "Watchdog", "severity": "none"}, ["null"]),
    ({"alertname": "InfoInhibitor", "severity": "none", "namespace": NS}, ["null"]),
]


@pytest.mark.parametrize(("labels", "expected"), ROUTES, ids=[labels["alertname"] for labels, _ in ROUTES])
def test_alert_reaches_the_receiver_for_its_severity(labels: dict[str, str], expected: list[str]) -> None:
    assert receivers_for(labels) == expected


@pytest.mark.parametrize("severity", ["critical", "warning", "info"])
def test_nothing_with_a_severity_goes_to_the_null_receiver(severity: str) -> None:
    assert "null" not in receivers_for({"alertname": "Anything", "severity": severity, "namespace": NS})


def test_receivers_send_somewhere_with_credentials_from_the_mounted_secret() -> None:
    values = _values()
    receivers = {receiver["name"]: receiver for receiver in _config()["receivers"]}
    assert receivers["null"] == {"name": "null"}
    mounted = values["alertmanager"]["alertmanagerSpec"]["secrets"]
    for name in ("critical", "warning"):
        (slack,) = receivers[name]["slack_configs"]
        # The webhook URL is a credential: read from the Secret the operator mounts, never inlined in git.
        path = slack["api_url_file"]
        assert path.startswith("/etc/alertmanager/secrets/"), path
        assert path.split("/")[4] in mounted
        assert "api_url" not in slack
        assert slack["send_resolved"] is True


def test_critical_inhibits_warning_of_the_same_alert_and_namespace_only() -> None:
    critical = {"alertname": "ExpenseTrackerVolumeAlmostFull", "severity": "critical", "namespace": NS}
    warning = {"alertname": "ExpenseTrackerVolumeAlmostFull", "severity": "warning", "namespace": NS}
    other_namespace = {**warning, "namespace": "expense-tracker-staging"}
    other_alert = {**warning, "alertname": "ExpenseTrackerPodNotReady"}
    assert inhibited(warning, [critical, warning])
    assert not inhibited(other_namespace, [critical, other_namespace])
    assert not inhibited(other_alert, [critical, other_alert])
    assert not inhibited(critical, [critical, warning])


def test_control_plane_scrapes_that_cannot_work_on_eks_are_off() -> None:
    # EKS hides the controller manager, scheduler and etcd; kube-proxy's metrics listen on 127.0.0.1 only. Scraping
    # them can only fail, and their "Down" alerts would fire forever.
    values = _values()
    for component in ("kubeControllerManager", "kubeScheduler", "kubeEtcd", "kubeProxy"):
        assert values[component]["enabled"] is False, component
