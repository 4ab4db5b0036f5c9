"""The real server process: ``expense-tracker run`` serves, drains in-flight requests on SIGTERM and exits 0, and
aggregates metrics across worker processes (prometheus-client multiprocess mode)."""

from __future__ import annotations

import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.servers import serve


@pytest.fixture
def stop() -> Iterator[list[subprocess.Popen[bytes]]]:
    processes: list[subprocess.Popen[bytes]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_sigterm_drains_in_flight_requests_and_exits_0(
    database_url: str, tmp_path: Path, stop: list[subprocess.Popen[bytes]]
) -> None:
    log = tmp_path / "server.log"
    process, base = serve(database_url, log)
    stop.append(process)
    token = httpx.post(f"{base}/auth/dev-login", json={"email": "drain@example.com"}).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    rows = 50_000
    csv = "title,amount,spent_on\n" + "".join(f"row {i},1.00,2024-01-01\n" for i in range(rows))
    result: dict[str, httpx.Response] = {}

    def upload() -> None:
        result["response"] = httpx.post(
            f"{base}/api/expenses/import", files={"file": ("big.csv", csv.encode())}, headers=headers, timeout=120
        )

    worker = threading.Thread(target=upload)
    worker.start()
    time.sleep(1.0)  # the upload is now being processed
    process.send_signal(signal.SIGTERM)
    worker.join(timeout=150)
    assert process.wait(timeout=60) == 0
    assert result["response"].status_code == 201, result["response"].text
    assert result["response"].json()["imported"] == rows

    restarted, base = serve(database_url, log)
    stop.append(restarted)
    listing = httpx.get(f"{base}/api/expenses?limit=1", headers=headers).json()
    assert listing["total"] == rows
    restarted.send_signal(signal.SIGTERM)
    assert restarted.wait(timeout=30) == 0
    output = log.read_text()
    assert "/api/expenses/import" in output  # the access log saw the request ...
    assert token not in output  # ... but never the session token


def test_metrics_aggregate_across_workers(
    database_url: str, tmp_path: Path, stop: list[subprocess.Popen[bytes]]
) -> None:
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    stale = metrics_dir / "counter_99999.db"
    stale.write_bytes(b"left over from a previous run")
    process, base = serve(database_url, tmp_path / "server.log", "--wc", "2", PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
    stop.append(process)
    assert not stale.exists()  # emptied before the workers started
    with httpx.Client(base_url=base) as client:
        for _ in range(40):  # new connections spread over both workers
            assert client.get("/api/me", headers={"Connection": "close"}).status_code == 401
        text = client.get("/metrics").text
    pattern = r'expense_tracker_requests_total\{[^}]*path="/api/me"[^}]*status_code="401"[^}]*\} (\S+)'
    assert sum(float(v) for v in re.findall(pattern, text)) == 40
    assert re.search(r"^expense_tracker_build_info\{", text, re.MULTILINE)
    assert len({p.name.split("_")[-1] for p in metrics_dir.glob("counter_*.db")}) >= 1
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
