"""Migration 0015 (search: unaccent, pg_trgm, btree_gin, ``et_unaccent``, ``ix_expense_search``) with existing data.

- Down to its predecessor and up again on a database with expenses: nothing is lost, the index is rebuilt over the
  existing rows and the search finds them (SQLite: the migration does nothing, the data stays the same).
- Run by a role that owns its database and is no superuser, as CloudNativePG's ``app`` user (the owner named in the
  Cluster's ``bootstrap.initdb``): the three extensions are trusted, so that role may create them.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tests.conftest import PG_ADMIN_URL, migrate, sign_in
from tests.test_aggregates import run_migration

Client = AsyncTestClient[Litestar]


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database_url)
    yield engine
    await engine.dispose()


async def search_objects(engine: AsyncEngine) -> set[str]:
    if engine.dialect.name != "postgresql":
        return set()
    async with engine.connect() as connection:
        index = await connection.scalar(text("SELECT indexname FROM pg_indexes WHERE indexname = 'ix_expense_search'"))
        function = await connection.scalar(text("SELECT proname FROM pg_proc WHERE proname = 'et_unaccent'"))
    return {name for name in (index, function) if name}


async def test_down_and_up_keeps_the_expenses_and_indexes_them(
    client: Client, engine: AsyncEngine, database_url: str, backend: str
) -> None:
    user = await sign_in(client)
    for title, notes in (("Café Central", ""), ("Trader Joe's", "weekly"), ("Rent", "Zoë's share")):
        body = {"title": title, "notes": notes, "amount": "10.00"}
        assert (await client.post("/api/expenses", json=body, headers=user.headers)).status_code == 201

    async def rows() -> list[tuple[str, str]]:
        async with engine.connect() as connection:
            found = await connection.execute(
                text(
                    "SELECT e.title, e.notes FROM expense e JOIN user_account u ON u.id = e.user_id WHERE u.email = :e"
                ),
                {"e": user.email},
            )
            return sorted((r[0], r[1]) for r in found)

    before = await rows()
    assert before == [("Café Central", ""), ("Rent", "Zoë's share"), ("Trader Joe's", "weekly")]
    expected = {"ix_expense_search", "et_unaccent"} if backend == "postgresql" else set()
    assert await search_objects(engine) == expected

    run_migration(database_url, "downgrade", "0014")
    try:
        assert await search_objects(engine) == set()
        assert await rows() == before
    finally:
        run_migration(database_url, "upgrade")  # never leave the shared test database downgraded
    assert await search_objects(engine) == expected
    assert await rows() == before
    for q, title in (("cafe", "Café Central"), ("joes", "Trader Joe's"), ("zoes", "Rent")):
        listing = (await client.get("/api/expenses", params={"q": q}, headers=user.headers)).json()
        assert [e["title"] for e in listing["items"]] == [title], q
    if backend == "postgresql":
        async with engine.connect() as connection:
            valid = await connection.scalar(
                text("SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_expense_search'::regclass")
            )
        assert valid is True


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def test_the_database_owner_without_superuser_can_run_it(postgres_unavailable: str | None) -> None:
    if postgres_unavailable:
        pytest.skip(postgres_unavailable)
    role = f"et_owner_{uuid.uuid4().hex[:8]}"
    database = f"et_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(_dsn(PG_ADMIN_URL))
    try:
        await admin.execute(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE')
        await admin.execute(f'CREATE DATABASE "{database}" OWNER "{role}"')
        url = make_url(PG_ADMIN_URL).set(username=role, database=database).render_as_string(hide_password=False)
        migrate(url)  # raises when any migration fails
        owner = await asyncpg.connect(_dsn(url))
        try:
            assert not await owner.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            extensions = await owner.fetch("SELECT extname FROM pg_extension")
            assert {"unaccent", "pg_trgm", "btree_gin"} <= {r["extname"] for r in extensions}
            assert await owner.fetchval("SELECT et_unaccent('Crème Brûlée')") == "Creme Brulee"
            assert await owner.fetchval("SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_expense_search'") == 1
        finally:
            await owner.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.execute(f'DROP ROLE IF EXISTS "{role}"')
        await admin.close()
