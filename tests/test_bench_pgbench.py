"""The benchmark's pgbench of the list's own SQL (bench/pgbench.py) and its list-flatness verdict (bench/run.py).

Parsing is checked against pgbench 15's real output with figures worked out by hand; the captured SQL is checked on a
real PostgreSQL database: run as captured, it must return the signed-in user's page 1 (from a table this test built),
and pgbench must run it without a failed transaction.
"""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from bench import pgbench
from bench.run import Row, list_flatness_failure
from bench.wrk_output import WrkResult
from litestar.testing import AsyncTestClient

from expense_tracker.app import create_app
from tests.conftest import TEST_SECRET, _asyncpg_dsn, make_settings, sign_in

# pgbench 15.20 -n -r -f list.sql -c8 -j2 -T10, as printed (statement texts shortened by pgbench itself).
OUTPUT = """\
pgbench (15.20 (Debian 15.20-0+deb12u1))
transaction type: /tmp/bench-x/pgbench-100000/list.sql
scaling factor: 1
query mode: simple
number of clients: 8
number of threads: 2
maximum number of tries: 1
duration: 10 s
number of transactions actually processed: 2240
number of failed transactions: 3 (0.134%)
latency average = 35.714 ms
initial connection time = 12.345 ms
tps = 224.012345 (without initial connection time)
statement latencies in milliseconds and failures:
        30.500           3  SELECT count(*) AS count_1 FROM expense WHERE expense.user_id = '01a2'::UUID;
         5.125           0  SELECT expense.id, expense.user_id, expense.category_id, expense.title, expense.amount, exp
"""


def test_parse_reads_the_summary_and_each_statement() -> None:
    result = pgbench.parse(OUTPUT)
    assert result.transactions == 2240
    assert result.failed == 3
    assert result.tps == pytest.approx(224.012345)
    assert result.latency_avg_ms == pytest.approx(35.714)
    assert [ms for ms, _ in result.statement_ms] == pytest.approx([30.5, 5.125])
    assert result.statement_ms[0][1].startswith("SELECT count(*)")


def test_parse_refuses_what_is_not_a_pgbench_summary() -> None:
    with pytest.raises(ValueError, match="not a pgbench summary"):
        pgbench.parse("pgbench: error: connection to server failed\n")


def test_log_latencies_skip_failed_transactions_and_percentiles_are_nearest_rank() -> None:
    # -l lines: client, transaction, latency in us, script, epoch s, epoch us; "failed" replaces a failed latency.
    log = ["0 1 4616 0 1796204222 959990", "0 2 89 0 1796204222 960154", "1 1 failed 0 1796204222 960155"]
    assert pgbench.log_latencies_ms(log) == pytest.approx([4.616, 0.089])
    hundred = [float(n) for n in range(100, 0, -1)]  # 100 .. 1, unsorted on purpose
    assert (pgbench.percentile(hundred, 50), pgbench.percentile(hundred, 90)) == (50.0, 90.0)
    assert (pgbench.percentile(hundred, 99), pgbench.percentile([7.0], 99), pgbench.percentile([], 50)) == (
        99.0,
        7.0,
        0.0,
    )


def test_inline_writes_each_parameter_as_its_literal() -> None:
    statement = "SELECT x FROM t WHERE a = $1::UUID AND b = $2 AND c >= $3 AND d = $10 AND e IS $4 LIMIT $5::INTEGER"
    params: list[Any] = [uuid.UUID(int=1), "it's", dt.date(2025, 1, 31), None, 50, 0, 0, 0, 0, Decimal("12.30")]
    assert pgbench.inline(statement, params) == (
        "SELECT x FROM t WHERE a = '00000000-0000-0000-0000-000000000001'::uuid::UUID AND b = 'it''s' "
        "AND c >= '2025-01-31'::date AND d = 12.30 AND e IS NULL LIMIT 50::INTEGER"
    )
    assert pgbench.script(["SELECT 1", "SELECT 2;"]) == "SELECT 1;\nSELECT 2;\n"


def _row(user_rows: int, rps: float) -> Row:
    result = WrkResult(1, 1.0, rps, 1.0, 1.0, 1.0, 1.0, 0, 0)
    return Row("list", user_rows, "GET", "/api/expenses?limit=50", result, "", [])


def test_list_flatness_compares_the_biggest_history_with_the_smallest() -> None:
    assert list_flatness_failure([_row(10_000, 1_000), _row(1_000_000, 901)]) is None  # 9.9 % slower: within 10 %
    failure = list_flatness_failure([_row(10_000, 1_000), _row(100_000, 990), _row(1_000_000, 899)])
    assert failure == "list req/s 899 for 1,000,000 rows vs 1,000 for 10,000: not within 10%"
    assert list_flatness_failure([_row(10_000, 1_000)]) is None


async def test_the_captured_list_sql_returns_the_users_page_one_and_pgbench_runs_it(
    database_factory: Any, tmp_path: Path
) -> None:
    url: str = await database_factory("postgresql")
    app = create_app(make_settings(url))
    start = dt.date(2025, 3, 1)
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        me, other = await sign_in(client), await sign_in(client)
        mine: list[tuple[dt.date, str]] = []
        for day in range(60):  # more than a page, one per day: the expected order is by date alone
            body = {"title": f"e{day}", "amount": "1.00", "spent_on": str(start + dt.timedelta(days=day))}
            response = await client.post("/api/expenses", json=body, headers=me.headers)
            assert response.status_code == 201, response.text
            mine.append((start + dt.timedelta(days=day), response.json()["id"]))
            await client.post("/api/expenses", json={**body, "title": "not mine"}, headers=other.headers)
    # limit + 1 rows: the 51st only tells the app that there is a next page (and where its cursor starts).
    expected = [expense_id for _, expense_id in sorted(mine, reverse=True)[:51]]

    statements = await pgbench.capture_list_sql(url, TEST_SECRET, me.token, "/api/expenses?limit=50")

    assert statements
    connection = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        results = [[dict(record) for record in await connection.fetch(sql)] for sql in statements]
        pages = [[str(row["id"]) for row in rows if "id" in row] for rows in results]
    finally:
        await connection.close()
    assert expected in pages  # the literals are this user's, in place: page 1 exactly, nobody else's rows

    if not shutil.which("pgbench"):
        pytest.skip("pgbench is not installed")
    summary, latencies = pgbench.run(
        _asyncpg_dsn(url), statements, tmp_path / "pgbench", clients=2, threads=1, seconds=1
    )
    assert summary.transactions > 0
    assert summary.failed == 0
    assert len(summary.statement_ms) == len(statements)
    assert latencies["p50_ms"] > 0
