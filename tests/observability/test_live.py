"""Live check: the real app on PostgreSQL, scraped by a real Prometheus configured from the generated ServiceMonitor,
with the generated rules loaded; then every PromQL expression of the dashboards and rules is evaluated.

Deliberate differences from the cluster, each needed to finish in seconds: scrape and rule-evaluation intervals are
1 s (declared: 30 s), and the target labels prometheus-operator would attach (namespace, pod, job) are static labels.
"""

from __future__ import annotations

import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from dashboards.catalog import DASHBOARDS
from manifests_py import names
from manifests_py.components.app import build as build_app
from manifests_py.environments import load_environment

from expense_tracker.constants import APP_NAME, METRICS_PREFIX
from tests.conftest import ThrowawayPostgres, migrate, postgres_unavailable_reason, require_postgres, run_in_thread
from tests.observability.conftest import binary
from tests.servers import free_port, serve

ENVIRONMENT = "production"
NAMESPACE = names.app_namespace(ENVIRONMENT)
POD = "expense-tracker-web-1"
# Metrics only a cluster provides; expressions over them are evaluated (syntax, types) but cannot have data here.
CLUSTER_ONLY = re.compile(r"\b(kube_\w+|container_\w+|cnpg_\w+|kubelet_\w+|certmanager_\w+|argocd_\w+)")
# The recurring job's gauges exist once `expense-tracker recurring run` has recorded a run; nothing here runs it, so
# their expressions are evaluated (syntax, types) without data, like the cluster's.
NEEDS_A_JOB_RUN = re.compile(r"\bexpense_tracker_job_\w+")
VARIABLES = {"$namespace": NAMESPACE, "$pod": ".*", "$__rate_interval": "1m", "$__range": "10m"}


def _service_monitor_endpoint() -> dict[str, Any]:
    """The ServiceMonitor's endpoint, its named port followed through the Service to the container's port number."""
    objects = [m.obj for m in build_app(load_environment(ENVIRONMENT))]
    monitor = next(o for o in objects if o.kind == "ServiceMonitor")
    service = next(o for o in objects if o.kind == "Service")
    container = next(o for o in objects if o.kind == "Deployment").spec.template.spec.containers[0]
    endpoint = monitor.spec.endpoints[0]
    target = next(p.targetPort for p in service.spec.ports if p.name == endpoint.port)
    number = next(p.containerPort for p in container.ports if p.name == target)
    # The server binds its metrics where the Deployment's command says; that must be the port the Service targets.
    command = container.command
    assert command[command.index("--metrics-port") + 1] == str(number)
    return {"port": endpoint.port, "path": endpoint.path, "container_port": number}


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, ThrowawayPostgres, str]]:
    require_postgres(run_in_thread(postgres_unavailable_reason()))
    databases = ThrowawayPostgres()
    database_url = run_in_thread(databases.create())
    migrate(database_url)
    tmp = tmp_path_factory.mktemp("live")
    multiproc = tmp / "metrics"
    # The declared container port, moved to a free one (tests share the machine): the only change to the command.
    metrics_port = free_port()
    process, base = serve(
        database_url,
        tmp / "server.log",
        *("--wc", "2", "--metrics-port", str(metrics_port)),
        PROMETHEUS_MULTIPROC_DIR=str(multiproc),
    )
    yield base, metrics_port, databases, database_url
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    run_in_thread(databases.drop_all())


def _drive_traffic(base: str, databases: ThrowawayPostgres) -> None:
    with httpx.Client(base_url=base, timeout=10) as client:
        token = client.post("/auth/dev-login", json={"email": "live@example.com", "name": "Live"}).json()[
            "access_token"
        ]
        client.cookies.clear()
        auth = {"Authorization": f"Bearer {token}"}
        for index in range(5):
            assert (
                client.post("/api/expenses", json={"title": f"t{index}", "amount": "1.50"}, headers=auth).status_code
                == 201
            )
        assert client.get("/api/expenses", headers=auth).status_code == 200
        assert client.get("/api/reports/summary", headers=auth).status_code == 200
        assert client.post("/api/expenses", json={"title": "", "amount": "x"}, headers=auth).status_code == 400
        assert client.get("/api/expenses/00000000-0000-0000-0000-000000000000", headers=auth).status_code == 404
        assert client.get("/api/expenses").status_code == 401
        rejected = client.post("/api/expenses/import", files={"file": ("a.csv", b"title\n")}, headers=auth)
        assert rejected.status_code == 400
        # An honest 5xx: the database disappears under the running app. Twice, a few scrapes apart: a counter series
        # first scraped at 1 shows no increase to rate() until it grows again.
        run_in_thread(databases.drop_all())
        for _ in range(2):
            failed = client.get("/api/expenses", headers=auth)
            assert failed.status_code >= 500
            assert failed.headers["content-type"].startswith("application/problem+json")
            time.sleep(2.5)


