"""PostgreSQL's plans for what the app really sends: no sequential scan of ``expense``, and the lists use its indexes.

A database of its own is seeded in bulk (``INSERT ... SELECT generate_series``) with three users, one of them with
100,000 expenses over two years across every category, and ANALYZEd. The real requests are then served for that
user while ``tests/query_counter.py`` records each statement with its bound parameters, and every recorded statement
that reads ``expense`` is run again as ``EXPLAIN (FORMAT JSON)`` with the same parameters on the same database
(asyncpg plans it with those values, as it planned the app's own execution).

What is asserted, per statement that reads ``expense``:
- no plan node is a ``Seq Scan`` of ``expense`` (reading every user's rows to find one user's is the cost that grows
  with the whole table, not with the request);
- for the lists (plain, date range + category, text search) at least one node reads ``expense`` through one of its
  indexes, so the assertion cannot pass by the table disappearing from the plan;
- a selective search (a rare term, a typo, accents, and the count of the totals line) reads it through the trigram
  index ``ix_expense_search`` (migration 0015). A common term may instead be read off the date index in page order,
  stopping after one page of matches, which the planner rightly prefers.

Before migration 0015 the text search was a substring ``ILIKE`` that no btree index could answer, and its count (up to
``LIST_COUNT_CAP`` + 1 matches) was a parallel sequential scan of the whole table (a strict xfail here until then).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import make_url

from expense_tracker.app import create_app
from tests import query_counter
from tests.conftest import Session, make_settings, sign_in

Client = AsyncTestClient[Litestar]
HEAVY_ROWS = 100_000
OTHER_ROWS = 100_000
"""Each of the two other users: the heavy user is a third of the table, as a busy user among many would be a minority,
so an index is what a sane planner picks (at 95 % of the table a full scan would rightly win)."""
READS_EXPENSE = re.compile(r"\b(FROM|JOIN)\s+expense\b", re.IGNORECASE)
INDEX_NODES = {"Index Scan", "Index Only Scan", "Bitmap Index Scan"}


@dataclass
class Seeded:
    client: Client
    user: Session
    category_id: str
    dsn: str


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


SEED = """
INSERT INTO expense (id, user_id, category_id, title, amount, currency, spent_on, notes, created_at, updated_at)
SELECT gen_random_uuid(),
       u.id,
       CASE WHEN g % 10 = 0 THEN NULL ELSE c.ids[1 + g % array_length(c.ids, 1)] END,
       (ARRAY['Lunch', 'Groceries', 'Taxi', 'Rent', 'Coffee', 'Cinema'])[1 + g % 6] || ' ' || g,
       ((g * 7919) % 100000 + 1) / 100.0,
       CASE WHEN g % 7 = 0 THEN 'EUR' ELSE 'USD' END,
       current_date - (g % 730),
       CASE WHEN g % 3 = 0 THEN 'with friends' ELSE '' END,
       now() - make_interval(secs => g),
       now() - make_interval(secs => g)
FROM user_account u,
     LATERAL (SELECT array_agg(id ORDER BY name) AS ids FROM category WHERE user_id = u.id) c,
     generate_series(1, $2::int) g
