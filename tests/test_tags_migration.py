"""Migration 0011 (``tag``, ``expense_tag``) down and up with existing data, on both databases: additive only."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.conftest import Session
from tests.test_aggregates import run_migration

Client = AsyncTestClient[Litestar]
PREDECESSOR = "0010"
"""0011's own predecessor on this branch (re-chained at merge: then the revision just below 0011)."""


async def snapshot(database_url: str) -> tuple[set[str], list[tuple[str, str]]]:
    """The tables, and every expense's (title, amount) straight from the database (the app needs the tag tables)."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            tables = set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
            rows = await connection.execute(text("SELECT title, amount FROM expense ORDER BY title"))
            return tables, [(title, f"{float(amount):.2f}") for title, amount in rows]
    finally:
        await engine.dispose()


async def test_tag_tables_go_down_and_up_keeping_every_expense(
    client: Client, user: Session, database_url: str
) -> None:
    for title, amount, tags in (("Dinner", "30.00", ["food", "trip"]), ("Bus", "2.40", []), ("Refund", "-5.00", ["x"])):
        body = {"title": title, "amount": amount, "tags": tags}
        assert (await client.post("/api/expenses", json=body, headers=user.headers)).status_code == 201
    tables, before = await snapshot(database_url)
    assert {"tag", "expense_tag"} <= tables
    assert {("Dinner", "30.00"), ("Bus", "2.40"), ("Refund", "-5.00")} <= set(before)

    run_migration(database_url, "downgrade", PREDECESSOR)
    try:
        tables, during = await snapshot(database_url)
        assert not {"tag", "expense_tag"} & tables
        assert during == before  # dropping the tags touches no expense
    finally:
        run_migration(database_url, "upgrade")  # never leave the shared test database downgraded

    tables, after = await snapshot(database_url)
    assert {"tag", "expense_tag"} <= tables
    assert after == before
    # Existing expenses have no tags after the upgrade, and tagging works on them.
    listing = (await client.get("/api/expenses?sort=spent_on", headers=user.headers)).json()
    assert {e["title"]: e["tags"] for e in listing["items"]} == {"Dinner": [], "Bus": [], "Refund": []}
    bus = next(e["id"] for e in listing["items"] if e["title"] == "Bus")
    patched = await client.patch(f"/api/expenses/{bus}", json={"tags": ["Commute"]}, headers=user.headers)
    assert patched.json()["tags"] == ["Commute"]
    assert [t["name"] for t in (await client.get("/api/tags", headers=user.headers)).json()] == ["Commute"]
