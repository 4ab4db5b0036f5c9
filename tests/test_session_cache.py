"""The lean request path: session checks served from the per-process cache within SESSION_CACHE_SECONDS, changes made
in this process seen at once and others within the bound, last-seen still recorded, and reads without BEGIN/COMMIT."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import jwt
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import event, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from expense_tracker.app import create_app
from expense_tracker.db.models import RevokedToken, User
from tests.conftest import TEST_SECRET, Session, make_settings, sign_in

Client = AsyncTestClient[Litestar]
BOUND = 5  # seconds: SESSION_CACHE_SECONDS in these tests


class Clock:
    """The cache's clock, moved by hand: the bound is tested without sleeping."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset


@pytest.fixture
async def cached(database_url: str) -> AsyncIterator[tuple[Client, Clock]]:
    app = create_app(make_settings(database_url, SESSION_CACHE_SECONDS=str(BOUND)))
    clock = Clock()
    app.state.session_cache.clock = clock
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        yield client, clock


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A second connection to the same database: another worker, or an operator at psql."""
    engine = create_async_engine(database_url)
    yield engine
    await engine.dispose()


@contextmanager
def statements(app: Litestar) -> Iterator[list[str]]:
    """Every SQL statement the app's engine runs meanwhile."""
    seen: list[str] = []
    engine = app.state.alchemy.get_engine().sync_engine

    def record(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def jti_of(session: Session) -> str:
    return str(jwt.decode(session.token, TEST_SECRET, algorithms=["HS256"])["jti"])


async def me(client: Client, session: Session) -> int:
    return (await client.get("/api/me", headers=session.headers)).status_code


async def test_a_checked_session_needs_no_query_within_the_bound(cached: tuple[Client, Clock]) -> None:
    client, clock = cached
    session = await sign_in(client)
    assert await me(client, session) == 200  # checked against the database, remembered
    with statements(client.app) as seen:
        assert await me(client, session) == 200
    assert seen == []  # /api/me itself reads nothing: the session check was the only query
    clock.offset += BOUND
    with statements(client.app) as seen:
        assert await me(client, session) == 200
    assert len(seen) == 1  # the bound passed: checked again, one query


async def test_logout_here_is_refused_at_once(cached: tuple[Client, Clock]) -> None:
    client, _ = cached
    session = await sign_in(client)
    assert await me(client, session) == 200
    assert (await client.post("/auth/logout", headers=session.headers)).status_code == 204
    assert await me(client, session) == 401


async def test_revocation_elsewhere_is_seen_within_the_bound(cached: tuple[Client, Clock], db: AsyncEngine) -> None:
    client, clock = cached
    session, other = await sign_in(client), await sign_in(client)
    assert await me(client, session) == 200
    assert await me(client, other) == 200
    async with db.begin() as connection:  # another worker's logout
        expires = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        await connection.execute(RevokedToken.__table__.insert().values(jti=jti_of(session), expires_at=expires))
    assert await me(client, session) == 200  # still within the bound: the documented staleness
    clock.offset += BOUND
    assert await me(client, session) == 401
    assert await me(client, other) == 200  # the user's other session is not revoked


async def test_deactivation_elsewhere_is_seen_within_the_bound(cached: tuple[Client, Clock], db: AsyncEngine) -> None:
    client, clock = cached
    session = await sign_in(client)
    assert await me(client, session) == 200
    async with db.begin() as connection:
        await connection.execute(update(User).where(User.email == session.email).values(is_active=False))
    clock.offset += BOUND - 0.5
    assert await me(client, session) == 200
    clock.offset += 0.5
    assert await me(client, session) == 401


async def test_settings_changed_here_are_seen_at_once(cached: tuple[Client, Clock]) -> None:
    client, _ = cached
    session = await sign_in(client)
    assert (await client.get("/api/settings", headers=session.headers)).json()["currency"] == "USD"
    new = {"currency": "EUR", "theme": "dark", "timezone": "Europe/Berlin", "locale": "de_DE", "convert_totals": False}
    assert (await client.put("/api/settings", json=new, headers=session.headers)).status_code == 200
    assert (await client.get("/api/settings", headers=session.headers)).json() == new
    created = await client.post("/api/expenses", json={"title": "Tea", "amount": "3.10"}, headers=session.headers)
    assert created.json()["currency"] == "EUR"  # the default currency comes from the request's user


async def test_each_request_gets_its_own_user_object(cached: tuple[Client, Clock]) -> None:
    """A handler that changed its request's user object must not change what the next request sees."""
    client, _ = cached
    session = await sign_in(client)
    cache = client.app.state.session_cache
    user_id = uuid.UUID(jwt.decode(session.token, TEST_SECRET, algorithms=["HS256"])["sub"])
    assert await me(client, session) == 200
    first = cache.get(jti_of(session), user_id)
    assert first is not None
    first.currency = "JPY"
    second = cache.get(jti_of(session), user_id)
    assert second is not None
    assert second is not first
    assert second.currency == "USD"


async def test_last_seen_is_still_recorded_from_cached_sessions(cached: tuple[Client, Clock], db: AsyncEngine) -> None:
    client, _ = cached
    session = await sign_in(client)
    assert await me(client, session) == 200
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=6)  # beyond the 5-minute resolution
    async with db.begin() as connection:
        await connection.execute(update(User).where(User.email == session.email).values(last_seen_at=long_ago))
    client.app.state.session_cache.seen(jti_of(session), long_ago)  # as if the last write was six minutes ago
    before = dt.datetime.now(dt.UTC)
    assert await me(client, session) == 200  # served from the cache, and due for the write
    async with db.connect() as connection:
        stored = (await connection.execute(select(User.last_seen_at).where(User.email == session.email))).scalar_one()
    assert stored is not None
    assert stored.replace(tzinfo=stored.tzinfo or dt.UTC) >= before - dt.timedelta(seconds=1)
    with statements(client.app) as seen:  # and once per resolution only
        assert await me(client, session) == 200
    assert seen == []


