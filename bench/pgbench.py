"""pgbench of the list's own SQL: the statements the app sends for list page 1, captured from the app itself.

The capture runs the app in-process (``create_app`` on the benchmark database) and records, with a SQLAlchemy
``before_cursor_execute`` hook, what one authenticated ``GET /api/me`` and one list request send. The list's own SQL is
what the list sends beyond ``/api/me`` (the session's user lookup and checks), so the script follows whatever the
list's code does (a count, a keyset query, an aggregate read) without naming a table here. Bind parameters are written
into the statements as literals, so pgbench runs exactly that text.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import statistics
import subprocess
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

PLACEHOLDER = re.compile(r"\$(\d+)")


def sql_literal(value: object) -> str:  # noqa: PLR0911 - one case per type
    """``value`` as a PostgreSQL literal; typed where the text alone would be ambiguous."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, uuid.UUID):
        return f"'{value}'::uuid"
    if isinstance(value, dt.datetime):
        return f"'{value.isoformat()}'::{'timestamptz' if value.tzinfo else 'timestamp'}"
    if isinstance(value, dt.date):
        return f"'{value.isoformat()}'::date"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"no SQL literal for {type(value).__name__}")


def inline(statement: str, parameters: Sequence[Any] | None) -> str:
    """asyncpg's ``$n`` placeholders replaced by the literal of the n-th parameter, on one line."""
    values = list(parameters or ())

    def literal(match: re.Match[str]) -> str:
        return sql_literal(values[int(match.group(1)) - 1])

    return " ".join(PLACEHOLDER.sub(literal, statement).split())


def script(statements: Iterable[str]) -> str:
    """A pgbench custom script: one statement per line, each ending with ``;``."""
    return "".join(statement.rstrip().rstrip(";") + ";\n" for statement in statements)


async def capture_list_sql(database_url: str, secret: str, token: str, path: str) -> list[str]:
    """The statements (parameters inlined) ``GET path`` sends beyond those of ``GET /api/me``, as the holder of
    ``token`` (a session signed with ``secret``)."""
    from litestar.testing import AsyncTestClient
    from sqlalchemy import event

    from expense_tracker.app import create_app
    from expense_tracker.settings import load_settings

    settings = load_settings(
        {
            "APP_ENV": "development",
            "DEV_LOGIN": "false",
            "SECRET_KEY": secret,
            "DATABASE_URL": database_url.replace("postgresql://", "postgresql+asyncpg://", 1),
            "LOG_LEVEL": "WARNING",
        }
    )
    app = create_app(settings)
    sent: list[tuple[str, str]] = []

    def record(_conn: object, _cursor: object, statement: str, parameters: Any, *_rest: object) -> None:
        sent.append((" ".join(statement.split()), inline(statement, parameters)))

    headers = {"Authorization": f"Bearer {token}"}
    async with AsyncTestClient(app) as client:
        engine = app.state.alchemy.get_engine().sync_engine
        event.listen(engine, "before_cursor_execute", record)
        try:
            for url in ("/api/me", path):  # once unrecorded: first-use queries (caches warming) are not the list's
                response = await client.get(url, headers=headers)
                if response.status_code != 200:
                    raise RuntimeError(f"GET {url} answered {response.status_code}: {response.text[:300]}")
            sent.clear()
            (await client.get("/api/me", headers=headers)).raise_for_status()
            baseline = {text for text, _ in sent}
            sent.clear()
            (await client.get(path, headers=headers)).raise_for_status()
        finally:
            event.remove(engine, "before_cursor_execute", record)
    return [inlined for text, inlined in sent if text not in baseline]


@dataclass(frozen=True)
class PgbenchResult:
    transactions: int
    failed: int
    tps: float
    latency_avg_ms: float
    statement_ms: list[tuple[float, str]] = field(default_factory=list)
    """Average latency per statement of the script (``-r``), in script order."""


