"""Manifest-driven smoke test: run exactly what the generated Job and Deployment declare, against real PostgreSQL,
then call the probes and the ServiceMonitor's port/path as declared.

Only four things differ from the cluster, each for a stated reason: the host `0.0.0.0` becomes 127.0.0.1 (tests use
loopback only), each declared container port becomes a free one (tests share the machine), the container's temp dir
(an emptyDir) becomes a pytest temp dir, and the Secret values are stand-ins (DATABASE_URL is the throwaway database in
the plain `postgresql://` form CloudNativePG's `uri` key has).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from manifests_py import names
from sqlalchemy.engine import make_url

from expense_tracker.constants import CONTAINER_TMP_DIR, METRIC_BUILD_INFO
from tests.conftest import TEST_SECRET, ThrowawayPostgres, require_postgres
from tests.manifests.conftest import Document, of_kind, one
from tests.servers import free_port

ENVIRONMENT = "production"


def _container_env(documents: list[Document], workload: Document, database_url: str, tmp: Path) -> dict[str, str]:
    namespace = workload["metadata"]["namespace"]
    env: dict[str, str] = {}
    for item in workload["spec"]["template"]["spec"]["containers"][0]["env"]:
        source = item["valueFrom"]
        if "configMapKeyRef" in source:
            ref = source["configMapKeyRef"]
            value = one(documents, "ConfigMap", namespace, ref["name"])["data"][ref["key"]]
            env[item["name"]] = (
                value.replace(CONTAINER_TMP_DIR, str(tmp), 1) if value.startswith(CONTAINER_TMP_DIR) else value
            )
        elif item["name"] == "DATABASE_URL":
            env[item["name"]] = database_url
        elif item["name"] == "SECRET_KEY":
            env[item["name"]] = TEST_SECRET  # production refuses a readable stand-in key
        else:
            # Random, like the real secrets: a patterned stand-in could trip the app's check for guessable keys.
            env[item["name"]] = f"stand-in-{item['name'].lower()}-" + secrets.token_hex(32)
    return env


def _process_env(env: dict[str, str]) -> dict[str, str]:
    # A clean environment like a container's: only PATH (to find the console script) plus what the manifest declares.
    return {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": env.get("HOME", "/tmp"),
        # Where the source under test is (a worktree run); the image has it installed instead.
        **({"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {}),
        **env,
    }


# Declared container port -> the free port it is served on here.
_FREE_PORTS: dict[int, int] = {}


def _free_port_for(declared: int) -> int:
    return _FREE_PORTS.setdefault(declared, free_port())


def _command(container: Document) -> list[str]:
    command = [*container["command"], *container.get("args", [])]
    assert shutil.which(command[0], path=_process_env({})["PATH"]), f"{command[0]} is not installed"
    declared = {str(p["containerPort"]) for p in container.get("ports", [])}
    return [
        "127.0.0.1" if part == "0.0.0.0" else str(_free_port_for(int(part))) if part in declared else part
        for part in command
    ]


def _port_number(container: Document, port: int | str) -> int:
    if isinstance(port, str):
        port = next(p["containerPort"] for p in container["ports"] if p["name"] == port)
    return _free_port_for(port)


async def test_job_and_deployment_run_as_declared(
    documents: list[Document], tmp_path: Path, postgres: ThrowawayPostgres, postgres_unavailable: str | None
) -> None:
    require_postgres(postgres_unavailable)
    namespace = names.app_namespace(ENVIRONMENT)
    url = make_url(await postgres.create()).set(drivername="postgresql").render_as_string(hide_password=False)
    job = one(documents, "Job", namespace, "expense-tracker-migrate")
    deployment = one(documents, "Deployment", namespace, "expense-tracker")

    # 1. The migration Job's command, with the Job's own env.
    job_container = job["spec"]["template"]["spec"]["containers"][0]
    migration = await asyncio.to_thread(
        subprocess.run,
        _command(job_container),
        env=_process_env(_container_env(documents, job, url, tmp_path)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migration.returncode == 0, migration.stderr

    # 2. The Deployment's command and env (production mode, the configured worker count).
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    env = _container_env(documents, deployment, url, tmp_path)
    assert env["APP_ENV"] == "production"
    log = (tmp_path / "server.log").open("wb")
    process = await asyncio.to_thread(
        subprocess.Popen, _command(container), env=_process_env(env), stdout=log, stderr=subprocess.STDOUT
    )
    try:
        await _exercise_declared_endpoints(documents, namespace, container, process, tmp_path)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(process.wait, 30)
        log.close()
    assert code == 0, (tmp_path / "server.log").read_text()


async def _exercise_declared_endpoints(
    documents: list[Document], namespace: str, container: Document, process: subprocess.Popen[Any], tmp_path: Path
) -> None:
    startup = container["startupProbe"]["httpGet"]
    base = f"http://127.0.0.1:{_port_number(container, startup['port'])}"
    async with httpx.AsyncClient(base_url=base, timeout=5) as client:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp_path / "server.log").read_text()
            try:
                if (await client.get(startup["path"])).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the startup probe never passed"
            await asyncio.sleep(0.3)
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            action = container[probe]["httpGet"]
            response = await client.get(f"http://127.0.0.1:{_port_number(container, action['port'])}{action['path']}")
            assert response.status_code == 200, (probe, response.text)
        # The port the Ingress routes does not serve the metrics.
        ingress = of_kind(documents, "Ingress", namespace)[0]
        routed = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["port"]["name"]
        service = one(documents, "Service", namespace, "expense-tracker")
        public = _port_number(container, next(p for p in service["spec"]["ports"] if p["name"] == routed)["targetPort"])
        monitor_path = of_kind(documents, "ServiceMonitor", namespace)[0]["spec"]["endpoints"][0]["path"]
        assert (await client.get(f"http://127.0.0.1:{public}{monitor_path}")).status_code == 404

    # The ServiceMonitor → Service port → container port chain, as Prometheus would follow it.
    monitor = of_kind(documents, "ServiceMonitor", namespace)[0]
    endpoint = monitor["spec"]["endpoints"][0]
    service = one(documents, "Service", namespace, "expense-tracker")
    service_port = next(p for p in service["spec"]["ports"] if p["name"] == endpoint["port"])
    port = _port_number(container, service_port["targetPort"])
    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.get(f"http://127.0.0.1:{port}{endpoint['path']}")
    assert response.status_code == 200
    assert METRIC_BUILD_INFO in response.text
    # Multiprocess metrics went to the emptyDir stand-in, as the read-only root filesystem requires.
    assert any((tmp_path / "prometheus-multiproc").iterdir())
