"""Objects agree with each other and with the app: selectors, ports, keys, targets, names, settings."""

from __future__ import annotations

import re

import pytest
import yaml
from manifests_py import names
from manifests_py.components.app.database import database_secret
from manifests_py.environments import ENVIRONMENT_NAMES, load_environment
from manifests_py.render import DEFAULT_OUT

from expense_tracker.constants import (
    HEALTH_LIVE_PATH,
    HEALTH_READY_PATH,
    HTTP_PORT,
    HTTP_PORT_NAME,
    METRICS_PATH,
    METRICS_PORT,
    METRICS_PORT_NAME,
)
from expense_tracker.settings import SETTINGS, load_settings
from tests.conftest import TEST_SECRET
from tests.manifests.conftest import Document, of_kind, one, pod_templates, selects

APP_NAMESPACES = [names.app_namespace(name) for name in ENVIRONMENT_NAMES]


def test_every_service_selects_a_pod_template(documents: list[Document]) -> None:
    for service in of_kind(documents, "Service"):
        namespace = service["metadata"]["namespace"]
        targets = [
            template
            for workload, template in pod_templates(documents)
            if workload["metadata"]["namespace"] == namespace
            and selects(service["spec"]["selector"], template["metadata"]["labels"])
        ]
        assert targets, f"Service {namespace}/{service['metadata']['name']} selects no pods"
        for port in service["spec"]["ports"]:
            container_ports = {p["name"] for t in targets for c in t["spec"]["containers"] for p in c.get("ports", [])}
            assert port["targetPort"] in container_ports


def test_every_ingress_backend_names_an_existing_service_and_port(documents: list[Document]) -> None:
    for ingress in of_kind(documents, "Ingress"):
        namespace = ingress["metadata"]["namespace"]
        paths = [path for rule in ingress["spec"]["rules"] for path in rule["http"]["paths"]]
        assert {path["path"] for path in paths} == {"/"}
        for path in paths:
            backend = path["backend"]["service"]
            service = one(documents, "Service", namespace, backend["name"])
            assert backend["port"]["name"] in {port["name"] for port in service["spec"]["ports"]}
        hosts = {host for tls in ingress["spec"]["tls"] for host in tls["hosts"]}
        assert hosts == {rule["host"] for rule in ingress["spec"]["rules"]}


def test_every_referenced_config_and_secret_key_is_produced(documents: list[Document]) -> None:
    for workload, template in pod_templates(documents):
        namespace = workload["metadata"]["namespace"]
        for container in template["spec"]["containers"]:
            for env in container["env"]:
                source = env["valueFrom"]
                if "configMapKeyRef" in source:
                    ref = source["configMapKeyRef"]
                    assert ref["key"] in one(documents, "ConfigMap", namespace, ref["name"])["data"]
                else:
                    ref = source["secretKeyRef"]
                    if ref["name"] == database_secret(load_environment(namespace.rsplit("-", 1)[1])):
                        # CloudNativePG generates this Secret; `uri` is one of the keys it always writes.
                        assert ref["key"] == "uri"
                        one(documents, "Cluster", namespace, names.database_cluster(namespace))
                        continue
                    external = one(documents, "ExternalSecret", namespace, ref["name"])
                    assert external["spec"]["target"]["name"] == ref["name"]
                    assert ref["key"] in {item["secretKey"] for item in external["spec"]["data"]}


def test_probes_use_declared_ports_and_the_app_health_paths(documents: list[Document]) -> None:
    for deployment in of_kind(documents, "Deployment"):
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        port_names = {port["name"] for port in container["ports"]}
        assert {port["containerPort"] for port in container["ports"]} == {HTTP_PORT, METRICS_PORT}
        probes = {kind: container[kind]["httpGet"] for kind in ("startupProbe", "readinessProbe", "livenessProbe")}
        assert all(probe["port"] in port_names for probe in probes.values())
        assert all(probe["port"] == HTTP_PORT_NAME for probe in probes.values())  # the app answers them, not metrics
        assert probes["readinessProbe"]["path"] == HEALTH_READY_PATH
        assert probes["livenessProbe"]["path"] == HEALTH_LIVE_PATH
        assert "replicas" not in deployment["spec"], "the HPA owns the replica count"


