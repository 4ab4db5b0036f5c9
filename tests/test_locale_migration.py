"""Migration 0008 (``user_account.locale``) up and down with existing users and expenses, on both databases."""

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


async def columns(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        found = await connection.run_sync(lambda sync: inspect(sync).get_columns("user_account"))
    return {c["name"] for c in found}


async def test_locale_column_up_and_down_keeps_users_and_expenses(
    client: Client, engine: AsyncEngine, database_url: str
) -> None:
    user = await sign_in(client)
    body = {"currency": "EUR", "theme": "dark", "timezone": "Europe/Paris", "locale": "fr_FR"}
    assert (await client.put("/api/settings", json=body, headers=user.headers)).status_code == 200
    for amount in ("12.50", "-3.20"):
        created = await client.post("/api/expenses", json={"title": "t", "amount": amount}, headers=user.headers)
        assert created.status_code == 201
    me = (await client.get("/api/me", headers=user.headers)).json()

    run_migration(database_url, "downgrade", "0007")
    assert "locale" not in await columns(engine)
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                text("SELECT email, currency, timezone FROM user_account WHERE email = :e"), {"e": user.email}
            )
        ).one()
        amounts = sorted(str(a) for (a,) in await connection.execute(text("SELECT amount FROM expense")))
    assert tuple(row) == (user.email, "EUR", "Europe/Paris")
    assert {"12.50", "-3.20"} <= {f"{float(a):.2f}" for a in amounts}

    run_migration(database_url, "upgrade")
    assert "locale" in await columns(engine)
    async with engine.connect() as connection:
        locale = await connection.scalar(text("SELECT locale FROM user_account WHERE email = :e"), {"e": user.email})
    assert locale is None  # existing users follow their browser (en_US when it names no supported locale)
    assert me["locale"] == "fr_FR"