WHERE u.email = $1
"""


@pytest.fixture(scope="module")
async def seeded(database_factory: Any) -> AsyncIterator[Seeded]:
    url: str = await database_factory("postgresql")
    app = create_app(make_settings(url))
    dsn = _asyncpg_dsn(url)
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        client.follow_redirects = False
        heavy = await sign_in(client, "heavy@example.com")
        others = [await sign_in(client, f"other{i}@example.com") for i in range(2)]
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute(SEED, heavy.email, HEAVY_ROWS)
            for other in others:
                await connection.execute(SEED, other.email, OTHER_ROWS)
            await connection.execute("VACUUM ANALYZE expense")  # what autovacuum does after a bulk load
        finally:
            await connection.close()
        categories = (await client.get("/api/categories", headers=heavy.headers)).json()
        for category in categories:  # budgets, so the budget report and the dashboard's bars are not empty
            await client.patch(
                f"/api/categories/{category['id']}", json={"monthly_budget": "500"}, headers=heavy.headers
            )
        query_counter.instrument(app.state.alchemy.get_engine())
        yield Seeded(client, heavy, categories[1]["id"], dsn)


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


async def _index_names(connection: asyncpg.Connection) -> set[str]:
    rows = await connection.fetch("SELECT indexname FROM pg_indexes WHERE tablename = 'expense'")
    return {row["indexname"] for row in rows}


@dataclass
class Explained:
    sql: str
    nodes: list[dict[str, Any]]

    def describe(self) -> str:
        steps = ", ".join(
            f"{n['Node Type']}({n.get('Relation Name', '')}{' ' + n['Index Name'] if 'Index Name' in n else ''})"
            for n in self.nodes
        )
        return f"{' '.join(self.sql.split())[:300]}\n    -> {steps}"


async def _explain_request(seeded: Seeded, path: str, html: bool = False) -> list[Explained]:
    response, recorded = await query_counter.request(seeded.client, "GET", path, seeded.user.token, html=html)
    assert response.status_code == 200, response.text[:500]
    reads = [s for s in recorded.sql if READS_EXPENSE.search(s.text)]
    connection = await asyncpg.connect(seeded.dsn)
    try:
        explained = []
        for statement in reads:
            raw = await connection.fetchval(f"EXPLAIN (FORMAT JSON) {statement.text}", *statement.parameters)
            plan = json.loads(raw)[0]["Plan"]
            explained.append(Explained(statement.text, list(_nodes(plan))))
    finally:
        await connection.close()
    return explained


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


REQUESTS: dict[str, tuple[str, bool]] = {
    "list": ("/api/expenses?limit=50", False),
    "list filtered": ("/api/expenses?limit=50&from={month_ago}&to={today}&category_id={category}", False),
    "list search": ("/api/expenses?limit=50&q=coffee", False),
    "report monthly": ("/api/reports/monthly?months=12", False),
    "report by-category": ("/api/reports/by-category", False),
    "report budget": ("/api/reports/budget", False),
    "dashboard page": ("/", True),
    "expenses page": ("/expenses", True),
}
LISTS = {"list", "list filtered", "list search", "expenses page"}

# Searches that the trigram index (migration 0015) must answer: a rare term (a few rows among the user's 100,000) and
# a typo. A common term ("coffee", a sixth of the rows) may rightly be read off the date index in page order instead.
TRIGRAM_SEARCHES = {
    "list search rare": "/api/expenses?limit=50&q=54321",
    "list search typo": "/api/expenses?limit=50&q=cinmea 4242",
    "list search accents": "/api/expenses?limit=50&q=Caf%C3%A9 9876",
    "count search": "/api/expenses/totals?q=taxi 777",
}
SEARCH_INDEX = "ix_expense_search"


def _path(seeded: Seeded, template: str) -> str:
    today = _today()
    return template.format(month_ago=today - dt.timedelta(days=30), today=today, category=seeded.category_id)


async def _explain_named(seeded: Seeded, name: str) -> list[Explained]:
    if name == "get":
        some = (await seeded.client.get("/api/expenses?limit=1", headers=seeded.user.headers)).json()["items"][0]
        return await _explain_request(seeded, f"/api/expenses/{some['id']}")
    template, html = REQUESTS[name]
    return await _explain_request(seeded, _path(seeded, template), html)


def _seq_scans(statement: Explained) -> list[dict[str, Any]]:
    return [n for n in statement.nodes if n["Node Type"] == "Seq Scan" and n.get("Relation Name") == "expense"]


@pytest.mark.parametrize("name", [*REQUESTS, "get"])
async def test_no_sequential_scan_of_expense(seeded: Seeded, name: str) -> None:
    explained = await _explain_named(seeded, name)
    report = "\n".join(e.describe() for e in explained)
    for statement in explained:
        assert not _seq_scans(statement), f"{name}: sequential scan of expense:\n{statement.describe()}\n\n{report}"
    # Reports and the dashboard may stop reading expense at all (aggregates maintained on write): nothing to check
    # then. A list or a get always reads it, and must do so through an index.
    if name in LISTS or name == "get":
        assert explained, f"{name} read nothing from expense"
        connection = await asyncpg.connect(seeded.dsn)
        try:
            indexes = await _index_names(connection)
        finally:
            await connection.close()
        used = {n["Index Name"] for e in explained for n in e.nodes if n["Node Type"] in INDEX_NODES}
        assert used & indexes, f"{name}: no index of expense used (expense has {sorted(indexes)}):\n{report}"


@pytest.mark.parametrize("name", TRIGRAM_SEARCHES)
async def test_search_uses_the_trigram_index(seeded: Seeded, name: str) -> None:
    """Every statement of a selective search reads ``expense`` through ``ix_expense_search`` (user_id and trigrams in
    one GIN index), never by a sequential scan; the count of a text search was a parallel sequential scan before
    migration 0015 (a substring ILIKE cannot use a btree index)."""
    explained = await _explain_request(seeded, TRIGRAM_SEARCHES[name])
    assert explained, f"{name} read nothing from expense"
    report = "\n".join(e.describe() for e in explained)
    for statement in explained:
        assert not _seq_scans(statement), f"{name}: sequential scan of expense:\n{report}"
        used = {n.get("Index Name") for n in statement.nodes if n["Node Type"] in INDEX_NODES}
        assert SEARCH_INDEX in used, f"{name}: {SEARCH_INDEX} not used:\n{report}"


async def test_default_list_page_is_read_in_index_order(seeded: Seeded) -> None:
    """Page 1 of the default order (newest first) should come straight off the index, with no sort step: that is what
    makes a page, and a keyset (cursor) page, cost the same at any history size."""
    pages = [e for e in await _explain_named(seeded, "list") if e.nodes[0]["Node Type"] == "Limit"]
    if len(pages) != 1:
        pytest.fail(f"expected one LIMITed page query, found {len(pages)}")
    sorts = [n["Node Type"] for n in pages[0].nodes if n["Node Type"] in {"Sort", "Incremental Sort"}]
    assert not sorts, pages[0].describe()