def _prometheus_config(tmp: Path, port: int, rules: Path) -> Path:
    endpoint = _service_monitor_endpoint()
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(rules)],
        "scrape_configs": [
            {
                "job_name": APP_NAME,  # prometheus-operator names the job after the Service
                "metrics_path": endpoint["path"],
                "static_configs": [{"targets": [f"127.0.0.1:{port}"], "labels": {"namespace": NAMESPACE, "pod": POD}}],
            }
        ],
    }
    path = tmp / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def _expressions(rule_spec: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(kind, name, expr) with kind one of dashboard, record, alert."""
    found = []
    for spec in DASHBOARDS:
        for panel in spec.build()["panels"]:
            for target in panel.get("targets", []):
                expr = target["expr"]
                for variable, value in VARIABLES.items():
                    expr = expr.replace(variable, value)
                found.append(("dashboard", f"{spec.uid}: {panel['title']}", expr))
    for group in rule_spec["groups"]:
        for rule in group["rules"]:
            kind = "record" if "record" in rule else "alert"
            found.append((kind, rule.get("record") or rule["alert"], rule["expr"]))
    return found


def test_every_dashboard_and_rule_expression_works_against_the_real_app(
    app_server: tuple[str, int, ThrowawayPostgres, str], rule_spec: dict[str, Any], tmp_path: Path
) -> None:
    base, metrics_port, databases, _ = app_server
    prometheus = binary("prometheus")
    # The generated groups say 30 s; evaluate every second here so recording rules have data within seconds.
    fast_rules = {"groups": [{**group, "interval": "1s"} for group in rule_spec["groups"]]}
    rules = tmp_path / "rules.yml"
    rules.write_text(yaml.safe_dump(fast_rules))
    web_port = free_port()
    process = subprocess.Popen(
        [
            prometheus,
            f"--config.file={_prometheus_config(tmp_path, metrics_port, rules)}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{web_port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "prometheus.log").open("wb"),
    )
    api = f"http://127.0.0.1:{web_port}/api/v1"
    try:
        _wait_for(lambda: _query(api, f'up{{job="{APP_NAME}"}}') == [1.0], "Prometheus never scraped the app")
        _drive_traffic(base, databases)
        # Recording rules over the traffic, including the 5xx, and the error ratio above zero.
        errors = f'namespace:expense_tracker_request_errors:ratio_rate5m{{namespace="{NAMESPACE}"}}'
        try:
            _wait_for(
                lambda: any(v > 0 for v in _query(api, errors)), "the error-ratio recording rule never saw the 5xx"
            )
        except AssertionError:
            raw = httpx.get(f"{api}/query", params={"query": '{__name__=~"expense_tracker_requests_total"}'}).json()
            raise AssertionError(raw["data"]["result"]) from None
        time.sleep(3)  # a few more scrapes so rates over short windows have two samples
        failures, cluster_only = [], []
        expressions = _expressions(rule_spec)
        for kind, name, expr in expressions:
            response = httpx.get(f"{api}/query", params={"query": expr}, timeout=10).json()
            if response["status"] != "success":
                failures.append(f"{kind} {name}: {response.get('error')}")
            elif CLUSTER_ONLY.search(expr) or NEEDS_A_JOB_RUN.search(expr):
                cluster_only.append(name)
            # An alert's condition is empty while it is not firing; its operands are the recording rules checked here.
            elif kind != "alert" and not response["data"]["result"]:
                failures.append(f"{kind} {name}: no data for {expr}")
        assert not failures, "\n".join(failures)
        own = [
            name
            for kind, name, expr in expressions
            if kind != "alert" and not CLUSTER_ONLY.search(expr) and not NEEDS_A_JOB_RUN.search(expr)
        ]
        assert len(own) >= 35, own
        assert all(f"{METRICS_PREFIX}_" in expr for kind, name, expr in expressions if name in own)
        assert len(cluster_only) < len(expressions)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def _query(api: str, expr: str) -> list[float]:
    try:
        response = httpx.get(f"{api}/query", params={"query": expr}, timeout=5)
    except httpx.TransportError:
        return []  # not listening yet
    if response.status_code == 503:
        return []  # listening, TSDB still starting
    assert response.headers.get("content-type", "").startswith("application/json"), response.text
    return [float(item["value"][1]) for item in response.json().get("data", {}).get("result", [])]


def _wait_for(condition: Any, message: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.5)