def test_hpa_and_pdb_targets_exist(documents: list[Document]) -> None:
    for hpa in of_kind(documents, "HorizontalPodAutoscaler"):
        target = hpa["spec"]["scaleTargetRef"]
        one(documents, target["kind"], hpa["metadata"]["namespace"], target["name"])
        assert {metric["resource"]["name"] for metric in hpa["spec"]["metrics"]} == {"cpu"}
    for pdb in of_kind(documents, "PodDisruptionBudget"):
        namespace = pdb["metadata"]["namespace"]
        selected = [
            d
            for d in of_kind(documents, "Deployment", namespace)
            if selects(pdb["spec"]["selector"]["matchLabels"], d["spec"]["template"]["metadata"]["labels"])
        ]
        assert len(selected) == 1


def test_service_monitor_selects_the_app_service_and_an_existing_port(documents: list[Document]) -> None:
    for namespace in APP_NAMESPACES:
        monitors = of_kind(documents, "ServiceMonitor", namespace)
        assert len(monitors) == 1
        monitor = monitors[0]
        assert selects(names.PROMETHEUS_SELECTOR_LABELS, monitor["metadata"]["labels"])
        services = [
            s
            for s in of_kind(documents, "Service", namespace)
            if selects(monitor["spec"]["selector"]["matchLabels"], s["metadata"]["labels"])
        ]
        assert len(services) == 1
        for endpoint in monitor["spec"]["endpoints"]:
            assert endpoint["port"] == METRICS_PORT_NAME  # the supervisor's metrics port, not the app's
            assert endpoint["port"] in {port["name"] for port in services[0]["spec"]["ports"]}
            assert endpoint["path"] == METRICS_PATH


def test_the_ingress_routes_only_the_app_port(documents: list[Document]) -> None:
    for namespace in APP_NAMESPACES:
        for ingress in of_kind(documents, "Ingress", namespace):
            backends = [
                path["backend"]["service"]["port"]
                for rule in ingress["spec"]["rules"]
                for path in rule["http"]["paths"]
            ]
            assert backends
            assert all(port == {"name": HTTP_PORT_NAME} for port in backends), backends


def test_app_objects_live_in_their_environment_namespace(files: dict[str, str]) -> None:
    for path, content in files.items():
        if path.startswith("apps/"):
            environment = path.split("/")[1]
            document = yaml.safe_load(content)
            expected = names.app_namespace(environment)
            assert document["metadata"].get("namespace", document["metadata"]["name"]) == expected, path


