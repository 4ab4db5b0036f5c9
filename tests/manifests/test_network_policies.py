"""NetworkPolicies allow exactly the intended flows: evaluated with Kubernetes' semantics over the rendered policies."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

import pytest
from manifests_py import names
from manifests_py.environments import ENVIRONMENT_NAMES
from manifests_py.objects import app_labels

from expense_tracker.constants import HTTP_PORT, METRICS_PORT
from tests.manifests.conftest import Document, of_kind, selects


@dataclass(frozen=True)
class Pod:
    namespace: str
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class External:
    ip: str


Peer = Pod | External


def _peer_matches(peer: Document, other: Peer, policy_namespace: str) -> bool:
    if "ipBlock" in peer:
        if not isinstance(other, External):
            return False  # pods are matched by selectors, not by the ipBlock of their IP
        address = ipaddress.ip_address(other.ip)
        block = peer["ipBlock"]
        return address in ipaddress.ip_network(block["cidr"]) and not any(
            address in ipaddress.ip_network(cidr) for cidr in block.get("except", [])
        )
    if not isinstance(other, Pod):
        return False
    if "namespaceSelector" in peer:
        namespace_labels = {"kubernetes.io/metadata.name": other.namespace}
        if not selects(peer["namespaceSelector"].get("matchLabels", {}), namespace_labels):
            return False
    elif other.namespace != policy_namespace:
        return False
    return selects(peer.get("podSelector", {}).get("matchLabels", {}), other.labels)


def _rule_allows(rule: Document, other: Peer, port: int, protocol: str, direction: str, namespace: str) -> bool:
    peers = rule.get("from" if direction == "Ingress" else "to")
    ports = rule.get("ports")
    port_ok = ports is None or any(p["port"] == port and p.get("protocol", "TCP") == protocol for p in ports)
    peer_ok = peers is None or any(_peer_matches(peer, other, namespace) for peer in peers)
    return port_ok and peer_ok


def _side_allows(policies: list[Document], pod: Pod, other: Peer, port: int, protocol: str, direction: str) -> bool:
    """Kubernetes: if no policy of that direction selects the pod, everything is allowed; else any rule must allow."""
    selecting = [
        p
        for p in policies
        if p["metadata"]["namespace"] == pod.namespace
        and direction in p["spec"]["policyTypes"]
        and selects(p["spec"]["podSelector"].get("matchLabels", {}), pod.labels)
    ]
    if not selecting:
        return True
    key = "ingress" if direction == "Ingress" else "egress"
    return any(
        _rule_allows(rule, other, port, protocol, direction, pod.namespace)
        for policy in selecting
        for rule in policy["spec"].get(key, [])
    )


def allowed(policies: list[Document], source: Peer, target: Peer, port: int, protocol: str = "TCP") -> bool:
    egress = _side_allows(policies, source, target, port, protocol, "Egress") if isinstance(source, Pod) else True
    ingress = _side_allows(policies, target, source, port, protocol, "Ingress") if isinstance(target, Pod) else True
    return egress and ingress


@pytest.mark.parametrize("environment", ENVIRONMENT_NAMES)
def test_only_the_intended_flows_are_allowed(documents: list[Document], environment: str) -> None:
    policies = of_kind(documents, "NetworkPolicy")
    ns = names.app_namespace(environment)
    web = Pod(ns, app_labels(environment, "web"))
    migrate = Pod(ns, app_labels(environment, "migrate"))
    database = Pod(ns, {"cnpg.io/cluster": names.database_cluster(environment)})
    stranger = Pod(ns, {"app": "debug-shell"})
    ingress_controller = Pod(names.INGRESS_NAMESPACE, {"app.kubernetes.io/name": "ingress-nginx"})
    prometheus = Pod(names.MONITORING_NAMESPACE, {"app.kubernetes.io/name": "prometheus"})
    operator = Pod(names.CNPG_NAMESPACE, {"app.kubernetes.io/name": "cloudnative-pg"})
    dns = Pod("kube-system", {"k8s-app": "kube-dns"})
    other_app = Pod("default", {"app.kubernetes.io/name": "ingress-nginx"})  # right labels, wrong namespace
    identity_provider = External("142.250.0.10")
    vpc_host = External("10.0.1.20")
    other_env = Pod(names.app_namespace("x"), app_labels("x", "web"))

    expected_allowed = [
        (ingress_controller, web, HTTP_PORT, "TCP"),
        (prometheus, web, METRICS_PORT, "TCP"),
        (web, database, 5432, "TCP"),
        (migrate, database, 5432, "TCP"),
        (database, database, 5432, "TCP"),
        (operator, database, 8000, "TCP"),
        (prometheus, database, 9187, "TCP"),
        (web, dns, 53, "UDP"),
        (web, dns, 53, "TCP"),
        (migrate, dns, 53, "UDP"),
        (web, identity_provider, 443, "TCP"),
    ]
    expected_denied = [
        (other_app, web, HTTP_PORT, "TCP"),
        (other_env, web, HTTP_PORT, "TCP"),
        (stranger, web, HTTP_PORT, "TCP"),
        (ingress_controller, web, 9999, "TCP"),
        (prometheus, web, HTTP_PORT, "TCP"),  # Prometheus scrapes the metrics port, it does not browse the app
        (ingress_controller, web, METRICS_PORT, "TCP"),  # metrics are never reachable from the internet
        (stranger, web, METRICS_PORT, "TCP"),
        (other_env, web, METRICS_PORT, "TCP"),
        (ingress_controller, database, 5432, "TCP"),
        (stranger, database, 5432, "TCP"),
        (web, database, 9187, "TCP"),
        (web, web, HTTP_PORT, "TCP"),
        (web, identity_provider, 80, "TCP"),
        (web, vpc_host, 443, "TCP"),
        (migrate, identity_provider, 443, "TCP"),
        (stranger, identity_provider, 443, "TCP"),
        (web, Pod("kube-system", {"k8s-app": "metrics-server"}), 53, "UDP"),
    ]
    for source, target, port, protocol in expected_allowed:
        assert allowed(policies, source, target, port, protocol), (source, target, port)
    for source, target, port, protocol in expected_denied:
        assert not allowed(policies, source, target, port, protocol), (source, target, port)


def test_every_app_namespace_starts_from_default_deny(documents: list[Document]) -> None:
    for environment in ENVIRONMENT_NAMES:
        deny = [
            p
            for p in of_kind(documents, "NetworkPolicy", names.app_namespace(environment))
            if p["spec"]["podSelector"] == {} and "ingress" not in p["spec"] and "egress" not in p["spec"]
        ]
        assert len(deny) == 1
        assert sorted(deny[0]["spec"]["policyTypes"]) == ["Egress", "Ingress"]
