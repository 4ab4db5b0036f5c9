"""The suite's own hygiene: apps close their database connections on shutdown, and the guard notices when not."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import make_url

from expense_tracker.app import create_app
from tests.conftest import PG_ADMIN_URL, _asyncpg_dsn, make_settings, sign_in
from tests.connection_guard import ConnectionGuard, LeakedConnectionsError


async def open_connections(url: str) -> int:
    """Connections to ``url``'s database once closing ones are gone (a backend exits a moment after its client)."""
    name = make_url(url).database
    admin = await asyncpg.connect(_asyncpg_dsn(PG_ADMIN_URL))
    try:
        deadline = time.monotonic() + 5
        while True:
            count: int = await admin.fetchval("SELECT count(*) FROM pg_stat_activity WHERE datname = $1", name)
            if count == 0 or time.monotonic() > deadline:
                return count
            await asyncio.sleep(0.1)
    finally:
        await admin.close()


async def test_every_app_in_a_process_closes_its_connections_on_shutdown(database_factory: Any) -> None:
    url = await database_factory("postgresql")
    # Three apps: advanced-alchemy's own shutdown disposed only the first engine built in a process (later configs get
    # a suffixed state key its check misses), and the suite builds dozens.
    for _ in range(3):
        async with AsyncTestClient(app=create_app(make_settings(url)), base_url="http://testserver.local") as client:
            await sign_in(client)  # a request that writes: the pool now holds a connection
            assert await open_connections(url) > 0
        assert await open_connections(url) == 0


async def test_the_guard_fails_on_a_connection_left_open_and_passes_once_it_is_closed(database_factory: Any) -> None:
    url = await database_factory("postgresql")
    name = make_url(url).database
    guard = ConnectionGuard(_asyncpg_dsn(PG_ADMIN_URL), settle_seconds=0.5)
    guard.created(name, session_lived=False)
    leaked = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        with pytest.raises(LeakedConnectionsError, match=name):
            await asyncio.to_thread(guard.check_session)
    finally:
        await leaked.close()
    await asyncio.to_thread(guard.check_session)


async def test_the_guard_allows_what_a_session_app_holds_and_no_more(database_factory: Any) -> None:
    url = await database_factory("postgresql")
    name = make_url(url).database
    guard = ConnectionGuard(_asyncpg_dsn(PG_ADMIN_URL), settle_seconds=0.5)
    guard.created(name, session_lived=True)
    guard.allow(name, lambda: 1)
    held = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        await asyncio.to_thread(guard.check_module)  # one open, one allowed
        extra = await asyncpg.connect(_asyncpg_dsn(url))
        try:
            with pytest.raises(LeakedConnectionsError, match=name):
                await asyncio.to_thread(guard.check_module)
        finally:
            await extra.close()
        with pytest.raises(LeakedConnectionsError, match=name):
            await asyncio.to_thread(guard.check_session)  # at the end of the session nothing is allowed
    finally:
        await held.close()
