"""Benchmark: seed PostgreSQL, start the production server command with 2 workers, drive wrk, import 50,000 rows,
pgbench the list's own SQL, compare with budgets.

    python bench/run.py --quick      # nox -s bench -- --quick   (10 users, 130,000 rows, 2 s warm-up + 5 s)
    python bench/run.py              # nox -s bench              (1,000 users, 2,010,000 rows, 5 s + 20 s)

Writes bench/results.json and bench/results.md (the markdown tables it prints); exits 0 whatever the budgets say
unless ``--strict``. Method and the latest figures: docs/performance.md. Needs ``wrk`` (Debian package), ``pgbench``
and PostgreSQL at ``BENCH_ADMIN_URL`` (default postgresql://postgres@127.0.0.1:5432/postgres, trust); drops and
recreates the database ``BENCH_DATABASE`` (default ``expense_tracker_bench``).
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
import urllib.parse
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
from litestar.security.jwt import Token

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `python bench/run.py` from the checkout

from bench import pgbench
from bench import seed as seeding
from bench.budgets import BUDGETS, LIST_FLATNESS, RSS_MAX_MIB_PER_WORKER
from bench.memory import RssSampler, memory_mib
from bench.processes import free_port, workers_of
from bench.wrk_output import WrkResult, parse

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "wrk" / "request.lua"
RESULTS = HERE / "results.json"
WORKERS = 2
THREADS, CONNECTIONS = 2, 32
PAGE = 50
DEEP_PAGE = 21
"""The deep page by cursor: page 21 (rows 1,001-1,050), reached by following ``next_cursor`` 20 times."""
IMPORT_ROWS = 50_000
PGBENCH_CLIENTS, PGBENCH_THREADS, PGBENCH_SECONDS = 8, 2, 10
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
    result: WrkResult | None
    """``None``: not measured (``note`` says why)."""
    budget: str
    failures: list[str]
    peak_rss_mib: dict[str, float] = field(default_factory=dict)
    """Per worker: the highest VmRSS sampled during this endpoint's warm-up and measurement."""
    note: str = ""


