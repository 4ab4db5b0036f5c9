"""Migration 0012 (``expense.split_id``) down and up again with existing expenses and a split, on both databases."""

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


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database_url)
    yield engine
    await engine.dispose()


async def schema(engine: AsyncEngine) -> tuple[set[str], set[str]]:
    async with engine.connect() as connection:

        def read(sync: object) -> tuple[set[str], set[str]]:
            inspector = inspect(sync)
            columns = {c["name"] for c in inspector.get_columns("expense")}
            indexes = {str(i["name"]) for i in inspector.get_indexes("expense")}
            return columns, indexes

        return await connection.run_sync(read)


async def expense_rows(engine: AsyncEngine, email: str) -> list[tuple[str, str]]:
    statement = text(
        "SELECT e.title, CAST(e.amount AS VARCHAR) FROM expense e JOIN user_account u ON u.id = e.user_id "
        "WHERE u.email = :e ORDER BY e.title, e.amount"
    )
    async with engine.connect() as connection:
        return [(t, f"{float(a):.2f}") for t, a in await connection.execute(statement, {"e": email})]


SET_LUNCH = text(
    "UPDATE expense SET amount = CAST(:a AS NUMERIC(12, 2)) WHERE title = 'Lunch' "
    "AND user_id = (SELECT id FROM user_account WHERE email = :e)"
)


async def month_totals(engine: AsyncEngine, email: str) -> int:
    statement = text(
        "SELECT COALESCE(SUM(t.total_cents), 0) FROM expense_month_total t JOIN user_account u ON u.id = t.user_id "
        "WHERE u.email = :e"
    )
    async with engine.connect() as connection:
        return int(await connection.scalar(statement, {"e": email}) or 0)


async def test_split_column_down_and_up_keeps_expenses_and_the_aggregate_triggers(
    client: Client, engine: AsyncEngine, database_url: str
) -> None:
    user = await sign_in(client)
    for title, amount in (("Lunch", "12.50"), ("Refund", "-3.20")):
        created = await client.post("/api/expenses", json={"title": title, "amount": amount}, headers=user.headers)
        assert created.status_code == 201, created.text
    split = await client.post(
        "/api/splits",
        json={"title": "Market", "amount": "42.50", "parts": [{"amount": "30.00"}, {"amount": "12.50"}]},
        headers=user.headers,
    )
    assert split.status_code == 201, split.text
    before = [("Lunch", "12.50"), ("Market", "12.50"), ("Market", "30.00"), ("Refund", "-3.20")]
    assert await expense_rows(engine, user.email) == before
    assert await month_totals(engine, user.email) == 5180

    try:
        run_migration(database_url, "downgrade", "0011")
        columns, indexes = await schema(engine)
        assert "split_id" not in columns
        assert "ix_expense_user_split_id" not in indexes
        # The parts stay as ordinary expenses; the month-aggregate triggers survived (no table copy on SQLite).
        assert await expense_rows(engine, user.email) == before
        async with engine.begin() as connection:
            await connection.execute(SET_LUNCH, {"a": "13.50", "e": user.email})
        assert await month_totals(engine, user.email) == 5280
    finally:
        run_migration(database_url, "upgrade")

    columns, indexes = await schema(engine)
    assert "split_id" in columns
    assert "ix_expense_user_split_id" in indexes
    async with engine.connect() as connection:
        nulls = await connection.scalar(
            text(
                "SELECT COUNT(*) FROM expense e JOIN user_account u ON u.id = e.user_id "
                "WHERE u.email = :e AND e.split_id IS NULL"
            ),
            {"e": user.email},
        )
    assert nulls == 4  # existing rows come back as ordinary expenses (the old grouping is not invented back)
    async with engine.begin() as connection:
        await connection.execute(SET_LUNCH, {"a": "14.50", "e": user.email})
    assert await month_totals(engine, user.email) == 5380
