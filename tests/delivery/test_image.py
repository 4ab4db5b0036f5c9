"""The container image, without a Docker engine: hadolint, what the Dockerfile promises versus what the Deployment
declares, and its start command run for real in a fresh virtualenv installed the way the builder stage installs."""

from __future__ import annotations

import json
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from manifests_py.render import REPO_ROOT, render
from sqlalchemy.engine import make_url

from expense_tracker.constants import (
    CONTAINER_GID,
    CONTAINER_UID,
    HTTP_PORT,
    METRICS_PATH,
    METRICS_PORT,
    PROMETHEUS_MULTIPROC_DIR,
)
from tests.conftest import ThrowawayPostgres, migrate, require_postgres
from tests.servers import free_port

DOCKERFILE = REPO_ROOT / "Dockerfile"


def _logical_lines() -> list[str]:
    """Dockerfile lines with comments dropped and backslash continuations joined."""
    lines, current = [], ""
    for raw in DOCKERFILE.read_text().splitlines():
        if raw.lstrip().startswith("#"):
            continue
        current += raw.rstrip("\\").strip() + " " if raw.endswith("\\") else raw.strip()
        if not raw.endswith("\\"):
            if current:
                lines.append(current)
            current = ""
    return lines


def parse_dockerfile() -> dict[str, Any]:
    """The runtime (last) stage's instructions that matter at run time; exec-form JSON arrays are required."""
    stages: list[list[str]] = []
    for line in _logical_lines():
        if line.upper().startswith("FROM "):
            stages.append([])
        if stages:
            stages[-1].append(line)
    runtime = stages[-1]
    result: dict[str, Any] = {"env": {}, "expose": []}
    for line in runtime:
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword in {"ENTRYPOINT", "CMD"}:
            result[keyword.lower()] = json.loads(rest)
        elif keyword == "ENV":
            for item in shlex.split(rest):
                key, _, value = item.partition("=")
                result["env"][key] = value
        elif keyword == "WORKDIR":
            result["workdir"] = rest
        elif keyword == "USER":
            result["user"] = rest
        elif keyword == "EXPOSE":
            result["expose"] += [int(port) for port in rest.split()]
    return result


def test_hadolint_is_clean() -> None:
    binary = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    result = subprocess.run([binary, str(DOCKERFILE)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_runtime_stage_is_exec_form_non_root_and_exposes_the_app_and_metrics_ports() -> None:
    image = parse_dockerfile()
    assert image["entrypoint"] == ["expense-tracker"]
    assert image["cmd"][0] == "run"
    assert image["user"] == f"{CONTAINER_UID}:{CONTAINER_GID}"
    assert image["expose"] == [HTTP_PORT, METRICS_PORT]
    assert image["env"]["PROMETHEUS_MULTIPROC_DIR"] == PROMETHEUS_MULTIPROC_DIR
    text = DOCKERFILE.read_text()
    assert text.count("FROM ${PYTHON_IMAGE}") == 2
    assert "ARG PYTHON_IMAGE=python:3.11." in text
    assert ":latest" not in text
    for label in ("source", "revision", "version"):
        assert f"org.opencontainers.image.{label}=" in text


def test_image_matches_what_the_deployment_declares() -> None:
    image = parse_dockerfile()
    for path, content in render().items():
        document = yaml.safe_load(content)
        if document["kind"] != "Deployment":
            continue
        pod = document["spec"]["template"]["spec"]
        container = pod["containers"][0]
        assert pod["securityContext"]["runAsUser"] == CONTAINER_UID, path
        assert pod["securityContext"]["runAsGroup"] == CONTAINER_GID, path
        assert [p["containerPort"] for p in container["ports"]] == image["expose"], path
        # The Deployment spells out the image's own start command (entrypoint + cmd).
        assert container["command"] == image["entrypoint"] + image["cmd"], path
        mounts = {mount["mountPath"] for mount in container["volumeMounts"]}
        assert any(image["env"]["PROMETHEUS_MULTIPROC_DIR"].startswith(mount) for mount in mounts), path


@pytest.fixture(scope="module")
def built_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the project installed as the builder stage does (`pip install .`, not editable)."""
    venv = tmp_path_factory.mktemp("image") / "venv"
    uv = shutil.which("uv")
    if uv:
        subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
        install = [uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), str(REPO_ROOT)]
    else:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        install = [str(venv / "bin" / "pip"), "install", "--quiet", "--no-compile", str(REPO_ROOT)]
    subprocess.run(install, check=True, timeout=600, capture_output=True)
    return venv


async def test_image_start_command_against_postgresql(
    built_venv: Path, tmp_path: Path, postgres: ThrowawayPostgres, postgres_unavailable: str | None
) -> None:
    require_postgres(postgres_unavailable)
    database_url = await postgres.create()
    import asyncio

    await asyncio.to_thread(migrate, database_url)
    image = parse_dockerfile()
    port, metrics_port = free_port(), free_port()
    # Tests use loopback only, on free ports: the only substitutions in an otherwise verbatim command.
    substitutes = {"0.0.0.0": "127.0.0.1", str(HTTP_PORT): str(port), str(METRICS_PORT): str(metrics_port)}
    command = [substitutes.get(part, part) for part in image["entrypoint"] + image["cmd"]]
    multiproc = tmp_path / "prometheus-multiproc"
    env = {
        **{k: v for k, v in image["env"].items() if k != "PATH"},
        "PATH": f"{built_venv / 'bin'}{os.pathsep}/usr/bin:/bin",
        "PROMETHEUS_MULTIPROC_DIR": str(multiproc),  # /tmp/… in the image; a private dir here
        "BUILD_COMMIT": "test",
        "SECRET_KEY": secrets.token_hex(32),
        "PUBLIC_URL": "https://expenses.example.org",
        "DATABASE_URL": make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False),
    }
    assert env["APP_ENV"] == "production"
    log = tmp_path / "server.log"
    process = await asyncio.to_thread(
        subprocess.Popen, command, cwd=tmp_path, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            deadline = time.monotonic() + 60
            while True:
                assert process.poll() is None, log.read_text()
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, log.read_text()
                await asyncio.sleep(0.3)
            assert (await client.get(METRICS_PATH)).status_code == 404  # not on the public port ...
            metrics = await client.get(f"http://127.0.0.1:{metrics_port}{METRICS_PATH}")  # ... on its own
            assert 'commit="test"' in metrics.text
    finally:
        process.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(process.wait, 30)
    assert code == 0, log.read_text()
    # The binary really came from the fresh virtualenv, not the test environment.
    assert shutil.which(command[0], path=env["PATH"]) == str(built_venv / "bin" / command[0])