def test_every_application_path_exists_and_every_area_is_synced(
    documents: list[Document], files: dict[str, str]
) -> None:
    synced = set()
    for application in of_kind(documents, "Application"):
        source = application["spec"]["source"]
        if "path" in source:
            assert (DEFAULT_OUT.parent / source["path"]).is_dir(), source["path"]
            synced.add(source["path"].removeprefix("manifests/"))
        else:
            assert re.fullmatch(r"v?\d+\.\d+\.\d+", source["targetRevision"]), "charts are pinned to exact versions"
        assert application["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    # Everything but the bootstrap (applied once by `cluster up`) is synced by some Application.
    assert {path.rsplit("/", 1)[0] for path in files} - {"bootstrap"} == synced


def test_namespace_enforces_restricted_pod_security(documents: list[Document]) -> None:
    for namespace in APP_NAMESPACES:
        found = [d for d in of_kind(documents, "Namespace") if d["metadata"]["name"] == namespace]
        assert len(found) == 1
        labels = found[0]["metadata"]["labels"]
        assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


def test_pods_run_hardened(documents: list[Document]) -> None:
    for _, template in pod_templates(documents):
        spec = template["spec"]
        assert spec["automountServiceAccountToken"] is False
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        for container in spec["containers"]:
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True
            assert security["allowPrivilegeEscalation"] is False
            assert security["capabilities"] == {"drop": ["ALL"]}
            assert {"requests", "limits"} <= set(container["resources"])
            assert "@sha256:" in container["image"]


def production_env(documents: list[Document], environment: str) -> dict[str, str]:
    """The app container's environment as the cluster would give it (secrets stood in)."""
    namespace = names.app_namespace(environment)
    deployment = one(documents, "Deployment", namespace, "expense-tracker")
    config = {d["metadata"]["name"]: d["data"] for d in of_kind(documents, "ConfigMap", namespace)}
    env: dict[str, str] = {}
    for item in deployment["spec"]["template"]["spec"]["containers"][0]["env"]:
        source = item["valueFrom"]
        if "configMapKeyRef" in source:
            env[item["name"]] = config[source["configMapKeyRef"]["name"]][source["configMapKeyRef"]["key"]]
        elif item["name"] == "DATABASE_URL":
            env[item["name"]] = "postgresql://app:stand-in@expense-tracker-db-rw:5432/app"  # the CNPG `uri` shape
        elif item["name"] == "SECRET_KEY":
            env[item["name"]] = TEST_SECRET  # production refuses a readable stand-in key
        else:
            env[item["name"]] = f"stand-in-{item['name'].lower()}-" + "x" * 32
    return env


@pytest.mark.parametrize("environment", ENVIRONMENT_NAMES)
def test_container_env_is_accepted_by_the_app_in_production(documents: list[Document], environment: str) -> None:
    env = production_env(documents, environment)
    settings = load_settings(env)
    assert settings.is_production
    assert settings.public_url == load_environment(environment).public_url
    assert settings.database_url.startswith("postgresql+asyncpg://")
    assert settings.google is not None or settings.oidc is not None, "production needs a sign-in provider"
    required = {spec.name for spec in SETTINGS if spec.name in {"APP_ENV", "SECRET_KEY", "PUBLIC_URL", "DATABASE_URL"}}
    assert required <= set(env)


@pytest.mark.parametrize("environment", ENVIRONMENT_NAMES)
@pytest.mark.parametrize(
    ("forwarded_for", "client"),
    [
        ("203.0.113.9", "203.0.113.9"),  # what ingress-nginx sends for a client that set no header
        ("198.51.100.1, 203.0.113.9", "203.0.113.9"),  # a client's own (spoofed) entry stays to the left, unused
    ],
)
def test_rate_limits_see_the_client_behind_the_ingress(
    documents: list[Document], environment: str, forwarded_for: str, client: str
) -> None:
    from litestar.connection import ASGIConnection

    from expense_tracker.lib.rate_limit import RateLimiter

    limiter = RateLimiter(load_settings(production_env(documents, environment)))
    scope: dict[str, object] = {
        "type": "http",
        "client": ("10.0.3.7", 43210),  # the ingress controller pod: every request arrives from it
        "headers": [(b"x-forwarded-for", forwarded_for.encode())],
    }
    assert limiter.client_address(ASGIConnection(scope)) == client  # type: ignore[arg-type]


CREDENTIAL = re.compile(
    r"(AKIA[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY|ghp_[A-Za-z0-9]{20,}|eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"
    # A value after a secret-sounding key that mixes lower case and digits, as generated secrets do (names such as
    # `secretKey: GOOGLE_CLIENT_ID` or `secretName: expense-tracker-tls` don't).
    r"|(?i:password|passwd|secret|token|api[_-]?key)[\w.-]*\s*[:=]\s*['\"]?"
    r"(?=[A-Za-z0-9+/_-]*[0-9])(?=[A-Za-z0-9+/_-]*[a-z])[A-Za-z0-9+/_-]{12,})"
)


@pytest.mark.parametrize(
    "leak",
    [
        "password: hunter2hunter2hunter2",
        "aws_key: AKIAABCDEFGHIJKLMNOP",
        "SECRET_KEY=k3y9fj2mx8qw7vn4bz6t",
        "token: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig",
    ],
)
def test_credential_scan_finds_credentials(leak: str) -> None:
    assert CREDENTIAL.search(leak)


def test_no_secret_values_anywhere(files: dict[str, str], documents: list[Document]) -> None:
    assert not [d for d in documents if d["kind"] == "Secret"]
    for path, content in files.items():
        assert not CREDENTIAL.search(content), (path, CREDENTIAL.search(content))