def endpoints(expense: uuid.UUID, category: uuid.UUID, today: dt.date) -> list[Endpoint]:
    since = today - dt.timedelta(days=90)
    return [
        Endpoint("healthz", "GET", "/healthz", per_user=False),
        Endpoint("list", "GET", f"/api/expenses?limit={PAGE}"),
        # Its path (with a cursor) is found by walking the pages once the server runs: see deep_cursor_path.
        Endpoint("list_cursor", "GET", f"/api/expenses?limit={PAGE}"),
        Endpoint("list_filtered", "GET", f"/api/expenses?limit={PAGE}&from={since}&to={today}&category_id={category}"),
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


def deep_cursor_path(base: str, token: str, pages: int = DEEP_PAGE) -> str | None:
    """The URL of list page ``pages`` by keyset: follow ``next_cursor`` from page 1 (the last page when the history
    is shorter). ``None`` when the API has no cursor (page 1 carries no ``next_cursor`` field)."""
    headers = {"Authorization": f"Bearer {token}"}
    path = f"/api/expenses?limit={PAGE}"
    for _ in range(pages - 1):
        response = httpx.get(base + path, headers=headers, timeout=60)
        response.raise_for_status()
        body = response.json()
        if "next_cursor" not in body:
            return None
        if body["next_cursor"] is None:
            break
        path = f"/api/expenses?limit={PAGE}&cursor={urllib.parse.quote(body['next_cursor'], safe='')}"
    return path


def import_csv(rows: int, today: dt.date) -> bytes:
    """An import file in the format of domain/expenses/csv_io.py (header + ``rows`` rows, amounts and dates varied,
    categories by the seeded names): ~2.3 MB for 50,000 rows, under the 5 MiB limit."""
    names = [name for name, _, _ in seeding.CATEGORIES]
    lines = ["spent_on,title,amount,currency,category,notes\r\n"]
    for i in range(rows):
        spent_on = today - dt.timedelta(days=i % seeding.HISTORY_DAYS)
        lines.append(f"{spent_on},Imported {i % 97},{i % 9_000 + 1}.{i % 100:02d},USD,{names[i % len(names)]},\r\n")
    return "".join(lines).encode()


def run_import(base: str, token: str, content: bytes, pids: list[int]) -> dict[str, object]:
    """One ``POST /api/expenses/import`` (multipart, as a browser sends it), with the workers' RSS sampled meanwhile."""
    headers = {"Authorization": f"Bearer {token}"}
    with RssSampler(pids) as sampler:
        started = time.perf_counter()
        response = httpx.post(
            base + "/api/expenses/import",
            headers=headers,
            files={"file": ("bench.csv", content, "text/csv")},
            timeout=600,
        )
        seconds = time.perf_counter() - started
    imported = response.json().get("imported") if response.status_code == 201 else None
    return {
        "rows": IMPORT_ROWS,
        "bytes": len(content),
        "status": response.status_code,
        "imported": imported,
        "seconds": round(seconds, 2),
        "rows_per_s": round(IMPORT_ROWS / seconds) if imported else 0,
        "peak_rss_mib": {str(pid): mib for pid, mib in sampler.peak_mib.items()},
        "error": "" if response.status_code == 201 else response.text[:300],
    }


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


def table(rows: list[Row], pgbenches: list[dict[str, object]]) -> str:
    lines = [
        "| endpoint | user's rows | req/s | p50 ms | p90 ms | p99 ms | non-2xx | peak RSS MiB | budget | verdict |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for row in rows:
        r = row.result
        users = f"{row.user_rows:,}" if row.user_rows is not None else "—"
        if r is None:
            lines.append(f"| {row.endpoint} | {users} | — | — | — | — | — | — | {row.budget or '—'} | {row.note} |")
            continue
        verdict = "—" if not row.budget else ("pass" if not row.failures else "**fail**: " + "; ".join(row.failures))
        peak = max(row.peak_rss_mib.values(), default=0.0)
        lines.append(
            f"| {row.endpoint} | {users} | {r.rps:,.0f} | {r.p50_ms:.1f} | {r.p90_ms:.1f} | {r.p99_ms:.1f} "
            f"| {r.non_2xx + r.socket_errors} | {peak:.0f} | {row.budget or '—'} | {verdict} |"
        )
    for bench in pgbenches:
        users = f"{bench['user_rows']:,}"
        if "tps" not in bench:
            lines.append(f"| pgbench list SQL | {users} | — | — | — | — | — | — | — | {bench['note']} |")
            continue
        lines.append(
            f"| pgbench list SQL (tps) | {users} | {bench['tps']:,.0f} | {bench['p50_ms']:.1f} | {bench['p90_ms']:.1f} "
            f"| {bench['p99_ms']:.1f} | {bench['failed']} | — | — | — |"
        )
    return "\n".join(lines)


def memory_table(
    idle: dict[str, dict[str, float]], rows: list[Row], imported: dict[str, object], after: dict[str, dict[str, float]]
) -> str:
    lines = [
        "| worker | idle RSS MiB | sampled peak RSS MiB | peak during the import | VmHWM MiB | RSS after the run MiB "
        "| budget |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    import_peaks: dict[str, float] = imported.get("peak_rss_mib", {})  # type: ignore[assignment]
    for pid, figures in after.items():
        sampled = max([row.peak_rss_mib.get(pid, 0.0) for row in rows] + [import_peaks.get(pid, 0.0)])
        verdict = "pass" if figures["rss_mib"] <= RSS_MAX_MIB_PER_WORKER else "**fail**"
        lines.append(
            f"| {pid} | {idle.get(pid, {}).get('rss_mib', 0.0):.0f} | {sampled:.0f} | {import_peaks.get(pid, 0.0):.0f} "
            f"| {figures['peak_mib']:.0f} | {figures['rss_mib']:.0f} | <= {RSS_MAX_MIB_PER_WORKER} MiB: {verdict} |"
        )
    return "\n".join(lines)


def list_flatness_failure(rows: list[Row]) -> str | None:
    """List page 1 req/s of the biggest history against the smallest ."""
    lists = [(row.user_rows or 0, row.result.rps) for row in rows if row.endpoint == "list" and row.result]
    if len(lists) < 2:  # a comparison needs two
        return None
    (small_rows, small), (big_rows, big) = min(lists), max(lists)
    if big >= small * (1 - LIST_FLATNESS):
        return None
    return (
        f"list req/s {big:,.0f} for {big_rows:,} rows vs {small:,.0f} for {small_rows:,}: "
        f"not within {LIST_FLATNESS:.0%}"
    )


def measure_endpoints(
    base: str, jobs: list[tuple[Endpoint, int | None, str | None]], pids: list[int], warm: int, measure: int
) -> list[Row]:
    """wrk per job (warm-up, then the measurement) with the workers' RSS sampled throughout."""
    rows: list[Row] = []
    for endpoint, count, token in jobs:
        budget = BUDGETS.get(endpoint.key)
        described = budget.describe() if budget else ""
        if endpoint.key == "list_cursor":
            assert token is not None
            path = deep_cursor_path(base, token)
            if path is None:
                note = "not available: the list answers no `next_cursor` (no keyset pagination yet)"
                rows.append(Row(endpoint.key, count, endpoint.method, endpoint.path, None, described, [], note=note))
                print(f"{endpoint.key:<20} {count or '':>9} {note}", flush=True)
                continue
            endpoint = Endpoint(endpoint.key, endpoint.method, path)  # noqa: PLW2901 - the same endpoint, located
        preflight(base, endpoint, token)
        with RssSampler(pids) as sampler:
            run_wrk(base, endpoint, token, warm)
            result = run_wrk(base, endpoint, token, measure)
        failures = budget.failures(result.rps, result.p50_ms, result.p99_ms) if budget else []
        if result.non_2xx or result.socket_errors:
            failures.append(f"{result.non_2xx} non-2xx, {result.socket_errors} socket errors")
        peaks = {str(pid): mib for pid, mib in sampler.peak_mib.items()}
        rows.append(Row(endpoint.key, count, endpoint.method, endpoint.path, result, described, failures, peaks))
        print(
            f"{endpoint.key:<20} {count or '':>9} {result.rps:>8,.0f} req/s  p99 {result.p99_ms:.1f} ms"
            f"  peak RSS {sampler.max_mib:.0f} MiB",
            flush=True,
        )
    return rows


def list_pgbench(seeded: seeding.Seeded, secret: str, workdir: Path) -> list[dict[str, object]]:
    """Per heavy user: capture the list page 1 SQL from the app, then pgbench it (the database's own ceiling)."""
    found: list[dict[str, object]] = []
    for count, user in sorted(seeded.heavy_users.items()):
        token = mint_token(secret, user)
        path = f"/api/expenses?limit={PAGE}"
        statements = asyncio.run(pgbench.capture_list_sql(seeded.database_url, secret, token, path))
        entry: dict[str, object] = {"user_rows": count, "path": path, "statements": statements}
        if not statements:
            entry["note"] = "not measured: the list sent no SQL through SQLAlchemy beyond the session's"
        else:
            summary, latencies = pgbench.run(
                seeded.database_url,
                statements,
                workdir / f"pgbench-{count}",
                clients=PGBENCH_CLIENTS,
                threads=PGBENCH_THREADS,
                seconds=PGBENCH_SECONDS,
            )
            entry |= asdict(summary) | latencies
            entry["options"] = f"-n -r -c{PGBENCH_CLIENTS} -j{PGBENCH_THREADS} -T{PGBENCH_SECONDS}"
        found.append(entry)
        print(f"pgbench list SQL {count:>9,} {entry.get('tps', 0):>8,.0f} tps  {len(statements)} statement(s)")
    return found


def main() -> int:  # noqa: PLR0912, PLR0915 - one linear script
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 users / 130,000 rows, 2 s warm-up + 5 s per endpoint")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a budget fails")
    parser.add_argument("--output", type=Path, default=RESULTS, help="results JSON (the tables go next to it, .md)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    pgbench.executable()  # refuse to start without it rather than fail after the load
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
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        server, base = start_server(seeded.database_url, secret, Path(tmp))
        try:
            pids = workers_of(server.pid)
            idle = {str(pid): memory_mib(pid) for pid in pids}
            jobs: list[tuple[Endpoint, int | None, str | None]] = []
            for rows_of_user, user in sorted(seeded.heavy_users.items()):
                user_token = mint_token(secret, user)
                for endpoint in endpoints(seeded.sample_expense[user], seeded.sample_category[user], today):
                    if endpoint.per_user:
                        jobs.append((endpoint, rows_of_user, user_token))
                    elif not any(job[0].key == endpoint.key for job in jobs):
                        jobs.append((endpoint, None, None))
            rows = measure_endpoints(base, jobs, pids, warm, measure)
            # Last, so that the RSS after the run is the one after a 50,000-row import; by an ordinary user, so the
            # heavy users keep the history their rows are labelled with.
            imported = run_import(base, mint_token(secret, seeded.ordinary_user), import_csv(IMPORT_ROWS, today), pids)
            print(f"import {IMPORT_ROWS:,} rows: {imported['status']} in {imported['seconds']} s", flush=True)
            memory = {str(pid): memory_mib(pid) for pid in workers_of(server.pid)}
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        # After the server stopped: pgbench gets the CPUs to itself, like wrk did.
        pgbenches = list_pgbench(seeded, secret, Path(tmp))

    extra: list[str] = []
    if imported["status"] != 201:
        extra.append(f"the {IMPORT_ROWS:,}-row import answered {imported['status']}: {imported['error']}")
    if sorted(memory) != sorted(idle):
        extra.append(f"workers changed during the run ({sorted(idle)} -> {sorted(memory)}): one was restarted")
    for pid, figures in memory.items():
        if figures["rss_mib"] > RSS_MAX_MIB_PER_WORKER:
            extra.append(f"worker {pid} RSS {figures['rss_mib']:.0f} MiB > {RSS_MAX_MIB_PER_WORKER} MiB")
    flatness = list_flatness_failure(rows)
    if flatness:
        extra.append(flatness)

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
        "import": imported,
        "results": [
            {**{k: v for k, v in asdict(row).items() if k != "result"}, **(asdict(row.result) if row.result else {})}
            for row in rows
        ],
        "pgbench_list_sql": pgbenches,
        "other_failures": extra,
    }
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    imported_line = (
        f"Import of {IMPORT_ROWS:,} rows ({int(str(imported['bytes'])) / 1e6:.1f} MB): {imported['status']} "
        f"in {imported['seconds']} s ({imported['rows_per_s']:,} rows/s)."
    )
    tables = f"{table(rows, pgbenches)}\n\n{memory_table(idle, rows, imported, memory)}\n\n{imported_line}\n"
    args.output.with_suffix(".md").write_text(tables)
    print()
    print(tables)
    for line in extra:
        print(f"fail: {line}")
    print(f"load average (1 min) {load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after ({os.cpu_count()} CPUs)")
    failed = extra or any(row.failures for row in rows)
    print(f"\nbudgets: {'some fail' if failed else 'all pass'}; results in {args.output}")
    return 1 if args.strict and failed else 0


if __name__ == "__main__":
    sys.exit(main())