# Reads without BEGIN/COMMIT: what asyncpg sends on the wire, recorded by its own query logger.


class Wire:
    """Everything asyncpg sends as a simple query (BEGIN, COMMIT, ROLLBACK, a pool ping) on every connection of the
    app's engine from its first checkout on, recorded by asyncpg's own query logger."""

    def __init__(self, app: Litestar) -> None:
        self.sent: list[str] = []
        event.listen(app.state.alchemy.get_engine().sync_engine, "connect", self._attach)

    def _attach(self, dbapi_connection: Any, _: Any) -> None:
        dbapi_connection.driver_connection.add_query_logger(self._log)

    def _log(self, record: Any) -> None:
        self.sent.append(record.query.strip().rstrip(";").upper())

    @contextmanager
    def recording(self) -> Iterator[list[str]]:
        self.sent.clear()
        yield self.sent


async def logged() -> None:
    """asyncpg hands records to its loggers with ``call_soon``: let the loop run them."""
    await asyncio.sleep(0.05)


@pytest.fixture
async def pg_client(database_url: str) -> AsyncIterator[tuple[Client, Wire]]:
    if not database_url.startswith("postgresql"):
        pytest.skip("asyncpg's wire log: PostgreSQL only")
    app = create_app(make_settings(database_url))
    wire = Wire(app)  # before the first request: every connection the app opens is recorded
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        yield client, wire


async def test_reads_send_no_begin_or_commit(pg_client: tuple[Client, Wire]) -> None:
    client, wire = pg_client
    session = await sign_in(client)
    created = await client.post("/api/expenses", json={"title": "Bus", "amount": "2.40"}, headers=session.headers)
    expense_id = created.json()["id"]
    await logged()  # the create's COMMIT, delivered late, belongs before the reads
    for path in ("/api/me", f"/api/expenses/{expense_id}", "/api/expenses", "/api/reports/summary", "/"):
        for _ in range(2):  # the first request of a token also checks the session against the database
            with wire.recording() as sent:
                response = await client.get(path, headers=session.headers)
                await logged()
            assert response.status_code == 200, (path, response.text)
            assert sent == [], (path, sent)  # no BEGIN/COMMIT, and no pool ping either


async def test_writes_keep_one_transaction(pg_client: tuple[Client, Wire]) -> None:
    client, wire = pg_client
    session = await sign_in(client)
    await logged()
    with wire.recording() as sent:
        created = await client.post("/api/expenses", json={"title": "Taxi", "amount": "9"}, headers=session.headers)
        await logged()
    assert created.status_code == 201
    assert len(sent) == 2, sent  # one transaction, no ping
    assert sent[0].startswith("BEGIN")
    assert sent[1] == "COMMIT"


async def test_a_failed_write_leaves_nothing(pg_client: tuple[Client, Wire], db: AsyncEngine) -> None:
    """All or nothing still holds for writes: an import with one bad row stores none of the good ones."""
    client, _ = pg_client
    session = await sign_in(client)
    body = "title,amount,spent_on\nGood,1.00,2024-01-02\nBad,abc,2024-01-03\n"
    files = {"file": ("x.csv", body.encode(), "text/csv")}
    response = await client.post("/api/expenses/import", files=files, headers=session.headers)
    assert response.status_code == 400, response.text  # the bad row is named; nothing stored
    async with db.connect() as connection:
        count = await connection.scalar(
            text("SELECT count(*) FROM expense e JOIN user_account u ON u.id = e.user_id WHERE u.email = :e"),
            {"e": session.email},
        )
    assert count == 0
