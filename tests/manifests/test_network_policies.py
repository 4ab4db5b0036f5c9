"""NetworkPolicies allow exactly the intended flows, and deny as carefully what must not flow.

The rendered NetworkPolicies are evaluated with Kubernetes' semantics
(https://kubernetes.io/docs/concepts/services-networking/network-policies/, API networking.k8s.io/v1):

- a pod is isolated for a direction when some policy of that direction selects it; then a connection is allowed only
  if some rule of some selecting policy allows it, and a connection needs both the source's egress and the
  destination's ingress;
- label selectors with matchLabels and matchExpressions (In, NotIn, Exists, DoesNotExist); ``{}`` selects all;
- in one peer, namespaceSelector and podSelector are ANDed; separate peers are ORed; a peer with only a podSelector
  means the policy's own namespace; absent or empty ``from``/``to`` means every peer, absent ``ports`` every port;
- named ports are resolved against the destination pod's container ports; ``endPort`` makes a range; protocol TCP
  unless stated;
- ipBlock with ``except``. With the AWS VPC CNI pods have VPC addresses, so an ipBlock can also match a pod: pods get
  addresses here and ipBlocks are checked against them too (the stricter reading for the deny cases);
- every namespace carries ``kubernetes.io/metadata.name`` (set by the API server since 1.22).

The app's pods get their labels and ports from the rendered Deployment, migration Job and recurring-expenses
CronJob (its job template's pod), the database's from what
CloudNativePG 1.26 puts on instance pods. Expected flows are literal tables.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from tests.manifests.conftest import Document, of_kind

ENVIRONMENTS = ("production", "staging")
OTHER = {"production": "staging", "staging": "production"}

# CloudNativePG 1.26.0 (chart cloudnative-pg 0.24.0): pkg/specs/pods.go buildInstance() labels every instance pod with
# cnpg.io/cluster=<Cluster name>, cnpg.io/instanceName=<pod name>, cnpg.io/podRole=instance; pkg/reconciler/instance/
# metadata.go adds role and cnpg.io/instanceRole = primary | replica (pkg/utils/labels_annotations.go names them).
# The container "postgres" exposes postgresql 5432, metrics 9187, status 8000 (pods.go createPostgresContainers).
CNPG_PORTS = {"postgresql": 5432, "metrics": 9187, "status": 8000}

# Platform pods, labels as their charts/operators set them at our pinned versions:
# ingress-nginx chart 4.12.3 controller (templates/_helpers.tpl selectorLabels + component), prometheus-operator's
# Prometheus StatefulSet pods (pkg/prometheus/server/statefulset.go), the cloudnative-pg chart 0.24.0 operator
# (templates/_helpers.tpl selectorLabels), EKS's CoreDNS add-on (k8s-app=kube-dns, as upstream CoreDNS deployments).
INGRESS_CONTROLLER_LABELS = {
    "app.kubernetes.io/name": "ingress-nginx",
    "app.kubernetes.io/instance": "ingress-nginx",
    "app.kubernetes.io/component": "controller",
}
PROMETHEUS_LABELS = {
    "app.kubernetes.io/name": "prometheus",
    "app.kubernetes.io/instance": "kube-prometheus-stack-prometheus",
    "app.kubernetes.io/managed-by": "prometheus-operator",
    "prometheus": "kube-prometheus-stack-prometheus",
    "operator.prometheus.io/name": "kube-prometheus-stack-prometheus",
    "operator.prometheus.io/shard": "0",
}
CNPG_OPERATOR_LABELS = {"app.kubernetes.io/name": "cloudnative-pg", "app.kubernetes.io/instance": "cloudnative-pg"}
COREDNS_LABELS = {"k8s-app": "kube-dns", "eks.amazonaws.com/component": "coredns"}


@dataclass(frozen=True)
class Pod:
    name: str
    namespace: str
    labels: dict[str, str]
    ip: str
    ports: dict[str, int] = field(default_factory=dict)  # container port name -> number


@dataclass(frozen=True)
class External:
    name: str
    ip: str


Endpoint = Pod | External


# --- Kubernetes NetworkPolicy semantics --------------------------------------------------------------------------


def selects(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """metav1.LabelSelector: matchLabels and every matchExpression must hold; an empty selector selects everything."""
    if selector is None:
        return True
    if any(labels.get(key) != value for key, value in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
        ok = {
            "In": key in labels and labels[key] in values,
            "NotIn": key not in labels or labels[key] not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[operator]
        if not ok:
            return False
    return True


class Cluster:
    def __init__(self, policies: list[Document], namespaces: dict[str, dict[str, str]]) -> None:
        self.policies = policies
        self.namespace_labels = namespaces

    def _namespace_labels(self, namespace: str) -> dict[str, str]:
        return {**self.namespace_labels.get(namespace, {}), "kubernetes.io/metadata.name": namespace}

    def _peer_matches(self, peer: Document, other: Endpoint, policy_namespace: str) -> bool:
        if "ipBlock" in peer:
            address = ipaddress.ip_address(other.ip)
            block = peer["ipBlock"]
            return address in ipaddress.ip_network(block["cidr"]) and not any(
                address in ipaddress.ip_network(cidr) for cidr in block.get("except") or []
            )
        if not isinstance(other, Pod):
            return False  # selectors only ever match pods
        if "namespaceSelector" in peer:
            if not selects(peer["namespaceSelector"], self._namespace_labels(other.namespace)):
                return False
        elif other.namespace != policy_namespace:
            return False
        return selects(peer.get("podSelector"), other.labels)

    @staticmethod
    def _port_matches(rule_port: Document, destination: Endpoint, port: int, protocol: str) -> bool:
        if rule_port.get("protocol", "TCP") != protocol:
            return False
        if "port" not in rule_port:
            return True  # protocol only: every port
        wanted = rule_port["port"]
        if isinstance(wanted, str):  # a named port: the destination pod's container port of that name
            return isinstance(destination, Pod) and destination.ports.get(wanted) == port
        return wanted <= port <= rule_port.get("endPort", wanted)

    def _rule_allows(self, rule: Document, direction: str, peer: Endpoint, destination: Endpoint, **flow: Any) -> bool:
        peers = rule.get("from" if direction == "Ingress" else "to") or []
        ports = rule.get("ports") or []
        port_ok = not ports or any(self._port_matches(p, destination, flow["port"], flow["protocol"]) for p in ports)
        peer_ok = not peers or any(self._peer_matches(p, peer, flow["namespace"]) for p in peers)
        return port_ok and peer_ok

    def _side_allows(
        self, pod: Pod, peer: Endpoint, destination: Endpoint, port: int, protocol: str, direction: str
    ) -> bool:
        def types(policy: Document) -> list[str]:
            spec = policy["spec"]
            default = ["Ingress", "Egress"] if "egress" in spec else ["Ingress"]
            return spec.get("policyTypes") or default

        selecting = [
            p
            for p in self.policies
            if p["metadata"]["namespace"] == pod.namespace
            and direction in types(p)
            and selects(p["spec"]["podSelector"], pod.labels)
        ]
        if not selecting:
            return True  # not isolated in this direction
        key = "ingress" if direction == "Ingress" else "egress"
        return any(
            self._rule_allows(rule, direction, peer, destination, port=port, protocol=protocol, namespace=pod.namespace)
            for policy in selecting
            for rule in policy["spec"].get(key) or []
        )

    def allowed(self, source: Endpoint, target: Endpoint, port: int, protocol: str = "TCP") -> bool:
        egress = not isinstance(source, Pod) or self._side_allows(source, target, target, port, protocol, "Egress")
        ingress = not isinstance(target, Pod) or self._side_allows(target, source, target, port, protocol, "Ingress")
        return egress and ingress


# --- The evaluator itself, on hand-written policies (so a lenient evaluator cannot make the flow tests pass) -----


def _policy(namespace: str, spec: Document) -> Document:
    return {"metadata": {"namespace": namespace}, "spec": spec}


def test_the_evaluator_follows_kubernetes_semantics() -> None:
    a = Pod("a", "ns1", {"app": "a", "tier": "x"}, "10.0.1.1", {"http": 8080})
    b = Pod("b", "ns1", {"app": "b"}, "10.0.1.2")
    c = Pod("c", "ns2", {"app": "b"}, "10.0.1.3", {"http": 8081})
    internet = External("internet", "203.0.113.7")
    nothing = Cluster([], {})
    assert nothing.allowed(a, b, 1)
    assert nothing.allowed(b, internet, 1)

    deny_all = Cluster([_policy("ns1", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})], {})
    assert not deny_all.allowed(c, a, 80)
    assert not deny_all.allowed(a, c, 80)
    assert deny_all.allowed(c, internet, 80)  # ns2 is not isolated

    ingress_and = Cluster(
        [
            _policy(
                "ns1",
                {
                    "podSelector": {"matchExpressions": [{"key": "tier", "operator": "Exists"}]},
                    "ingress": [
                        {
                            "from": [
                                {
                                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ns2"}},
                                    "podSelector": {
                                        "matchExpressions": [{"key": "app", "operator": "In", "values": ["b"]}]
                                    },
                                }
                            ],
                            "ports": [{"port": "http"}],
                        }
                    ],
                },
            )
        ],
        {},
    )
    assert ingress_and.allowed(c, a, 8080)  # both halves of the peer hold, named port resolved on the target
    assert not ingress_and.allowed(c, a, 8081)  # 8081 is c's "http", not a's
    assert not ingress_and.allowed(b, a, 8080)  # right pod labels, wrong namespace: AND, not OR
    assert ingress_and.allowed(a, b, 1)  # b lacks "tier": not selected, not isolated

    ingress_or = Cluster(
        [
            _policy(
                "ns1",
                {
                    "podSelector": {"matchLabels": {"app": "a"}},
                    "policyTypes": ["Ingress"],
                    "ingress": [
                        {
                            "from": [
                                {"namespaceSelector": {"matchLabels": {"team": "blue"}}},
                                {
                                    "podSelector": {
                                        "matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["a"]}]
                                    }
                                },
                            ],
                            "ports": [{"port": 9000, "endPort": 9010, "protocol": "TCP"}],
                        }
                    ],
                },
            )
        ],
        {"ns2": {"team": "blue"}},
    )
    assert ingress_or.allowed(c, a, 9010)
    assert ingress_or.allowed(b, a, 9000)
    assert not ingress_or.allowed(b, a, 9011)
    assert not ingress_or.allowed(b, a, 9005, "UDP")

    egress_block = Cluster(
        [
            _policy(
                "ns1",
                {
                    "podSelector": {"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]},
                    "policyTypes": ["Egress"],
                    "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}]}],
                },
            ),
            _policy("ns1", {"podSelector": {"matchLabels": {"app": "b"}}, "policyTypes": ["Egress"], "egress": [{}]}),
        ],
        {},
    )
    bare = Pod("bare", "ns1", {}, "10.0.1.9")
    assert egress_block.allowed(bare, internet, 5)
    assert not egress_block.allowed(bare, b, 5)
    assert egress_block.allowed(b, c, 5)  # an empty rule allows everything


# --- The rendered system -----------------------------------------------------------------------------------------


def _container_ports(template: Document) -> dict[str, int]:
    return {
        port["name"]: port["containerPort"]
        for container in template["spec"]["containers"]
        for port in container.get("ports") or []
        if "name" in port
    }


@dataclass(frozen=True)
class World:
    cluster: Cluster
    web: Pod
    migrate: Pod
    recurring: Pod
    primary: Pod
    replica: Pod


def _world(documents: list[Document], environment: str, subnet: int) -> World:
    (deployment,) = [d for d in of_kind(documents, "Deployment") if d["metadata"]["namespace"].endswith(environment)]
    (job,) = [d for d in of_kind(documents, "Job") if d["metadata"]["namespace"].endswith(environment)]
    (database,) = [d for d in of_kind(documents, "Cluster") if d["metadata"]["namespace"].endswith(environment)]
    (cronjob,) = [d for d in of_kind(documents, "CronJob") if d["metadata"]["namespace"].endswith(environment)]
    namespace = deployment["metadata"]["namespace"]
    assert job["metadata"]["namespace"] == namespace == database["metadata"]["namespace"]
    assert cronjob["metadata"]["namespace"] == namespace
    web_template, job_template = deployment["spec"]["template"], job["spec"]["template"]
    recurring_template = cronjob["spec"]["jobTemplate"]["spec"]["template"]
    cluster_name = database["metadata"]["name"]

    def instance(serial: int, role: str) -> Pod:
        name = f"{cluster_name}-{serial}"
        labels = {
            "cnpg.io/cluster": cluster_name,
            "cnpg.io/instanceName": name,
            "cnpg.io/podRole": "instance",
            "cnpg.io/instanceRole": role,
            "role": role,
        }
        return Pod(name, namespace, labels, f"10.0.{subnet}.{20 + serial}", CNPG_PORTS)

    namespaces = {d["metadata"]["name"]: d["metadata"].get("labels") or {} for d in of_kind(documents, "Namespace")}
    return World(
        cluster=Cluster(of_kind(documents, "NetworkPolicy"), namespaces),
        web=Pod(
            "web", namespace, web_template["metadata"]["labels"], f"10.0.{subnet}.10", _container_ports(web_template)
        ),
        migrate=Pod(
            "migrate",
            namespace,
            job_template["metadata"]["labels"],
            f"10.0.{subnet}.11",
            _container_ports(job_template),
        ),
        recurring=Pod(
            "recurring",
            namespace,
            recurring_template["metadata"]["labels"],
            f"10.0.{subnet}.12",
            _container_ports(recurring_template),
        ),
        primary=instance(1, "primary"),
        replica=instance(2, "replica"),
    )


def _elsewhere(pod: Pod, namespace: str) -> Pod:
    return replace(pod, name=f"{pod.name}@{namespace}", namespace=namespace, ip="10.0.2.250")


# Outside the cluster. The EKS API server's in-cluster address is the `kubernetes` Service's ClusterIP (EKS's default
# service CIDR 172.20.0.0/16) and, after kube-proxy's DNAT, the control plane's ENIs in our private subnets.
IDENTITY_PROVIDER = External("identity provider (accounts.google.com)", "142.250.0.10")
S3 = External("S3 regional endpoint", "52.216.0.10")
API_CLUSTER_IP = External("kubernetes Service ClusterIP", "172.20.0.1")
API_ENI = External("EKS control-plane ENI in a private subnet", "10.0.1.200")
IMDS = External("instance metadata service", "169.254.169.254")
VPC_HOST = External("a host in the VPC outside the cluster (RDS, a bastion)", "10.0.1.50")
PEERED = External("a peered network", "172.31.5.5")
PUBLIC_DATABASE = External("a database on the internet", "198.51.100.20")
PUBLIC_DNS = External("a public DNS resolver", "8.8.8.8")


@pytest.fixture(scope="module", params=ENVIRONMENTS)
def world(request: pytest.FixtureRequest, documents: list[Document]) -> tuple[str, World, World]:
    environment: str = request.param
    return environment, _world(documents, environment, 1), _world(documents, OTHER[environment], 2)


def _platform() -> dict[str, Pod]:
    return {
        "ingress": Pod("ingress-nginx controller", "ingress-nginx", INGRESS_CONTROLLER_LABELS, "10.0.1.100"),
        "prometheus": Pod("prometheus", "monitoring", PROMETHEUS_LABELS, "10.0.1.101", {"http-web": 9090}),
        "operator": Pod("cnpg operator", "cnpg-system", CNPG_OPERATOR_LABELS, "10.0.1.102"),
        "dns": Pod("coredns", "kube-system", COREDNS_LABELS, "10.0.1.103", {"dns": 53, "dns-tcp": 53}),
    }


def _allowed_flows(w: World) -> list[tuple[Endpoint, Endpoint, int, str]]:
    p = _platform()
    flows: list[tuple[Endpoint, Endpoint, int, str]] = [
        (p["ingress"], w.web, 8000, "TCP"),
        (p["prometheus"], w.web, 9000, "TCP"),
        (w.web, w.primary, 5432, "TCP"),
        (w.web, w.replica, 5432, "TCP"),
        (w.migrate, w.primary, 5432, "TCP"),
        (w.recurring, w.primary, 5432, "TCP"),  # recurring expenses are written on the primary
        (w.replica, w.primary, 5432, "TCP"),  # streaming replication
        (w.primary, w.replica, 5432, "TCP"),  # pg_rewind / switchover
        (p["operator"], w.primary, 8000, "TCP"),
        (p["operator"], w.replica, 8000, "TCP"),
        (p["prometheus"], w.primary, 9187, "TCP"),
        (p["prometheus"], w.replica, 9187, "TCP"),
        (w.web, IDENTITY_PROVIDER, 443, "TCP"),
        # barman-cloud to S3 (and STS for IRSA): public addresses that no NetworkPolicy can enumerate.
        (w.primary, S3, 443, "TCP"),
        # The instance manager watches its Cluster through the API server: ClusterIP or, after DNAT, the ENIs.
        (w.primary, API_CLUSTER_IP, 443, "TCP"),
        (w.replica, API_ENI, 443, "TCP"),
    ]
    for pod in (w.web, w.migrate, w.recurring, w.primary, w.replica):
        flows += [(pod, p["dns"], 53, "UDP"), (pod, p["dns"], 53, "TCP")]
    return flows


def _denied_flows(w: World, other: World) -> list[tuple[Endpoint, Endpoint, int, str]]:
    p = _platform()
    stranger = replace(w.web, name="debug shell", labels={"app": "debug-shell"}, ports={})
    metrics_server = Pod("metrics-server", "kube-system", {"app.kubernetes.io/name": "metrics-server"}, "10.0.1.104")
    internet_client = External("a client on the internet", "203.0.113.50")
    return [
        # Into the app: only the ingress controller on 8000 and Prometheus on 9000.
        (stranger, w.web, 8000, "TCP"),
        (other.web, w.web, 8000, "TCP"),
        (internet_client, w.web, 8000, "TCP"),
        (p["ingress"], w.web, 9000, "TCP"),  # metrics are never reachable from the internet
        (p["ingress"], w.web, 9999, "TCP"),
        (p["prometheus"], w.web, 8000, "TCP"),  # Prometheus scrapes the metrics port, it does not browse the app
        (stranger, w.web, 9000, "TCP"),
        (other.web, w.web, 9000, "TCP"),
        (w.web, w.web, 8000, "TCP"),
        (p["ingress"], w.web, 8000, "UDP"),
        # Into the database: the app, the migration and its peers on 5432; the operator on 8000; Prometheus on 9187.
        (p["ingress"], w.primary, 5432, "TCP"),
        (stranger, w.primary, 5432, "TCP"),
        (other.web, w.primary, 5432, "TCP"),  # the other environment's app
        (other.migrate, w.primary, 5432, "TCP"),
        (other.primary, w.primary, 5432, "TCP"),  # the other environment's database is not a peer
        (w.web, w.primary, 9187, "TCP"),
        (w.web, w.primary, 8000, "TCP"),
        (p["prometheus"], w.primary, 5432, "TCP"),
        (p["operator"], w.primary, 5432, "TCP"),
        (internet_client, w.primary, 5432, "TCP"),
        # Out of the app: DNS, the database and the identity provider's port, nothing else.
        (w.web, API_CLUSTER_IP, 443, "TCP"),
        (w.web, API_ENI, 443, "TCP"),
        (w.web, IMDS, 80, "TCP"),
        (w.web, IMDS, 443, "TCP"),
        (w.web, VPC_HOST, 5432, "TCP"),
        (w.web, VPC_HOST, 443, "TCP"),
        (w.web, PEERED, 443, "TCP"),
        (w.web, PUBLIC_DATABASE, 5432, "TCP"),
        (w.web, PUBLIC_DNS, 53, "UDP"),
        (w.web, IDENTITY_PROVIDER, 80, "TCP"),
        (w.web, IDENTITY_PROVIDER, 8443, "TCP"),
        (w.web, IDENTITY_PROVIDER, 443, "UDP"),  # no HTTP/3
        (w.web, other.primary, 5432, "TCP"),  # the other environment's database
        (w.web, other.web, 8000, "TCP"),
        (w.web, p["prometheus"], 9090, "TCP"),
        (w.web, p["dns"], 443, "TCP"),
        (w.web, metrics_server, 53, "UDP"),
        # Out of the migration: DNS and the database only.
        (w.migrate, IDENTITY_PROVIDER, 443, "TCP"),
        (w.migrate, S3, 443, "TCP"),
        (w.migrate, API_CLUSTER_IP, 443, "TCP"),
        (w.migrate, IMDS, 80, "TCP"),
        (w.migrate, w.web, 8000, "TCP"),
        (w.migrate, VPC_HOST, 5432, "TCP"),
        (w.migrate, other.primary, 5432, "TCP"),
        # Out of the recurring-expenses job: DNS and the database only, like the migration.
        (w.recurring, IDENTITY_PROVIDER, 443, "TCP"),
        (w.recurring, S3, 443, "TCP"),
        (w.recurring, API_CLUSTER_IP, 443, "TCP"),
        (w.recurring, API_ENI, 443, "TCP"),
        (w.recurring, IMDS, 80, "TCP"),
        (w.recurring, w.web, 8000, "TCP"),
        (w.recurring, w.web, 9000, "TCP"),
        (w.recurring, VPC_HOST, 5432, "TCP"),
        (w.recurring, PUBLIC_DATABASE, 5432, "TCP"),
        (w.recurring, PUBLIC_DNS, 53, "UDP"),
        (w.recurring, w.primary, 8000, "TCP"),
        (w.recurring, w.primary, 9187, "TCP"),
        (w.recurring, other.primary, 5432, "TCP"),  # the other environment's database
        (w.recurring, p["prometheus"], 9090, "TCP"),
        # Into the recurring-expenses job: nothing (it serves nothing; its metrics are the web app's, read from the
        # database), and the other environment's job is no peer of this database.
        (p["ingress"], w.recurring, 8000, "TCP"),
        (p["prometheus"], w.recurring, 9000, "TCP"),
        (w.web, w.recurring, 8000, "TCP"),
        (other.recurring, w.primary, 5432, "TCP"),
        # Out of the database: its peers on 5432, DNS, and 443 (S3, STS, the API server); nothing else.
        (w.primary, w.web, 8000, "TCP"),
        (w.primary, w.web, 9000, "TCP"),
        (w.primary, VPC_HOST, 5432, "TCP"),
        (w.primary, PUBLIC_DATABASE, 5432, "TCP"),
        (w.primary, other.primary, 5432, "TCP"),  # replication never crosses environments
        (w.primary, IMDS, 80, "TCP"),
        (w.primary, IDENTITY_PROVIDER, 80, "TCP"),
        (w.primary, p["operator"], 9443, "TCP"),
        (w.primary, p["prometheus"], 9090, "TCP"),
        (w.replica, PUBLIC_DNS, 53, "UDP"),
    ]


def test_every_intended_flow_is_allowed(world: tuple[str, World, World]) -> None:
    _, w, _ = world
    refused = [
        (s.name, t.name, port, proto)
        for s, t, port, proto in _allowed_flows(w)
        if not w.cluster.allowed(s, t, port, proto)
    ]
    assert refused == []


def test_everything_else_is_denied(world: tuple[str, World, World]) -> None:
    _, w, other = world
    leaks = [
        (s.name, t.name, port, proto)
        for s, t, port, proto in _denied_flows(w, other)
        if w.cluster.allowed(s, t, port, proto)
    ]
    assert leaks == []


@pytest.mark.parametrize("namespace", ["default", "attacker"])
def test_the_same_labels_in_another_namespace_get_none_of_the_allowed_flows(
    world: tuple[str, World, World], namespace: str
) -> None:
    """Each allowed flow into one of our pods, from an impostor with the source's labels elsewhere; and each allowed
    flow out of one of our pods, to an impostor with the destination's labels elsewhere."""
    _, w, _ = world
    ours = w.web.namespace
    leaks = []
    for source, target, port, protocol in _allowed_flows(w):
        if isinstance(source, Pod) and isinstance(target, Pod) and target.namespace == ours:
            impostor = _elsewhere(source, namespace)
            if w.cluster.allowed(impostor, target, port, protocol):
                leaks.append((impostor.name, target.name, port, protocol))
        if isinstance(source, Pod) and isinstance(target, Pod) and source.namespace == ours:
            impostor = _elsewhere(target, namespace)
            if w.cluster.allowed(source, impostor, port, protocol):
                leaks.append((source.name, impostor.name, port, protocol))
    assert leaks == []


def test_every_app_namespace_starts_from_default_deny(documents: list[Document]) -> None:
    app_namespaces = [d["metadata"]["namespace"] for d in of_kind(documents, "Deployment")]
    assert sorted(app_namespaces) == ["expense-tracker-production", "expense-tracker-staging"]
    for namespace in app_namespaces:
        deny = [
            p
            for p in of_kind(documents, "NetworkPolicy", namespace)
            if p["spec"]["podSelector"] == {} and not p["spec"].get("ingress") and not p["spec"].get("egress")
        ]
        assert len(deny) == 1
        assert sorted(deny[0]["spec"]["policyTypes"]) == ["Egress", "Ingress"]
