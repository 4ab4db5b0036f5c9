"""Soak test: minutes of mixed load on the real server (2 workers, PostgreSQL), one worker killed with SIGKILL.

Pass criteria: no 5xx answers, worker RSS growth under 10 % between the end of the warm-up and the end, and the
connection-pool metrics consistent once the load stops (nothing checked out, no more open than the capacity, the
capacity that of the live workers). Prints the figures and exits 1 when a criterion fails.

    python bench/soak.py --minutes 5        # nox -s soak -- --minutes 5

Needs PostgreSQL (``SOAK_DATABASE_URL``, default the local server as ``postgres``); it creates and drops a database.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `python bench/soak.py` from the checkout

from bench.processes import free_port, workers_of

ADMIN_URL = os.environ.get("SOAK_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
WORKERS = 2
CLIENTS = 12
POOL_SIZE, MAX_OVERFLOW = 5, 5
WARM_UP_FRACTION = 0.2
RSS_GROWTH_LIMIT = 0.10
SECRET = "soak-secret-key-with-at-least-32-bytes!!"  # noqa: S105 - a throwaway server on loopback
OPERATIONS = (
    ("create", 40),
    ("list", 25),
    ("report", 10),
    ("update", 10),
    ("export", 5),
    ("delete", 5),
    ("import", 5),
)


@dataclass
class Figures:
    statuses: Counter[int] = field(default_factory=Counter)
    by_operation: Counter[tuple[str, int]] = field(default_factory=Counter)
    transport_errors: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    rss: dict[int, list[tuple[float, int]]] = field(default_factory=dict)
    killed: int | None = None


def rss_bytes(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


async def client_loop(base: str, index: int, deadline: float, figures: Figures) -> None:
    names = [name for name, _ in OPERATIONS]
    weights = [weight for _, weight in OPERATIONS]
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        login = await client.post("/auth/dev-login", json={"email": f"soak-{index}@example.com", "name": "Soak"})
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        client.cookies.clear()
        mine: list[str] = []
        while time.monotonic() < deadline:
            operation = random.choices(names, weights)[0]  # noqa: S311 - load mix, not security
            started = time.perf_counter()
            try:
                response = await perform(client, operation, headers, mine)
            except httpx.TransportError as exc:  # the killed worker's in-flight requests
                figures.transport_errors[type(exc).__name__] += 1
                continue
            figures.latencies.append(time.perf_counter() - started)
            figures.statuses[response.status_code] += 1
            figures.by_operation[(operation, response.status_code)] += 1


async def perform(
    client: httpx.AsyncClient, operation: str, headers: dict[str, str], mine: list[str]
) -> httpx.Response:
    if operation == "create" or (operation in {"update", "delete"} and not mine):
        body = {"title": f"soak {uuid.uuid4().hex[:8]}", "amount": f"{random.randint(1, 9999) / 100:.2f}"}  # noqa: S311
        response = await client.post("/api/expenses", json=body, headers=headers)
        if response.status_code == 201:
            mine.append(response.json()["id"])
        return response
    reads = {
        "list": "/api/expenses?limit=50&sort=-amount",
        "report": "/api/reports/monthly",
        "export": "/api/expenses/export.csv",
    }
    if operation in reads:
        return await client.get(reads[operation], headers=headers)
    if operation == "update":
        target = random.choice(mine)  # noqa: S311
        return await client.patch(f"/api/expenses/{target}", json={"notes": "soaked"}, headers=headers)
    if operation == "delete":
        return await client.delete(f"/api/expenses/{mine.pop()}", headers=headers)
    rows = "".join(f"import {i},{i % 50 + 1}.25,2024-03-{i % 28 + 1:02d},Soak {i % 5}\n" for i in range(200))
    content = ("title,amount,spent_on,category\n" + rows).encode()
    return await client.post("/api/expenses/import", files={"file": ("s.csv", content, "text/csv")}, headers=headers)


async def sample_rss(server: int, deadline: float, figures: Figures) -> None:
    while time.monotonic() < deadline:
        for pid in workers_of(server):
            if (value := rss_bytes(pid)) is not None:
                figures.rss.setdefault(pid, []).append((time.monotonic(), value))
        await asyncio.sleep(2)


async def kill_one_worker(server: int, at: float, figures: Figures) -> None:
    await asyncio.sleep(max(0.0, at - time.monotonic()))
    workers = workers_of(server)
    figures.killed = workers[0]
    os.kill(workers[0], signal.SIGKILL)


def pool_gauges(text: str) -> dict[str, float]:
    values = {}
    for name in ("in_use", "open", "capacity"):
        metric = {"in_use": "connections_in_use", "open": "connections_open", "capacity": "capacity"}[name]
        match = re.search(rf"^expense_tracker_db_pool_{metric} (\S+)$", text, re.MULTILINE)
        values[name] = float(match.group(1)) if match else float("nan")
    return values


def growth(samples: list[tuple[float, int]], warm_until: float) -> float | None:
    after = [value for moment, value in samples if moment >= warm_until]
    if len(after) < 6:
        return None
    start, end = statistics.median(after[:3]), statistics.median(after[-3:])
    return (end - start) / start


def server_env(database_url: str, multiproc: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET,
        "APP_ENV": "development",
        "PROMETHEUS_MULTIPROC_DIR": str(multiproc),
        "DB_POOL_SIZE": str(POOL_SIZE),
        "DB_MAX_OVERFLOW": str(MAX_OVERFLOW),
        "RATE_LIMIT_AUTH": "100000/minute",  # the soak measures the app, not its rate limits
        "RATE_LIMIT_WRITES": "100000/minute",
        "RATE_LIMIT_IMPORTS": "100000/minute",
        "LOG_LEVEL": "WARNING",
    }


def start_server(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    """The server on free ports; returns it, the app's base URL and the metrics port's base URL."""
    subprocess.run([sys.executable, "-m", "expense_tracker", "database", "upgrade", "--no-prompt"], env=env, check=True)
    port, metrics_port = free_port(), free_port()
    command = [sys.executable, "-m", "expense_tracker", "run", "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [*command, "--metrics-port", str(metrics_port), "--wc", str(WORKERS)],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return server, base, f"http://127.0.0.1:{metrics_port}"
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    server.kill()
    raise SystemExit(f"the server did not become ready; see {log}")


async def load(server: subprocess.Popen[bytes], base: str, minutes: float, figures: Figures) -> float:
    """Run the mixed load; returns the monotonic time the warm-up ended."""
    started = time.monotonic()
    duration = minutes * 60
    deadline = started + duration
    await asyncio.gather(
        *(client_loop(base, i, deadline, figures) for i in range(CLIENTS)),
        sample_rss(server.pid, deadline, figures),
        kill_one_worker(server.pid, started + duration / 2, figures),
    )
    return started + duration * WARM_UP_FRACTION


def verdict(figures: Figures, warm_until: float, scrapes: list[dict[str, float]], live_workers: int) -> list[str]:
    fivexx = {key: count for key, count in figures.by_operation.items() if key[1] >= 500}
    # Workers that lived through the whole measured window; the replacement of the killed one is reported only.
    measured = {
        pid: growth(samples, warm_until)
        for pid, samples in figures.rss.items()
        if pid != figures.killed and samples[0][0] <= warm_until
    }
    capacity = live_workers * (POOL_SIZE + MAX_OVERFLOW)
    latencies = sorted(figures.latencies)
    print(f"{CLIENTS} clients, {WORKERS} workers; killed worker {figures.killed} (SIGKILL) half-way")
    print(f"requests {sum(figures.statuses.values())}, statuses {dict(sorted(figures.statuses.items()))}")
    print(f"transport errors (requests in flight on the killed worker) {dict(figures.transport_errors)}")
    if latencies:
        p50, p99 = latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.99)]
        print(f"latency p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms")
    for pid, samples in figures.rss.items():
        value = measured.get(pid)
        judged = "n/a (not alive for the whole window)" if value is None else f"{value * 100:+.1f} %"
        print(
            f"worker {pid}: RSS {samples[0][1] / 2**20:.0f} -> {samples[-1][1] / 2**20:.0f} MiB; after warm-up {judged}"
        )
    print(f"pool gauges after the load (expected capacity {capacity}): {scrapes}")
    failures = []
    if fivexx:
        failures.append(f"5xx answers: {fivexx}")
    values = [v for v in measured.values() if v is not None]
    if not values or max(values) >= RSS_GROWTH_LIMIT:
        failures.append(f"RSS growth {values} (limit {RSS_GROWTH_LIMIT:.0%})")
    if not all(s["in_use"] == 0 and 0 <= s["open"] <= s["capacity"] == capacity for s in scrapes):
        failures.append("pool gauges inconsistent after the load")
    return failures


async def soak(minutes: float) -> int:
    admin = await asyncpg.connect(ADMIN_URL)
    name = f"et_soak_{uuid.uuid4().hex[:8]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    database_url = "postgresql+asyncpg://" + ADMIN_URL.split("://", 1)[1].rsplit("/", 1)[0] + f"/{name}"
    multiproc = Path(tempfile.mkdtemp(prefix="et-soak-metrics-"))
    env = server_env(database_url, multiproc)
    server, base, metrics_base = await asyncio.to_thread(start_server, env, multiproc.parent / f"{name}.log")
    figures = Figures()
    try:
        warm_until = await load(server, base, minutes, figures)
        await asyncio.sleep(3)  # idle: every pooled connection should be checked in again
        async with httpx.AsyncClient(base_url=metrics_base, timeout=5) as client:
            scrapes = [pool_gauges((await client.get("/metrics")).text) for _ in range(4)]
        live_workers = len(workers_of(server.pid))
    finally:
        server.send_signal(signal.SIGTERM)
        await asyncio.to_thread(server.wait, 60)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    print(f"duration {minutes} min")
    failures = verdict(figures, warm_until, scrapes, live_workers)
    for failure in failures:
        print("FAIL:", failure)
    print("PASS" if not failures else "FAILED")
    return 1 if failures else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=5.0)
    args = parser.parse_args()
    sys.exit(asyncio.run(soak(args.minutes)))


if __name__ == "__main__":
    main()
