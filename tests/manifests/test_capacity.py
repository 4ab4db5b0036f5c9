"""Capacity: every pod's requests, packed onto the node groups Terraform creates, at min and at max replicas.

Node groups come from applying terraform/modules/network_plan for real (the same module eks.tf reads). Allocatable
per node is the instance's capacity minus what the EKS AL2023 AMI reserves; the apps' pods are read from the rendered
Deployments (times the HPA's min/max), Jobs, CronJobs (one running pod each) and CNPG Clusters; the platform charts'
pods take their requests from the values the generator passes (manifests/argocd/application-*.yaml) and their replica
counts and sidecars from the tables below; DaemonSets run on every node. A first-fit-decreasing packing per scenario
fails when the platform does not fit.

Sources (read at the versions noted):
- max pods: awslabs/amazon-eks-ami templates/shared/runtime/eni-max-pods.txt (last version before it moved, commit
  2bed73dc, 2026-03-18).
- reservations: awslabs/amazon-eks-ami nodeadm/internal/kubelet/config.go (v20260724): kubeReserved memory
  = 11 MiB * maxPods + 255 MiB; kubeReserved cpu = 6% of the first core, 1% of the second, 0.5% of cores 3-4, 0.25%
  above; evictionHard memory.available 100Mi.
- Not all of an instance's memory reaches the kubelet (kernel, firmware): 7.5%, Karpenter's default
  vmMemoryOverheadPercent (aws/karpenter-provider-aws settings), as an estimate on the safe side.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.manifests.conftest import Document, of_kind
from tests.terraform.test_day_one import _plan_outputs

# instance type -> (vCPU, memory MiB, max pods): EC2 instance specs; max pods from eni-max-pods.txt (see above).
INSTANCE_TYPES: dict[str, tuple[int, int, int]] = {
    "t3.medium": (2, 4096, 17),
    "t3a.medium": (2, 4096, 17),
    "t3.small": (2, 2048, 11),
    "t3a.small": (2, 2048, 8),
}
VM_MEMORY_OVERHEAD = 0.075
EVICTION_HARD_MEMORY_MI = 100

# DaemonSets on every node: (name, cpu m, memory Mi). aws-node: aws/amazon-vpc-cni-k8s charts/aws-vpc-cni/values.yaml
# v1.20.4 (the add-on version in eks.tf) requests cpu 25m, its network-policy agent container nothing. kube-proxy: the
# EKS add-on's DaemonSet requests cpu 100m. ebs-csi-node: kubernetes-sigs/aws-ebs-csi-driver v1.48.0 chart values,
# node.resources 10m/40Mi, applied to the node-driver-registrar and liveness-probe sidecars too (templates/_node.tpl).
# node-exporter: kube-prometheus-stack's prometheus-node-exporter, requests from our values (read below).
DAEMONSETS: list[tuple[str, int, int]] = [
    ("aws-node", 25, 0),
    ("kube-proxy", 100, 0),
    ("ebs-csi-node", 3 * 10, 3 * 40),
]

# Platform Deployments/StatefulSets: (Application, path to the requests in its helm values, replicas, sidecar cpu m,
# sidecar memory Mi). Replicas are the charts' defaults unless our values set them; sidecars are what the chart or
# operator adds with requests of its own: prometheus-operator's config-reloader defaults to 10m/50Mi on Prometheus and
# Alertmanager.
PLATFORM: list[tuple[str, str, int, int, int]] = [
    ("argo-cd", "controller", 1, 0, 0),
    ("argo-cd", "server", 1, 0, 0),
    ("argo-cd", "repoServer", 1, 0, 0),
    ("argo-cd", "applicationSet", 1, 0, 0),
    ("argo-cd", "redis", 1, 0, 0),
    ("argo-cd", "dex", 1, 0, 0),
    ("argo-cd", "notifications", 1, 0, 0),
    ("ingress-nginx", "controller", 2, 0, 0),  # replicaCount in our values
    ("cert-manager", "", 1, 0, 0),
    ("cert-manager", "webhook", 1, 0, 0),
    ("cert-manager", "cainjector", 1, 0, 0),
    ("kube-prometheus-stack", "prometheus.prometheusSpec", 1, 10, 50),
    ("kube-prometheus-stack", "alertmanager.alertmanagerSpec", 1, 10, 50),
    ("kube-prometheus-stack", "grafana", 1, 0, 0),  # the dashboards sidecar requests nothing
    ("kube-prometheus-stack", "prometheusOperator", 1, 0, 0),
    ("kube-prometheus-stack", "kube-state-metrics", 1, 0, 0),
    ("cluster-autoscaler", "", 1, 0, 0),
    ("external-secrets", "", 1, 0, 0),
    ("external-secrets", "webhook", 1, 0, 0),
    ("external-secrets", "certController", 1, 0, 0),
    ("cloudnative-pg", "", 1, 0, 0),
    ("external-dns", "", 1, 0, 0),
    ("metrics-server", "", 2, 0, 0),  # replicas in our values
]
# EKS add-ons, not charts of ours: CoreDNS (2 replicas, 100m/70Mi each, the add-on's Deployment) and the EBS CSI
# controller (aws-ebs-csi-driver v1.48.0 values: replicaCount 2, controller.resources 10m/40Mi, applied to its five
# sidecars too).
ADD_ONS: list[tuple[str, int, int, int]] = [("coredns", 2, 100, 70), ("ebs-csi-controller", 2, 6 * 10, 6 * 40)]


def cpu_m(quantity: str | int) -> int:
    text = str(quantity)
    return int(text[:-1]) if text.endswith("m") else int(float(text) * 1000)


def memory_mi(quantity: str) -> int:
    number, unit = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", quantity).groups()  # type: ignore[union-attr]
    return int(float(number) * {"Mi": 1, "Gi": 1024, "Ki": 1 / 1024, "": 1 / 2**20}[unit])


def reserved_cpu_m(vcpus: int) -> int:
    total = vcpus * 1000
    reserved = 0
    for start, end, basis_points in ((0, 1000, 600), (1000, 2000, 100), (2000, 4000, 50), (4000, total, 25)):
        if total > start:
            reserved += (min(total, end) - start) * basis_points // 10000
    return reserved


@dataclass(frozen=True)
class Shape:
    cpu: int
    memory: int
    pods: int


def allocatable(instance_type: str) -> Shape:
    vcpus, memory, max_pods = INSTANCE_TYPES[instance_type]
    kube_reserved_memory = 11 * max_pods + 255
    usable = int(memory * (1 - VM_MEMORY_OVERHEAD))
    return Shape(
        vcpus * 1000 - reserved_cpu_m(vcpus), usable - kube_reserved_memory - EVICTION_HARD_MEMORY_MI, max_pods
    )


def test_allocatable_matches_the_eks_ami_formula() -> None:
    # Worked by hand from the formula: 2 vCPU reserve 60m + 10m; t3.medium 255 + 11*17 = 442Mi kube-reserved.
    assert reserved_cpu_m(2) == 70
    assert reserved_cpu_m(8) == 60 + 10 + 10 + 10
    assert allocatable("t3.medium") == Shape(1930, 3788 - 442 - 100, 17)
    assert allocatable("t3a.small") == Shape(1930, 1894 - 343 - 100, 8)


@dataclass
class Node:
    name: str
    size: str
    zone: int
    free: Shape
    pods: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Pod:
    name: str
    cpu: int
    memory: int
    node_selector: tuple[tuple[str, str], ...] = ()
    anti_affinity_zone: str | None = None  # pods sharing this key need different zones (required anti-affinity)
    priority: int = 0  # from the pod's PriorityClass; higher goes first (the scheduler preempts lower pods for it)


def _pod_requests(spec: Document) -> tuple[int, int]:
    def total(containers: list[Document]) -> tuple[int, int]:
        requests = [c.get("resources", {}).get("requests", {}) for c in containers]
        return sum(cpu_m(r.get("cpu", "0")) for r in requests), sum(memory_mi(r.get("memory", "0")) for r in requests)

    cpu, memory = total(spec["containers"])
    for init in spec.get("initContainers") or []:  # init containers run one at a time, before the others
        init_cpu, init_memory = total([init])
        cpu, memory = max(cpu, init_cpu), max(memory, init_memory)
    return cpu, memory


def app_pods(documents: list[Document], replicas: str) -> list[Pod]:
    pods: list[Pod] = []
    hpas = {
        (h["metadata"]["namespace"], h["spec"]["scaleTargetRef"]["name"]): h
        for h in of_kind(documents, "HorizontalPodAutoscaler")
    }
    for deployment in of_kind(documents, "Deployment"):
        key = (deployment["metadata"]["namespace"], deployment["metadata"]["name"])
        count = hpas[key]["spec"][f"{replicas}Replicas"] if key in hpas else deployment["spec"].get("replicas", 1)
        spec = deployment["spec"]["template"]["spec"]
        cpu, memory = _pod_requests(spec)
        selector = tuple(sorted((spec.get("nodeSelector") or {}).items()))
        pods += [Pod(f"{key[0]}/{key[1]}-{i}", cpu, memory, selector) for i in range(count)]
    for job in of_kind(documents, "Job"):  # migrations run during every sync, next to the old and new pods
        spec = job["spec"]["template"]["spec"]
        cpu, memory = _pod_requests(spec)
        pods.append(Pod(f"{job['metadata']['namespace']}/{job['metadata']['name']}", cpu, memory))
    for cronjob in of_kind(documents, "CronJob"):
        # Forbid: at most one run of each at a time, whenever the scheduler has to place it (a sync included).
        assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
        cpu, memory = _pod_requests(cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"])
        pods.append(Pod(f"{cronjob['metadata']['namespace']}/{cronjob['metadata']['name']}", cpu, memory))
    priorities = {c["metadata"]["name"]: c["value"] for c in of_kind(documents, "PriorityClass")}
    for database in of_kind(documents, "Cluster"):
        spec = database["spec"]
        # A name without its PriorityClass object: the API server refuses the pod, so it fits nowhere.
        priority = priorities.get(spec["priorityClassName"], -1) if "priorityClassName" in spec else 0
        requests = spec["resources"]["requests"]
        affinity = spec.get("affinity") or {}
        selector = tuple(sorted((affinity.get("nodeSelector") or {}).items()))
        zonal = (
            affinity.get("podAntiAffinityType") == "required"
            and affinity.get("topologyKey") == "topology.kubernetes.io/zone"
        )
        name = f"{database['metadata']['namespace']}/{database['metadata']['name']}"
        pods += [
            Pod(
                f"{name}-{i + 1}",
                cpu_m(requests["cpu"]),
                memory_mi(requests["memory"]),
                selector,
                name if zonal else None,
                priority,
            )
            for i in range(spec["instances"])
        ]
    return pods


def _values(documents: list[Document], application: str) -> dict[str, Any]:
    (app,) = [d for d in of_kind(documents, "Application") if d["metadata"]["name"] == application]
    values: dict[str, Any] = app["spec"]["source"]["helm"]["valuesObject"]
    return values


def _requests_at(values: dict[str, Any], path: str) -> tuple[int, int]:
    node = values
    for part in filter(None, path.split(".")):
        node = node[part]
    requests = node["resources"]["requests"]
    return cpu_m(requests["cpu"]), memory_mi(requests["memory"])


def platform_pods(documents: list[Document]) -> list[Pod]:
    pods = []
    for application, path, replicas, sidecar_cpu, sidecar_memory in PLATFORM:
        cpu, memory = _requests_at(_values(documents, application), path)
        pods += [
            Pod(f"{application}/{path or 'main'}-{i}", cpu + sidecar_cpu, memory + sidecar_memory)
            for i in range(replicas)
        ]
    for name, replicas, cpu, memory in ADD_ONS:
        pods += [Pod(f"kube-system/{name}-{i}", cpu, memory) for i in range(replicas)]
    return pods


def daemonsets(documents: list[Document]) -> list[tuple[str, int, int]]:
    exporter = _requests_at(_values(documents, "kube-prometheus-stack"), "prometheus-node-exporter")
    return [*DAEMONSETS, ("node-exporter", *exporter)]


def _fits(node: Node, pod: Pod, placed: dict[str, Node]) -> bool:
    if any({"node-size": node.size}.get(k) != v for k, v in pod.node_selector):
        return False
    if pod.anti_affinity_zone and any(
        other.zone == node.zone for name, other in placed.items() if name.rsplit("-", 1)[0] == pod.anti_affinity_zone
    ):
        return False
    return pod.cpu <= node.free.cpu and pod.memory <= node.free.memory and node.free.pods >= 1


def _new_node(group_name: str, group: dict[str, Any], ds: list[tuple[str, int, int]]) -> Node:
    worst = Shape(
        *(min(getattr(allocatable(t), f) for t in group["instance_types"]) for f in ("cpu", "memory", "pods"))
    )
    free = Shape(worst.cpu - sum(d[1] for d in ds), worst.memory - sum(d[2] for d in ds), worst.pods - len(ds))
    return Node(group_name, group["labels"]["node-size"], group["zone_index"], free, [d[0] for d in ds])


def pack(
    pods: list[Pod], groups: dict[str, dict[str, Any]], ds: list[tuple[str, int, int]], *, start: str, grow: bool
) -> tuple[list[Node], list[Pod]]:
    """First-fit decreasing. Nodes start at each group's `start` size (min or max); with `grow`, a pod that fits
    nowhere gets a new node from the first group (system, medium, small order) below its max that can take it, as
    cluster-autoscaler would. Returns the nodes and the pods that could not be placed."""
    order = {"system": 0, "medium": 1, "small": 2}
    names = sorted(groups, key=lambda g: (order[groups[g]["labels"]["node-size"]], g))
    nodes = [_new_node(g, groups[g], ds) for g in names for _ in range(groups[g][f"{start}_size"])]
    placed: dict[str, Node] = {}
    unplaced = []
    # Higher priority first models preemption: the scheduler evicts lower pods to place it, which ends the same.
    for pod in sorted(pods, key=lambda p: (p.priority, p.memory, p.cpu), reverse=True):
        if pod.priority < 0:
            unplaced.append(pod)
            continue
        target = next((n for n in nodes if _fits(n, pod, placed)), None)
        if target is None and grow:
            for g in names:
                if sum(n.name == g for n in nodes) < groups[g]["max_size"]:
                    candidate = _new_node(g, groups[g], ds)
                    if _fits(candidate, pod, placed):
                        nodes.append(candidate)
                        target = candidate
                        break
        if target is None:
            unplaced.append(pod)
            continue
        target.free = Shape(target.free.cpu - pod.cpu, target.free.memory - pod.memory, target.free.pods - 1)
        target.pods.append(pod.name)
        placed[pod.name] = target
    return nodes, unplaced


@pytest.fixture(scope="module")
def node_groups(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    groups: dict[str, dict[str, Any]] = _plan_outputs(tmp_path_factory.mktemp("plan"), 2)["node_groups"]
    assert {t for g in groups.values() for t in g["instance_types"]} <= set(INSTANCE_TYPES), "add the new type's row"
    return groups


def _report(nodes: list[Node]) -> str:
    return "\n".join(f"{n.name}: free {n.free} pods {n.pods}" for n in nodes)


def test_everything_fits_at_max_replicas_on_the_node_groups_at_max(
    documents: list[Document], node_groups: dict[str, dict[str, Any]]
) -> None:
    pods = app_pods(documents, "max") + platform_pods(documents)
    nodes, unplaced = pack(pods, node_groups, daemonsets(documents), start="max", grow=False)
    assert unplaced == [], _report(nodes)


def test_everything_fits_at_min_replicas_with_what_the_autoscaler_may_add(
    documents: list[Document], node_groups: dict[str, dict[str, Any]]
) -> None:
    """From the groups' min sizes the autoscaler adds nodes up to their max; at min replicas that must suffice with
    room to spare: a node of the largest Spot size per zone stays free for a rollout's surge and a reclaimed node."""
    pods = app_pods(documents, "min") + platform_pods(documents)
    nodes, unplaced = pack(pods, node_groups, daemonsets(documents), start="min", grow=True)
    assert unplaced == [], _report(nodes)
    spare = sum(g["max_size"] for g in node_groups.values()) - len(nodes)
    assert spare >= 2, f"{len(nodes)} nodes needed at min replicas, {spare} left:\n{_report(nodes)}"


