"""Migration 0014 (``budget``) down and up again with existing data, on both databases: the backfill gives each
category with a budget one row from its first month (earliest expense or creation), and none to the others."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tests.conftest import sign_in
from tests.test_aggregates import run_migration

Client = AsyncTestClient[Litestar]
PREDECESSOR = "0013"  # this migration's down_revision


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database_url)
    yield engine
    await engine.dispose()


async def tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))


async def test_backfill_from_existing_categories_and_expenses(
    client: Client, engine: AsyncEngine, database_url: str
) -> None:
    user = await sign_in(client)
    headers = user.headers
    ids = {}
    for name, budget in (("Mig rent", "900.00"), ("Mig none", None), ("Mig fresh", "25.00"), ("Mig old", None)):
        body = {"name": name, "monthly_budget": budget}
        created = await client.post("/api/categories", json=body, headers=headers)
        assert created.status_code == 201, created.text
        ids[name] = created.json()["id"]
    for name, day, amount in (
        ("Mig rent", "2024-03-31", "900.00"),
        ("Mig rent", "2025-06-01", "910.00"),
        ("Mig none", "2023-11-05", "5.00"),
        ("Mig old", "2022-02-28", "7.00"),
    ):
        body = {"title": "t", "amount": amount, "spent_on": day, "category_id": ids[name]}
        assert (await client.post("/api/expenses", json=body, headers=headers)).status_code == 201
    created_month = dt.datetime.now(dt.UTC).date().replace(day=1)  # created just now (created_at is UTC)

    run_migration(database_url, "downgrade", PREDECESSOR)
    try:
        assert "budget" not in await tables(engine)
        async with engine.begin() as connection:
            # An older app version sets a budget the way it did: on the category only.
            await connection.execute(
                text("UPDATE category SET monthly_budget = 40.00, budget_currency = 'EUR' WHERE name = 'Mig old'")
            )
    finally:
        run_migration(database_url, "upgrade")
    assert "budget" in await tables(engine)

    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                text(
                    "SELECT category.name, budget.month, budget.amount, budget.currency, budget.rollover "
                    "FROM budget JOIN category ON category.id = budget.category_id "
                    "WHERE category.name LIKE 'Mig %' AND category.user_id = budget.user_id ORDER BY category.name"
                )
            )
        ).all()
    found = {
        name: (str(month), f"{float(amount):.2f}", currency, bool(rollover))
        for name, month, amount, currency, rollover in rows
    }
    assert found == {
        # its first expense (March 2024) is earlier than its creation
        "Mig rent": ("2024-03-01", "900.00", "USD", False),
        # no expense: from the month it was created
        "Mig fresh": (created_month.isoformat(), "25.00", "USD", False),
        # set by an older version, first expense in February 2022
        "Mig old": ("2022-02-01", "40.00", "EUR", False),
    }  # "Mig none" has no budget: no row

    # The app reads the backfilled history: every month the budget was used in keeps it.
    def line(month: dict[str, object], name: str) -> dict[str, object]:
        lines = month["lines"]
        assert isinstance(lines, list)
        return next(x for x in lines if x["name"] == name)

    march = (await client.get("/api/budgets?month=2024-03", headers=headers)).json()
    assert (line(march, "Mig rent")["budget"], line(march, "Mig rent")["spent"]) == ("900.00", "900.00")
    assert line(march, "Mig none")["budget"] is None
    old = (await client.get("/api/budgets?month=2022-02", headers=headers)).json()
    assert (line(old, "Mig old")["budget"], line(old, "Mig old")["currency"]) == ("40.00", "EUR")
    before = (await client.get("/api/budgets?month=2024-02", headers=headers)).json()
    assert line(before, "Mig rent")["budget"] is None
