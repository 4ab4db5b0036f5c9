"""Traffic: the Service and Ingress that reach the app, and the NetworkPolicies that allow nothing else."""

from __future__ import annotations

from hikaru import HikaruDocumentBase
from hikaru.model.rel_1_28 import v1

from expense_tracker.constants import APP_NAME, HTTP_PORT, HTTP_PORT_NAME, METRICS_PORT, METRICS_PORT_NAME
from manifests_py import names
from manifests_py.components.app import database
from manifests_py.components.app.chart import MIGRATE, RECURRING, WEB, EnvironmentChart, Wave

# Outside the cluster, but not the VPC or other private ranges: identity providers, S3 and Secrets Manager endpoints.
PUBLIC_INTERNET = v1.NetworkPolicyPeer(
    ipBlock=v1.IPBlock(cidr="0.0.0.0/0", except_=["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"])
)


def service(chart: EnvironmentChart) -> v1.Service:
    return v1.Service(
        metadata=chart.meta(APP_NAME, WEB, Wave.WORKLOAD),
        spec=v1.ServiceSpec(
            type="ClusterIP",
            selector=chart.labels(WEB),
            # The metrics port is here for the ServiceMonitor; the Ingress routes only the http port.
            ports=[
                v1.ServicePort(name=name, port=number, targetPort=name, protocol="TCP")
                for name, number in ((HTTP_PORT_NAME, HTTP_PORT), (METRICS_PORT_NAME, METRICS_PORT))
            ],
        ),
    )


def ingress(chart: EnvironmentChart) -> v1.Ingress:
    environment = chart.environment
    backend = v1.IngressBackend(
        service=v1.IngressServiceBackend(name=APP_NAME, port=v1.ServiceBackendPort(name=HTTP_PORT_NAME))
    )
    annotations = {
        "cert-manager.io/cluster-issuer": environment.tls_issuer,
        "nginx.ingress.kubernetes.io/proxy-body-size": "6m",  # CSV imports up to 5 MiB
    }
    return v1.Ingress(
        metadata=chart.meta(APP_NAME, WEB, Wave.WORKLOAD, annotations=annotations),
        spec=v1.IngressSpec(
            ingressClassName="nginx",
            tls=[v1.IngressTLS(hosts=[environment.host], secretName=f"{APP_NAME}-tls")],
            rules=[
                v1.IngressRule(
                    host=environment.host,
                    http=v1.HTTPIngressRuleValue(
                        # One Prefix "/" covers the API too: a second "/api" path to the same backend only
                        # duplicated the route.
                        paths=[v1.HTTPIngressPath(path="/", pathType="Prefix", backend=backend)]
                    ),
                )
            ],
        ),
    )


def _peer(namespace_name: str | None = None, pod_labels: dict[str, str] | None = None) -> v1.NetworkPolicyPeer:
    return v1.NetworkPolicyPeer(
        namespaceSelector=v1.LabelSelector(matchLabels={"kubernetes.io/metadata.name": namespace_name})
        if namespace_name
        else None,
        podSelector=v1.LabelSelector(matchLabels=pod_labels) if pod_labels else None,
    )


def _ports(*ports: int | str, protocol: str = "TCP") -> list[v1.NetworkPolicyPort]:
    return [v1.NetworkPolicyPort(port=port, protocol=protocol) for port in ports]


def network_policies(chart: EnvironmentChart) -> list[v1.NetworkPolicy]:
    """Default deny, then exactly the flows the app and its database need."""
    web = chart.labels(WEB)
    migrate = chart.labels(MIGRATE)
    recurring = chart.labels(RECURRING)
    db = database.pod_labels(chart)
    dns = v1.NetworkPolicyEgressRule(
        to=[_peer("kube-system", {"k8s-app": "kube-dns"})], ports=_ports(53, protocol="UDP") + _ports(53)
    )

    def policy(
        name: str,
        selector: dict[str, str],
        *,
        ingress: list[v1.NetworkPolicyIngressRule] | None = None,
        egress: list[v1.NetworkPolicyEgressRule] | None = None,
    ) -> v1.NetworkPolicy:
        types = [kind for kind, rules in (("Ingress", ingress), ("Egress", egress)) if rules is not None]
        # Every policy is labelled as the web component, whichever pods it selects (kept so the render is unchanged).
        return v1.NetworkPolicy(
            metadata=chart.meta(name, WEB, Wave.PREREQUISITES),
            spec=v1.NetworkPolicySpec(
                podSelector=v1.LabelSelector(matchLabels=selector or None),
                policyTypes=types,
                ingress=ingress or None,
                egress=egress or None,
            ),
        )

    from_prometheus = _peer(names.MONITORING_NAMESPACE, {"app.kubernetes.io/name": "prometheus"})
    postgres = _ports(database.POSTGRES_PORT)
    return [
        policy("default-deny", {}, ingress=[], egress=[]),
        policy("allow-dns", {}, egress=[dns]),
        policy(
            "web-ingress",
            web,
            ingress=[
                v1.NetworkPolicyIngressRule(
                    from_=[_peer(names.INGRESS_NAMESPACE, {"app.kubernetes.io/name": "ingress-nginx"})],
                    ports=_ports(HTTP_PORT),
                ),
                # Prometheus scrapes the metrics port and nothing else; the app's port is for the ingress only.
                v1.NetworkPolicyIngressRule(from_=[from_prometheus], ports=_ports(METRICS_PORT)),
            ],
        ),
        policy(
            "web-egress",
            web,
            egress=[
                v1.NetworkPolicyEgressRule(to=[_peer(pod_labels=db)], ports=postgres),
                v1.NetworkPolicyEgressRule(to=[PUBLIC_INTERNET], ports=_ports(443)),
            ],
        ),
        policy(
            "migrate-egress", migrate, egress=[v1.NetworkPolicyEgressRule(to=[_peer(pod_labels=db)], ports=postgres)]
        ),
        # The recurring-expenses job only reads and writes the database (no identity provider, no other service).
        policy(
            "recurring-egress",
            recurring,
            egress=[v1.NetworkPolicyEgressRule(to=[_peer(pod_labels=db)], ports=postgres)],
        ),
        policy(
            "database-ingress",
            db,
            ingress=[
                v1.NetworkPolicyIngressRule(
                    from_=[
                        _peer(pod_labels=web),
                        _peer(pod_labels=migrate),
                        _peer(pod_labels=db),
                        _peer(pod_labels=recurring),  # appended: the render of the other peers stays as it was
                    ],
                    ports=postgres,
                ),
                v1.NetworkPolicyIngressRule(
                    from_=[_peer(names.CNPG_NAMESPACE, {"app.kubernetes.io/name": "cloudnative-pg"})],
                    ports=_ports(database.CNPG_STATUS_PORT),
                ),
                v1.NetworkPolicyIngressRule(from_=[from_prometheus], ports=_ports(database.CNPG_METRICS_PORT)),
            ],
        ),
        policy(
            "database-egress",
            db,
            egress=[
                v1.NetworkPolicyEgressRule(to=[_peer(pod_labels=db)], ports=postgres),
                # The instance manager talks to the Kubernetes API (inside the VPC) and backups go to S3: both 443.
                v1.NetworkPolicyEgressRule(ports=_ports(443)),
            ],
        ),
    ]


def build(chart: EnvironmentChart) -> list[HikaruDocumentBase]:
    return [service(chart), ingress(chart), *network_policies(chart)]