TPS = re.compile(r"^tps = ([\d.]+) \(without initial connection time\)", re.MULTILINE)
PROCESSED = re.compile(r"^number of transactions actually processed: (\d+)", re.MULTILINE)
FAILED = re.compile(r"^number of failed transactions: (\d+)", re.MULTILINE)
LATENCY = re.compile(r"^latency average = ([\d.]+) ms", re.MULTILINE)
STATEMENT = re.compile(r"^\s+([\d.]+)\s+(?:\d+\s+)?(\S.*)$")


def parse(output: str) -> PgbenchResult:
    """pgbench 15's summary (``-r``: with per-statement latencies); ``ValueError`` when it is not one."""
    found = {name: pattern.search(output) for name, pattern in (("tps", TPS), ("n", PROCESSED), ("lat", LATENCY))}
    missing = [name for name, match in found.items() if match is None]
    if missing:
        raise ValueError(f"not a pgbench summary (no {', '.join(missing)} line)")
    failed = FAILED.search(output)  # pgbench >= 15 prints it; older ones cannot fail a transaction and go on
    statements: list[tuple[float, str]] = []
    _, marker, rest = output.partition("statement latencies in milliseconds")
    if marker:
        for line in rest.splitlines()[1:]:
            match = STATEMENT.match(line)
            if match:
                statements.append((float(match.group(1)), match.group(2)))
    return PgbenchResult(
        transactions=int(found["n"].group(1)),  # type: ignore[union-attr]
        failed=int(failed.group(1)) if failed else 0,
        tps=float(found["tps"].group(1)),  # type: ignore[union-attr]
        latency_avg_ms=float(found["lat"].group(1)),  # type: ignore[union-attr]
        statement_ms=statements,
    )


def log_latencies_ms(lines: Iterable[str]) -> list[float]:
    """Per-transaction latencies from pgbench's ``-l`` log (``client tx latency_us script epoch_s epoch_us``), in ms;
    failed transactions (``failed``/``skipped`` in the latency field) are left out."""
    found = []
    for line in lines:
        fields = line.split()
        if len(fields) >= 3 and fields[2].isdigit():
            found.append(int(fields[2]) / 1000)
    return found


def percentile(values: Sequence[float], pct: float) -> float:
    """The ``pct`` percentile by the nearest-rank method (what wrk reports), 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))  # ceil(n * pct / 100), at least the first
    return ordered[int(rank) - 1]


def latency_summary(log_dir: Path) -> dict[str, float]:
    latencies: list[float] = []
    for log in sorted(log_dir.glob("pgbench_log*")):
        with log.open() as lines:
            latencies += log_latencies_ms(lines)
    return {
        "p50_ms": percentile(latencies, 50),
        "p90_ms": percentile(latencies, 90),
        "p99_ms": percentile(latencies, 99),
        "max_ms": max(latencies, default=0.0),
        "mean_ms": statistics.fmean(latencies) if latencies else 0.0,
    }


def executable() -> str:
    """pgbench of the PostgreSQL installation on PATH (``pg_config --bindir``), else any pgbench on PATH."""
    pg_config = shutil.which("pg_config")
    if pg_config:
        bindir = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=True)  # noqa: S603
        candidate = Path(bindir.stdout.strip()) / "pgbench"
        if candidate.exists():
            return str(candidate)
    found = shutil.which("pgbench")
    if not found:
        raise SystemExit("pgbench is missing: apt-get install -y postgresql-client (or postgresql-contrib)")
    return found


def run(
    database_url: str, statements: Sequence[str], workdir: Path, *, clients: int, threads: int, seconds: int
) -> tuple[PgbenchResult, dict[str, float]]:
    """``pgbench -n -r -f script -c clients -j threads -T seconds -l``: the summary and the logged latencies."""
    workdir.mkdir(parents=True)
    script_file = workdir / "list.sql"
    script_file.write_text(script(statements))
    command = [executable(), "-n", "-r", "-f", str(script_file), f"-c{clients}", f"-j{threads}", f"-T{seconds}"]
    command += ["-l", f"--log-prefix={workdir / 'pgbench_log'}", database_url]
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 - pgbench, our args
    if done.returncode:
        raise RuntimeError(f"pgbench failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return parse(done.stdout), latency_summary(workdir)
