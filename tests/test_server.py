"""The real server process: ``expense-tracker run`` serves, drains in-flight requests on SIGTERM and exits 0, and
aggregates metrics across worker processes (prometheus-client multiprocess mode)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.servers import free_port, serve


def scrape(metrics_port: int) -> str:
    response = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5)
    assert response.status_code == 200
    return response.text


def value(text: str, name: str) -> float:
    """The one sample of an unlabelled metric (multiprocess gauges are merged into one by the supervisor)."""
    match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    assert match, f"{name} not in the scrape"
    return float(match.group(1))


@pytest.fixture
async def postgres_url(database_factory: Any) -> str:
    """A fresh migrated PostgreSQL database: the multi-worker tests need a server database."""
    url: str = await database_factory("postgresql")
    return url


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
    metrics_port = free_port()
    process, base = serve(database_url, log, "--metrics-port", str(metrics_port))
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
    # The server has the upload in hand (not merely sent): only then the signal.
    wait_for(lambda: in_flight(metrics_port, "/api/expenses/import") == 1, "the upload in flight", 60)
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
    metrics_port = free_port()
    process, base = serve(
        database_url,
        tmp_path / "server.log",
        *("--wc", "2", "--metrics-port", str(metrics_port)),
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
    )
    stop.append(process)
    assert not stale.exists()  # emptied before the workers started
    with httpx.Client(base_url=base) as client:
        for _ in range(40):  # new connections spread over both workers
            assert client.get("/api/me", headers={"Connection": "close"}).status_code == 401
        assert client.get("/metrics").status_code == 404  # not on the public port ...
    text = scrape(metrics_port)  # ... but on the metrics port
    pattern = r'expense_tracker_requests_total\{[^}]*path="/api/me"[^}]*status_code="401"[^}]*\} (\S+)'
    assert sum(float(v) for v in re.findall(pattern, text)) == 40
    assert re.search(r"^expense_tracker_build_info\{", text, re.MULTILINE)
    assert len({p.name.split("_")[-1] for p in metrics_dir.glob("counter_*.db")}) >= 1
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0


def workers_of(supervisor: int) -> set[int]:
    """The uvicorn worker processes (multiprocessing ``spawn`` children) of the supervisor."""
    children = Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split()
    workers = set()
    for child in children:
        try:
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                workers.add(int(child))
        except FileNotFoundError:  # exited meanwhile
            continue
    return workers


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


POOL_SIZE, MAX_OVERFLOW, WORKERS = 3, 2, 2
CAPACITY = "expense_tracker_db_pool_capacity"
IN_USE = "expense_tracker_db_pool_connections_in_use"
OPEN = "expense_tracker_db_pool_connections_open"


def test_pool_metrics_stay_true_after_a_worker_is_killed(
    postgres_url: str, tmp_path: Path, stop: list[subprocess.Popen[bytes]]
) -> None:
    database_url = postgres_url
    metrics_port = free_port()
    process, base = serve(
        database_url,
        tmp_path / "server.log",
        *("--wc", str(WORKERS), "--metrics-port", str(metrics_port)),
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prometheus"),
        DB_POOL_SIZE=str(POOL_SIZE),
        DB_MAX_OVERFLOW=str(MAX_OVERFLOW),
    )
    stop.append(process)
    log = tmp_path / "server.log"

    def started() -> int:  # each worker logs this once its startup hooks (which set up the pool metrics) are done
        return log.read_text().count("Application startup complete")

    capacity = WORKERS * (POOL_SIZE + MAX_OVERFLOW)  # 10
    wait_for(lambda: started() == WORKERS, "both workers")
    assert value(scrape(metrics_port), CAPACITY) == capacity

    def load() -> None:
        with httpx.Client(base_url=base) as client:  # fresh connections reach both workers
            for _ in range(30):
                assert client.get("/readyz", headers={"Connection": "close"}).status_code == 200

    load()
    victim = min(workers_of(process.pid))
    os.kill(victim, signal.SIGKILL)
    # uvicorn's supervisor notices and starts a replacement, which opens its own pool.
    wait_for(lambda: started() == WORKERS + 1, "the replacement worker")
    assert victim not in workers_of(process.pid)
    assert len(workers_of(process.pid)) == WORKERS
    load()
    text = scrape(metrics_port)
    assert value(text, CAPACITY) == capacity  # the dead worker's pool no longer counts
    assert 0 <= value(text, IN_USE) <= capacity
    assert 0 <= value(text, OPEN) <= capacity
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0


class FlakyDatabase:
    """A loopback TCP proxy to PostgreSQL that can go down (drop every connection, refuse new ones) and come back."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self.pairs: list[socket.socket] = []
        self.listener: socket.socket | None = None
        self.lock = threading.Lock()

    def up(self) -> None:
        listener = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        assert self.listener is not None
        self.listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(); close() alone would not on Linux
        self.listener.close()  # new connections are refused ...
        with self.lock:  # ... and the open ones cut
            for sock in self.pairs:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self.pairs.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # closed by down()
                return
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.pairs += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


