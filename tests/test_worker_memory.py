"""What the processes of ``expense-tracker run`` load (issue 13's per-worker memory budget; the figures are measured by
the benchmark, bench/, and recorded in docs/performance.md).

Observed from outside, in the real server's memory maps (``/proc/PID/maps``): a compiled extension module is mapped
into a process exactly when its package was imported. Every kind of request is served first, so a code path that
needs one of the refused modules shows up here as a failed request.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.servers import serve

# Independent of the app's own list (UNUSED_OPTIONAL_MODULES): the shared objects as they are installed.
REFUSED_IN_WORKERS = {"cryptography": "cryptography/hazmat/bindings/", "pydantic": "pydantic_core/_pydantic_core"}
APP_ONLY = "asyncpg/protocol/protocol."  # asyncpg's driver: loaded by whoever builds the app


def mapped(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text()


def workers_of(pid: int) -> list[int]:
    """uvicorn's worker processes: children started by multiprocessing's spawn (not its resource tracker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if parent == pid and b"spawn_main" in command:
            found.append(int(entry.name))
    return found


@pytest.fixture
async def sqlite_url(database_factory: Any) -> str:
    url: str = await database_factory("sqlite")
    return url


@pytest.fixture
def running(sqlite_url: str, tmp_path: Path) -> Iterator[tuple[int, str]]:
    process, base = serve(
        sqlite_url, tmp_path / "server.log", "--wc", "2", PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prometheus")
    )
    try:
        yield process.pid, base
    finally:
        process.terminate()
        process.wait(30)


def exercise(base: str) -> list[tuple[str, int]]:
    """One request of each kind (API, pages, CSV both ways, the schema); returns (what, status) for each."""
    seen: list[tuple[str, int]] = []
    with httpx.Client(base_url=base, timeout=30) as pages, httpx.Client(base_url=base, timeout=30) as client:
        login = pages.post("/auth/dev-login", json={"email": "memory@example.com", "name": "Memory"})
        seen.append(("dev-login", login.status_code))
        bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
        category = client.post("/api/categories", json={"name": "Memory probe", "color": "#2e7d32"}, headers=bearer)
        seen.append(("create category", category.status_code))
        assert category.status_code == 201, category.text
        expense = client.post(
            "/api/expenses",
            json={"title": "Lunch", "amount": "12.50", "category_id": category.json()["id"]},
            headers=bearer,
        )
        seen.append(("create expense", expense.status_code))
        csv = b"title,amount,spent_on\nBus,2.40,2025-03-01\nBooks,19.99,2025-03-02\n"
        imported = client.post("/api/expenses/import", files={"file": ("e.csv", csv, "text/csv")}, headers=bearer)
        seen.append(("import", imported.status_code))
        for path in (
            "/api/expenses?limit=50",
            f"/api/expenses/{expense.json()['id']}",
            "/api/expenses/export.csv",
            "/api/reports/monthly?months=12",
            "/api/reports/by-category",
            "/api/reports/budget",
            "/api/openapi.json",
        ):
            seen.append((path, client.get(path, headers=bearer).status_code))
        # Pages with the session cookie dev login set (the API client sends only the Bearer token, so needs no CSRF).
        for path in ("/", "/expenses", "/reports", "/categories", "/settings", "/import"):
            seen.append((path, pages.get(path).status_code))
    return seen


def test_workers_serve_everything_without_the_unused_optional_modules(running: tuple[int, str]) -> None:
    supervisor, base = running
    statuses = exercise(base)
    assert [s for s in statuses if not 200 <= s[1] < 300] == []
    workers = workers_of(supervisor)
    assert len(workers) == 2
    for worker in workers:
        maps = mapped(worker)
        assert APP_ONLY in maps  # the probe sees what a worker loaded
        loaded = [name for name, library in REFUSED_IN_WORKERS.items() if library in maps]
        assert loaded == [], f"worker {worker} imported {loaded}"


def test_the_supervisor_does_not_build_the_app(running: tuple[int, str]) -> None:
    supervisor, _ = running
    time.sleep(0.5)  # the workers have answered /readyz; the supervisor is in its steady state
    assert APP_ONLY not in mapped(supervisor)
