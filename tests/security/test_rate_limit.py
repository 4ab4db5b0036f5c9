"""Rate limits: sign-in per client IP, writes and imports per user; 429 + Retry-After; memory and Redis counters."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
import redis.asyncio
from litestar import Litestar
from litestar.testing import AsyncTestClient

from expense_tracker.app import create_app
from tests.conftest import make_settings
from tests.servers import free_port

REDIS_URL = "redis://127.0.0.1:6379/0"
Client = AsyncTestClient[Litestar]
MakeClient = Callable[..., AbstractAsyncContextManager[Client]]
CSV = b"title,amount,spent_on\nx,1,2024-01-01\n"


@pytest.fixture(scope="module")
async def sqlite_url(database_factory: Any) -> str:
    url: str = await database_factory("sqlite")
    return url


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    """A Redis key prefix of this test's own; only its keys are deleted afterwards."""
    name = f"et-test-{uuid.uuid4().hex[:12]}"
    yield name
    connection = redis.asyncio.Redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in connection.scan_iter(match=f"{name}*")]
        if keys:
            await connection.delete(*keys)
    except redis.ConnectionError:
        pass
    finally:
        await connection.aclose()


@pytest.fixture
def make_client(sqlite_url: str, prefix: str) -> MakeClient:
    @asynccontextmanager
    async def make(**overrides: str) -> AsyncIterator[Client]:
        settings = make_settings(sqlite_url, **overrides)
        app = create_app(dataclasses.replace(settings, rate_limit_prefix=prefix))
        async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
            client.follow_redirects = False
            yield client

    return make


async def dev_login(client: Client, ip: str | None = None) -> httpx.Response:
    headers = {"X-Forwarded-For": f"203.0.113.9, {ip}"} if ip else {}
    email = f"u-{uuid.uuid4().hex[:8]}@example.com"
    return await client.post("/auth/dev-login", json={"email": email, "name": "U"}, headers=headers)


async def bearer(client: Client) -> dict[str, str]:
    response = await dev_login(client)
    assert response.status_code == 200, response.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def assert_429(response: httpx.Response, low: int, high: int) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 429
    assert low <= int(response.headers["retry-after"]) <= high


async def test_sign_in_is_limited_per_client_ip(make_client: MakeClient) -> None:
    async with make_client(RATE_LIMIT_AUTH="3/minute", TRUSTED_PROXY_HOPS="1") as client:
        for _ in range(3):
            assert (await dev_login(client, "198.51.100.1")).status_code == 200
        assert_429(await dev_login(client, "198.51.100.1"), 1, 60)
        assert_429(await client.get("/auth/google/login", headers={"X-Forwarded-For": "198.51.100.1"}), 1, 60)
        # Another address (as the trusted proxy reports it) has its own budget.
        assert (await dev_login(client, "198.51.100.2")).status_code == 200
        # Never limited: probes and static files.
        for _ in range(5):
            assert (await client.get("/healthz", headers={"X-Forwarded-For": "198.51.100.1"})).status_code == 200


async def test_an_ipv6_client_is_counted_by_its_slash_64(make_client: MakeClient) -> None:
    async with make_client(RATE_LIMIT_AUTH="2/minute", TRUSTED_PROXY_HOPS="1") as client:
        # Rotating through its own /64 (2^64 addresses) buys no fresh budget ...
        for host in ("2001:db8:1:2::1", "2001:db8:1:2::2"):
            assert (await dev_login(client, host)).status_code == 200
        assert_429(await dev_login(client, "2001:db8:1:2:ffff:ffff:ffff:ffff"), 1, 60)
        # ... while the neighbouring /64, another customer, has its own.
        assert (await dev_login(client, "2001:db8:1:3::1")).status_code == 200


async def test_forwarded_for_is_ignored_without_trusted_proxies(make_client: MakeClient) -> None:
    async with make_client(RATE_LIMIT_AUTH="2/minute") as client:
        for index in range(2):
            assert (await dev_login(client, f"198.51.100.{index}")).status_code == 200
        # A client cannot buy a fresh budget by inventing X-Forwarded-For: its socket address is what counts.
        assert_429(await dev_login(client, "198.51.100.99"), 1, 60)


async def test_writes_are_limited_per_user(make_client: MakeClient) -> None:
    async with make_client(RATE_LIMIT_WRITES="4/minute") as client:
        alice, bob = await bearer(client), await bearer(client)
        for index in range(4):
            created = await client.post("/api/expenses", json={"title": f"a{index}", "amount": "1"}, headers=alice)
            assert created.status_code == 201, created.text
        assert_429(await client.post("/api/expenses", json={"title": "a5", "amount": "1"}, headers=alice), 1, 60)
        # Alice can still read; Bob's budget is untouched by Alice's.
        assert (await client.get("/api/expenses", headers=alice)).status_code == 200
        assert (await client.post("/api/expenses", json={"title": "b", "amount": "1"}, headers=bob)).status_code == 201
        assert (await client.get("/api/expenses", headers=alice)).json()["total"] == 4


async def test_html_form_posts_count_as_writes_and_get_a_429_page(make_client: MakeClient) -> None:
    async with make_client(RATE_LIMIT_WRITES="1/minute") as client:
        login = await dev_login(client)
        assert login.status_code == 200
        html = {"Accept": "text/html"}
        assert (await client.get("/expenses/new", headers=html)).status_code == 200
        form = {"title": "Lunch", "amount": "3", "_csrf_token": client.cookies.get("et_csrftoken") or ""}
        first = await client.post("/expenses", data=form, headers=html)
        assert first.status_code == 303, first.text
        second = await client.post("/expenses", data=form, headers=html)
        assert second.status_code == 429
        assert second.headers["content-type"].startswith("text/html")
        assert 1 <= int(second.headers["retry-after"]) <= 60


async def test_imports_have_a_per_hour_limit_too(make_client: MakeClient) -> None:
    async with make_client(RATE_LIMIT_IMPORTS="5/minute;2/hour") as client:
        headers = await bearer(client)
        files = {"file": ("a.csv", CSV, "text/csv")}
        for _ in range(2):
            assert (await client.post("/api/expenses/import", files=files, headers=headers)).status_code == 201
        # The hour's budget is spent although the minute's is not: the wait is most of an hour.
        assert_429(await client.post("/api/expenses/import", files=files, headers=headers), 3000, 3600)


async def test_redis_counts_across_app_instances(make_client: MakeClient) -> None:
    limits = {"RATE_LIMIT_WRITES": "5/minute", "REDIS_URL": REDIS_URL}
    async with make_client(**limits) as first, make_client(**limits) as second:
        headers = await bearer(first)
        statuses = []
        for index in range(8):
            client = (first, second)[index % 2]
            body = {"title": f"t{index}", "amount": "1"}
            statuses.append((await client.post("/api/expenses", json=body, headers=headers)).status_code)
        assert statuses == [201] * 5 + [429] * 3
        other = await bearer(second)
        assert (
            await second.post("/api/expenses", json={"title": "o", "amount": "1"}, headers=other)
        ).status_code == 201


async def test_redis_outage_fails_open(make_client: MakeClient) -> None:
    async with make_client(RATE_LIMIT_WRITES="1/minute", REDIS_URL=f"redis://127.0.0.1:{free_port()}/0") as client:
        headers = await bearer(client)
        for index in range(3):
            created = await client.post("/api/expenses", json={"title": f"x{index}", "amount": "1"}, headers=headers)
            assert created.status_code == 201