def test_pool_in_use_never_goes_negative_when_the_database_refuses_connections(
    postgres_url: str, tmp_path: Path, stop: list[subprocess.Popen[bytes]]
) -> None:
    url = make_url(postgres_url)
    flaky = FlakyDatabase((url.host or "127.0.0.1", url.port or 5432))
    flaky.up()
    metrics_port = free_port()
    process, base = serve(
        url.set(host="127.0.0.1", port=flaky.port).render_as_string(hide_password=False),
        tmp_path / "server.log",
        "--metrics-port",
        str(metrics_port),
    )
    stop.append(process)
    token = httpx.post(f"{base}/auth/dev-login", json={"email": "flaky@example.com"}).json()["access_token"]
    seen: list[tuple[float, float]] = []

    def traffic(expect_ok: bool) -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
            for _ in range(3):
                # A listing, not /api/me: within SESSION_CACHE_SECONDS /api/me needs no database at all.
                ready, listed = client.get("/readyz"), client.get("/api/expenses?limit=1")
                assert (ready.status_code, listed.status_code) == ((200, 200) if expect_ok else (503, 503))  # an outage
                text = scrape(metrics_port)
                seen.append((value(text, IN_USE), value(text, OPEN)))

    traffic(True)
    for _ in range(2):  # down a few times, each time with requests failing, then back
        flaky.down()
        traffic(False)
        flaky.up()
        traffic(True)
    assert all(in_use >= 0 and open_ >= 0 for in_use, open_ in seen), seen
    wait_for(lambda: value(scrape(metrics_port), IN_USE) == 0, "idle pool")  # nothing is checked out when idle
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0


IN_FLIGHT = 20
CREATE_PATH = "/api/expenses"


def in_flight(metrics_port: int, path: str) -> float:
    pattern = rf'^expense_tracker_requests_in_progress{{[^}}]*path="{re.escape(path)}"[^}}]*}} (\S+)$'
    return sum(float(v) for v in re.findall(pattern, scrape(metrics_port), re.MULTILINE))


def test_sigterm_finishes_every_in_flight_request_then_refuses_new_ones(
    postgres_url: str, tmp_path: Path, stop: list[subprocess.Popen[bytes]]
) -> None:
    log = tmp_path / "server.log"
    metrics_port = free_port()
    process, base = serve(
        postgres_url,
        log,
        *("--wc", "2", "--metrics-port", str(metrics_port)),
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prometheus"),
    )
    stop.append(process)
    token = httpx.post(f"{base}/auth/dev-login", json={"email": "inflight@example.com"}).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    release = threading.Event()
    results: list[tuple[int, str] | BaseException] = []

    def create(index: int) -> None:
        body = json.dumps({"title": f"in flight {index}", "amount": "1.00"}).encode()

        def held_body() -> Iterator[bytes]:
            # Half the body now, the rest after SIGTERM: the server has the request in hand (its handler is waiting
            # for the body) however fast or loaded the machine is.
            yield body[: len(body) // 2]
            release.wait(timeout=120)
            yield body[len(body) // 2 :]

        try:
            response = httpx.post(
                f"{base}{CREATE_PATH}",
                content=held_body(),
                headers={**headers, "Content-Length": str(len(body))},
                timeout=120,
            )
            results.append((response.status_code, response.json().get("title", response.text)))
        except BaseException as exc:
            results.append(exc)

    clients = [threading.Thread(target=create, args=(i,)) for i in range(IN_FLIGHT)]
    for thread in clients:
        thread.start()
    try:
        # Synchronise on the server: every request is in flight there (counted in progress), not merely sent.
        wait_for(lambda: in_flight(metrics_port, CREATE_PATH) == IN_FLIGHT, f"{IN_FLIGHT} requests in flight", 60)
        process.send_signal(signal.SIGTERM)
    finally:
        release.set()
        for thread in clients:
            thread.join(timeout=150)
    assert sorted(results, key=str) == sorted(((201, f"in flight {i}") for i in range(IN_FLIGHT)), key=str)
    assert process.wait(timeout=60) == 0
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base}/healthz", timeout=5)
    # Nothing answered 201 without being stored.
    restarted, base = serve(postgres_url, log)
    stop.append(restarted)
    listing = httpx.get(f"{base}{CREATE_PATH}", params={"q": "in flight"}, headers=headers).json()
    assert listing["total"] == IN_FLIGHT
    restarted.send_signal(signal.SIGTERM)
    assert restarted.wait(timeout=30) == 0


def test_a_taken_metrics_port_is_a_plain_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "expense_tracker", "run", "--port", str(free_port()), "--metrics-port", str(port)],
            env={**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}"},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 1
    assert f"cannot serve metrics on 127.0.0.1:{port}: Address already in use" in result.stderr
    assert "Traceback" not in result.stderr
