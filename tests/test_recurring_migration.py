"""Migration 0010 (recurring tables) down and up again with existing users, expenses and schedules, both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tests.conftest import sign_in
from tests.test_aggregates import run_migration

Client = AsyncTestClient[Litestar]
TABLES = {"recurring_schedule", "recurring_occurrence", "job_run"}


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database_url)
    yield engine
    await engine.dispose()


async def tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))


async def test_recurring_tables_down_and_up_keep_existing_data(
    client: Client, engine: AsyncEngine, database_url: str
) -> None:
    user = await sign_in(client)
    for amount in ("12.50", "-3.20"):
        created = await client.post("/api/expenses", json={"title": "Kept", "amount": amount}, headers=user.headers)
        assert created.status_code == 201
    schedule = {"title": "Rent", "amount": "950", "unit": "month", "start_on": "2026-01-31"}
    assert (await client.post("/api/recurring", json=schedule, headers=user.headers)).status_code == 201
    before = (await client.get("/api/expenses", headers=user.headers)).json()["items"]
    try:
        run_migration(database_url, "downgrade", "0009")
        assert not TABLES & await tables(engine)
        async with engine.connect() as connection:
            titles = [t for (t,) in await connection.execute(text("SELECT title FROM expense WHERE title = 'Kept'"))]
        assert len(titles) >= 2
    finally:
        run_migration(database_url, "upgrade")
    assert await tables(engine) >= TABLES
    after = (await client.get("/api/expenses", headers=user.headers)).json()["items"]
    assert after == before
    # The new tables start empty and work: a schedule can be created again.
    assert (await client.get("/api/recurring", headers=user.headers)).json() == []
    assert (await client.post("/api/recurring", json=schedule, headers=user.headers)).status_code == 201
    async with engine.connect() as connection:
        defaults = (
            await connection.execute(text("SELECT paused, created_count, tag_names FROM recurring_schedule"))
        ).all()
    assert [(bool(p), c) for p, c, _ in defaults] == [(False, 0)]
