"""Shared fixtures: a migrated throwaway database per backend (PostgreSQL and SQLite) and an app bound to it.

PostgreSQL comes from ``TEST_DATABASE_URL`` (default: the local server). Where it is absent the PostgreSQL cases skip
with the reason; with ``REQUIRE_POSTGRES=1`` (CI) they fail instead.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import make_url

from expense_tracker.app import create_app
from expense_tracker.settings import Settings, load_settings
from tests.connection_guard import ConnectionGuard

PG_ADMIN_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"
# Random (secrets.token_urlsafe(32)): production settings refuse readable keys, and some tests run in production mode.
TEST_SECRET = "zsJgurl50yjizw6ZncgEZXSnwNcV5EgI9SeXfq-W5JY"
OIDC_DISCOVERY = "http://127.0.0.1:9/realms/test/.well-known/openid-configuration"
BACKENDS = ["sqlite", "postgresql"]
HTML = {"Accept": "text/html,application/xhtml+xml"}
"""Headers of a browser asking for a page (HTML errors instead of problem+json)."""


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def postgres_unavailable_reason() -> str | None:
    try:
        connection = await asyncpg.connect(_asyncpg_dsn(PG_ADMIN_URL), timeout=3)
    except (OSError, asyncpg.PostgresError) as exc:
        return f"PostgreSQL not reachable at {make_url(PG_ADMIN_URL).render_as_string()}: {exc}"
    await connection.close()
    return None


def run_in_thread(coroutine: Any) -> Any:
    """Run a coroutine to completion on a private loop: for sync fixtures in threads that own another loop
    (Playwright's sync API runs one in the main thread)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def require_postgres(reason: str | None) -> None:
    if reason is None:
        return
    if REQUIRE_POSTGRES:
        pytest.fail(f"REQUIRE_POSTGRES=1 but {reason}")
    pytest.skip(reason)


# One per process (each xdist worker has its own): it only ever looks at the databases this process created.
CONNECTION_GUARD = ConnectionGuard(_asyncpg_dsn(PG_ADMIN_URL))


def migrate(database_url: str) -> None:
    """Run the real migration command, exactly as the cluster's migration Job does."""
    env = {**os.environ, "DATABASE_URL": database_url, "APP_ENV": "development"}
    subprocess.run(
        [sys.executable, "-m", "expense_tracker", "database", "upgrade", "--no-prompt"],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )


class ThrowawayPostgres:
    """Creates uniquely named databases on the test server and drops them afterwards."""

    def __init__(self, guard: ConnectionGuard | None = None) -> None:
        self.created: list[str] = []
        self.guard = guard

    async def create(self, *, session_lived: bool = False) -> str:
        """``session_lived``: used by fixtures that outlive a module, so the module check allows their app's pool."""
        name = f"et_test_{uuid.uuid4().hex[:12]}"
        connection = await asyncpg.connect(_asyncpg_dsn(PG_ADMIN_URL))
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        self.created.append(name)
        if self.guard is not None:
            self.guard.created(name, session_lived=session_lived)
        return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)

    async def drop_all(self) -> None:
        if not self.created:
            return
        connection = await asyncpg.connect(_asyncpg_dsn(PG_ADMIN_URL))
        try:
            for name in self.created:
                await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()


@pytest.fixture(scope="session")
async def postgres() -> AsyncIterator[ThrowawayPostgres]:
    databases = ThrowawayPostgres(CONNECTION_GUARD)
    yield databases
    try:
        # Every app and client built on these databases has shut down by now (they depend on this fixture): anything
        # still connected is a leak that the FORCE below would otherwise hide.
        await asyncio.to_thread(CONNECTION_GUARD.check_session)
    finally:
        await databases.drop_all()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    """After the last test of a module has been torn down (with the module's fixtures: servers, clients), that module
    must have left no connection to its databases open; a leak fails that test's teardown. A hook rather than an
    autouse fixture: an exception from a module fixture's teardown was lost when session fixtures failed with it."""
    result = yield
    if nextitem is None or nextitem.module is not getattr(item, "module", None):
        CONNECTION_GUARD.check_module()
    return result


@pytest.fixture(scope="session")
async def postgres_unavailable() -> str | None:
    return await postgres_unavailable_reason()


@pytest.fixture(scope="session")
async def database_factory(
    postgres: ThrowawayPostgres, postgres_unavailable: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Any:
    """``await database_factory(backend)`` -> URL of a new, migrated database."""

    async def make(backend: str, *, session_lived: bool = False) -> str:
        if backend == "sqlite":
            path = tmp_path_factory.mktemp("db") / "test.sqlite3"
            url = f"sqlite+aiosqlite:///{path}"
        else:
            require_postgres(postgres_unavailable)
            url = await postgres.create(session_lived=session_lived)
        await asyncio.to_thread(migrate, url)
        return url

    return make


GENEROUS_RATE_LIMITS = {
    # The suite signs in hundreds of times from one address; the limits themselves are tested in tests/security.
    "RATE_LIMIT_AUTH": "100000/minute",
    "RATE_LIMIT_WRITES": "100000/minute",
    "RATE_LIMIT_IMPORTS": "100000/minute",
}


def make_settings(database_url: str, **overrides: str) -> Settings:
    env = {
        **GENEROUS_RATE_LIMITS,
        "APP_ENV": "development",
        "DATABASE_URL": database_url,
        "SECRET_KEY": TEST_SECRET,
        "PUBLIC_URL": "http://testserver.local",
        "GOOGLE_CLIENT_ID": "google-client",
        "GOOGLE_CLIENT_SECRET": "google-secret",
        "OIDC_DISCOVERY_URL": OIDC_DISCOVERY,
        "OIDC_CLIENT_ID": "oidc-client",
        "OIDC_CLIENT_SECRET": "oidc-secret",
        "OIDC_PROVIDER_NAME": "Keycloak",
        **overrides,
    }
    return load_settings(env)


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
async def database_url(backend: str, database_factory: Any) -> str:
    url: str = await database_factory(backend, session_lived=True)
    return url


@pytest.fixture(scope="session")
async def app(database_url: str) -> Litestar:
    return create_app(make_settings(database_url))


@pytest.fixture(scope="session")
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as test_client:
        test_client.follow_redirects = False  # redirects (OAuth, forms) are asserted, never followed off-site
        engine = app.state.alchemy.get_engine()
        if engine.dialect.name == "postgresql":
            # What this app's pool keeps between requests is not a leak; read at check time, as the pool grows.
            pool = engine.pool
            CONNECTION_GUARD.allow(engine.url.database, lambda: pool.checkedin() + pool.checkedout())
        yield test_client


class Session:
    """A signed-in API user: ``headers`` carry the Bearer token."""

    def __init__(self, token: str, email: str) -> None:
        self.token = token
        self.email = email
        self.headers = {"Authorization": f"Bearer {token}"}


async def sign_in(client: AsyncTestClient[Litestar], email: str | None = None, name: str = "Test User") -> Session:
    email = email or f"user-{uuid.uuid4().hex[:10]}@example.com"
    response = await client.post("/auth/dev-login", json={"email": email, "name": name})
    assert response.status_code == 200, response.text
    client.cookies.clear()  # API tests authenticate with the Bearer header only
    return Session(response.json()["access_token"], email)


@pytest.fixture
async def user(client: AsyncTestClient[Litestar]) -> Session:
    return await sign_in(client)


@pytest.fixture
async def other_user(client: AsyncTestClient[Litestar]) -> Session:
    return await sign_in(client)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent
