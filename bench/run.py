"""Benchmark: seed PostgreSQL, start the production server command with 2 workers, drive wrk, compare with budgets.

    python bench/run.py --quick      # nox -s bench -- --quick   (10 users, 120,000 rows, 2 s warm-up + 5 s)
    python bench/run.py              # nox -s bench              (1,000 users, 2,000,000 rows, 5 s + 20 s)

Writes bench/results.json and prints a markdown table; exits 0 whatever the budgets say unless ``--strict``.
Method and the latest figures: docs/performance.md. Needs ``wrk`` (Debian package) and PostgreSQL at
``BENCH_ADMIN_URL`` (default postgresql://postgres@127.0.0.1:5432/postgres, trust); drops and recreates the database
``expense_tracker_bench``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
from litestar.security.jwt import Token

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `python bench/run.py` from the checkout

from bench import seed as seeding
from bench.budgets import BUDGETS, LIST_FLATNESS, RSS_MAX_MIB_PER_WORKER
from bench.processes import free_port, workers_of
from bench.wrk_output import WrkResult, parse

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "wrk" / "request.lua"
RESULTS = HERE / "results.json"
WORKERS = 2
THREADS, CONNECTIONS = 2, 32
GENEROUS_RATE_LIMITS = {
    # The benchmark measures the request path, not the per-user write limit (120/minute would answer 429).
    "RATE_LIMIT_AUTH": "1000000/minute",
    "RATE_LIMIT_WRITES": "1000000/minute",
    "RATE_LIMIT_IMPORTS": "1000000/minute",
}


@dataclass(frozen=True)
class Endpoint:
    key: str
    method: str
    path: str
    body: str = ""
    per_user: bool = True


@dataclass
class Row:
    endpoint: str
    user_rows: int | None
    method: str
    path: str
    result: WrkResult
    budget: str
    failures: list[str]


def endpoints(expense: uuid.UUID, category: uuid.UUID, today: dt.date) -> list[Endpoint]:
    since = today - dt.timedelta(days=90)
    return [
        Endpoint("healthz", "GET", "/healthz", per_user=False),
        Endpoint("list", "GET", "/api/expenses?limit=50"),
        Endpoint("list_filtered", "GET", f"/api/expenses?limit=50&from={since}&to={today}&category_id={category}"),
        Endpoint("get", "GET", f"/api/expenses/{expense}"),
        Endpoint("create", "POST", "/api/expenses", json.dumps({"title": "bench", "amount": "12.34"})),
        Endpoint("update", "PATCH", f"/api/expenses/{expense}", json.dumps({"notes": "bench"})),
        Endpoint("report_monthly", "GET", "/api/reports/monthly?months=12"),
        Endpoint("report_by_category", "GET", "/api/reports/by-category"),
        Endpoint("report_budget", "GET", "/api/reports/budget"),
        Endpoint("dashboard", "GET", "/"),
    ]


def mint_token(secret: str, user: uuid.UUID) -> str:
    """A session token as the app issues it (src/expense_tracker/domain/accounts/auth.py: HS256 with SECRET_KEY,
    claims sub = user id, jti, exp); production has no dev login."""
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    return Token(exp=expires, sub=str(user), jti=uuid.uuid4().hex).encode(secret, "HS256")


def memory_mib(pid: int) -> dict[str, float]:
    """VmRSS (now) and VmHWM (peak resident set since start) from /proc/PID/status, in MiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in {"VmRSS", "VmHWM"}:
            values["rss_mib" if name == "VmRSS" else "peak_mib"] = int(rest.split()[0]) / 1024
    return values