def test_the_packing_fails_when_a_request_outgrows_the_nodes(node_groups: dict[str, dict[str, Any]]) -> None:
    ds = [("ds", 100, 100)]
    too_big = Pod("too-big", 100, allocatable("t3.medium").memory)  # fits no node once the DaemonSet is there
    assert pack([too_big], node_groups, ds, start="max", grow=False)[1] == [too_big]
    pair = [Pod("db-1", 10, 10, anti_affinity_zone="db"), Pod("db-2", 10, 10, anti_affinity_zone="db")]
    _nodes, unplaced = pack(
        pair, {k: v for k, v in node_groups.items() if v["zone_index"] == 0}, ds, start="max", grow=False
    )
    assert [p.name for p in unplaced] == ["db-2"], "required zone anti-affinity must keep two instances apart"


def test_database_instances_can_only_land_on_on_demand_nodes_one_zone_each(
    documents: list[Document], node_groups: dict[str, dict[str, Any]]
) -> None:
    """Spot gives two minutes' notice before it takes a node: a primary must not be there. The groups a Cluster's
    instances may use (its nodeSelector against the groups' labels, as the scheduler matches them) must all be on
    demand, and span as many zones as the instances when they must be in different zones."""
    for database in of_kind(documents, "Cluster"):
        affinity = database["spec"].get("affinity") or {}
        selector = affinity.get("nodeSelector") or {}
        usable = [g for g in node_groups.values() if all(g["labels"].get(k) == v for k, v in selector.items())]
        name = database["metadata"]["namespace"]
        assert usable, f"{name}: no node group has the labels {selector}"
        assert {g["capacity_type"] for g in usable} == {"ON_DEMAND"}, f"{name}: instances may land on Spot"
        if affinity.get("podAntiAffinityType") == "required":
            assert len({g["zone_index"] for g in usable}) >= database["spec"]["instances"], name