def start_server(database_url: str, secret: str, workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    multiproc = workdir / "prometheus"
    multiproc.mkdir()
    env = {
        **os.environ,
        **GENEROUS_RATE_LIMITS,
        "APP_ENV": "production",
        "SECRET_KEY": secret,
        "PUBLIC_URL": "https://bench.example.com",
        "DATABASE_URL": database_url.replace("postgresql://", "postgresql+asyncpg://", 1),
        "PROMETHEUS_MULTIPROC_DIR": str(multiproc),
    }
    executable = shutil.which("expense-tracker", path=str(Path(sys.executable).parent)) or "expense-tracker"
    port = free_port()
    command = [executable, "run", "--host", "127.0.0.1", "--port", str(port), "--wc", str(WORKERS)]
    log = (workdir / "server.log").open("wb")
    server = subprocess.Popen(  # noqa: S603 - the app's own command
        [*command, "--metrics-port", str(free_port())], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited; see {workdir / 'server.log'}")
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return server, base
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    server.kill()
    raise SystemExit("the server did not become ready")


def preflight(base: str, endpoint: Endpoint, token: str | None) -> None:
    """One request first: wrk counts only >= 400 as errors, so a redirect (to the sign-in page) must not pass."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if endpoint.body:
        headers["Content-Type"] = "application/json"
    response = httpx.request(endpoint.method, base + endpoint.path, headers=headers, content=endpoint.body or None)
    if not 200 <= response.status_code < 300:
        raise SystemExit(f"{endpoint.method} {endpoint.path} answered {response.status_code}: {response.text[:300]}")


def run_wrk(base: str, endpoint: Endpoint, token: str | None, seconds: int) -> WrkResult:
    env = {**os.environ, "BENCH_TOKEN": token or "", "BENCH_METHOD": endpoint.method, "BENCH_BODY": endpoint.body}
    command = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "10s", "-s", str(SCRIPT)]
    done = subprocess.run(  # noqa: S603 - wrk from PATH with our arguments
        [*command, base + endpoint.path], env=env, capture_output=True, text=True, check=True
    )
    return parse(done.stdout)


def table(rows: list[Row]) -> str:
    lines = [
        "| endpoint | user's rows | req/s | p50 ms | p90 ms | p99 ms | non-2xx | budget | verdict |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for row in rows:
        r = row.result
        verdict = "—" if not row.budget else ("pass" if not row.failures else "**fail**: " + "; ".join(row.failures))
        users = f"{row.user_rows:,}" if row.user_rows is not None else "—"
        lines.append(
            f"| {row.endpoint} | {users} | {r.rps:,.0f} | {r.p50_ms:.1f} | {r.p90_ms:.1f} | {r.p99_ms:.1f} "
            f"| {r.non_2xx + r.socket_errors} | {row.budget or '—'} | {verdict} |"
        )
    return "\n".join(lines)


def main() -> int:  # noqa: PLR0912, PLR0915 - one linear script
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 users / 120,000 rows, 2 s warm-up + 5 s per endpoint")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a budget fails")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    warm, measure = (2, 5) if args.quick else (5, 20)
    plan = seeding.QUICK if args.quick else seeding.FULL
    print(f"seeding {plan.users:,} users ...", flush=True)
    seeded = asyncio.run(seeding.seed(plan))
    print(
        f"seeded {seeded.rows:,} expenses in {seeded.seconds:.1f} s (aggregates {seeded.aggregate_seconds:.1f} s)",
        flush=True,
    )

    load_before = os.getloadavg()
    secret = secrets.token_hex(32)
    today = dt.datetime.now(dt.UTC).date()
    rows: list[Row] = []
    memory: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        server, base = start_server(seeded.database_url, secret, Path(tmp))
        try:
            idle = {str(pid): memory_mib(pid) for pid in workers_of(server.pid)}
            jobs: list[tuple[Endpoint, int | None, str | None]] = []
            for rows_of_user, user in sorted(seeded.heavy_users.items()):
                user_token = mint_token(secret, user)
                for endpoint in endpoints(seeded.sample_expense[user], seeded.sample_category[user], today):
                    if endpoint.per_user:
                        jobs.append((endpoint, rows_of_user, user_token))
                    elif not any(job[0].key == endpoint.key for job in jobs):
                        jobs.append((endpoint, None, None))
            for endpoint, count, token in jobs:
                preflight(base, endpoint, token)
                run_wrk(base, endpoint, token, warm)
                result = run_wrk(base, endpoint, token, measure)
                budget = BUDGETS.get(endpoint.key)
                failures = budget.failures(result.rps, result.p50_ms, result.p99_ms) if budget else []
                if result.non_2xx or result.socket_errors:
                    failures.append(f"{result.non_2xx} non-2xx, {result.socket_errors} socket errors")
                row = Row(endpoint.key, count, endpoint.method, endpoint.path, result, "", failures)
                row.budget = budget.describe() if budget else ""
                rows.append(row)
                print(f"{endpoint.key:<20} {count or '':>9} {result.rps:>8,.0f} req/s  p99 {result.p99_ms:.1f} ms")
            memory = {str(pid): memory_mib(pid) for pid in workers_of(server.pid)}
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()

    extra: list[str] = []
    for pid, figures in memory.items():
        if figures["rss_mib"] > RSS_MAX_MIB_PER_WORKER:
            extra.append(f"worker {pid} RSS {figures['rss_mib']:.0f} MiB > {RSS_MAX_MIB_PER_WORKER} MiB")
    lists = [row for row in rows if row.endpoint == "list"]
    if len(lists) > 1:
        small, big = lists[0].result.rps, lists[-1].result.rps
        if big < small * (1 - LIST_FLATNESS):
            extra.append(f"list req/s {big:,.0f} for {lists[-1].user_rows:,} rows vs {small:,.0f}: not flat")

    report = {
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "mode": "quick" if args.quick else "full",
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        # Other work on the machine skews every figure: the 1-minute load average before the load and after it.
        "load_average_1m": {"before": load_before[0], "after": os.getloadavg()[0]},
        "postgres": seeded.postgres,
        "wrk": {"threads": THREADS, "connections": CONNECTIONS, "warm_up_s": warm, "measure_s": measure},
        "seed": {
            "users": plan.users,
            "expenses": seeded.rows,
            "seconds": round(seeded.seconds, 1),
            "aggregate_seconds": round(seeded.aggregate_seconds, 1),
        },
        "workers": WORKERS,
        "worker_memory_idle_mib": idle,
        "worker_memory_after_mib": memory,
        "results": [{**{k: v for k, v in asdict(row).items() if k != "result"}, **asdict(row.result)} for row in rows],
        "other_failures": extra,
    }
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print()
    print(table(rows))
    print()
    for pid, figures in memory.items():
        print(f"worker {pid}: RSS {figures['rss_mib']:.0f} MiB after the run, peak {figures['peak_mib']:.0f} MiB")
    for line in extra:
        print(f"fail: {line}")
    print(f"load average (1 min) {load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after ({os.cpu_count()} CPUs)")
    failed = extra or any(row.failures for row in rows)
    print(f"\nbudgets: {'some fail' if failed else 'all pass'}; results in {args.output}")
    return 1 if args.strict and failed else 0


if __name__ == "__main__":
    sys.exit(main())
