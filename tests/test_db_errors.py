"""A database that cannot be reached is a temporary outage (503 + Retry-After), never a 500."""

from __future__ import annotations

import datetime as dt
import logging
import re
import uuid
from collections.abc import AsyncIterator

import httpx
import jwt
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from prometheus_client import generate_latest
from sqlalchemy.ext.asyncio import AsyncSession

from expense_tracker.constants import METRIC_HTTP_REQUESTS, REQUEST_ID_HEADER
from tests.conftest import TEST_SECRET, Session, make_settings
from tests.servers import free_port
from tests.test_platform import Recorder

Client = AsyncTestClient[Litestar]


@pytest.fixture(scope="module")
async def down_client() -> AsyncIterator[Client]:
    from expense_tracker.app import create_app

    # Nothing listens on this port: every connection attempt is refused, as when PostgreSQL is down.
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nowhere"
    app = create_app(make_settings(url))
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        client.follow_redirects = False
        yield client


def session_token() -> str:
    now = dt.datetime.now(dt.UTC)
    claims = {"sub": str(uuid.uuid4()), "jti": uuid.uuid4().hex, "exp": now + dt.timedelta(hours=1), "iat": now}
    return jwt.encode(claims, TEST_SECRET, algorithm="HS256")


def assert_503_problem(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert 1 <= int(response.headers["retry-after"]) <= 30
    body = response.json()
    assert body["status"] == 503
    assert body["title"] == "Service Unavailable"
    assert "asyncpg" not in response.text
    assert "Errno" not in response.text


async def test_handler_that_hits_the_database_answers_503(down_client: Client) -> None:
    response = await down_client.post("/auth/dev-login", json={"email": "a@example.com", "name": "A"})
    assert_503_problem(response)


async def test_session_lookup_in_the_auth_middleware_answers_503(down_client: Client) -> None:
    headers = {"Authorization": f"Bearer {session_token()}"}
    assert_503_problem(await down_client.get("/api/expenses", headers=headers))
    assert_503_problem(await down_client.post("/api/expenses", json={"title": "x", "amount": "1"}, headers=headers))


async def test_browser_gets_a_503_page(down_client: Client) -> None:
    down_client.cookies.set("et_session", session_token())
    try:
        response = await down_client.get("/expenses", headers={"Accept": "text/html"})
    finally:
        down_client.cookies.clear()
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("text/html")
    assert int(response.headers["retry-after"]) >= 1
    assert "try again" in response.text.lower()


async def test_readiness_and_liveness(down_client: Client) -> None:
    assert (await down_client.get("/readyz")).status_code == 503
    assert (await down_client.get("/healthz")).status_code == 200


async def test_a_failed_commit_is_never_reported_as_success(
    client: Client, user: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The commit runs as the response starts; if the database is gone by then, the client must not see a 201."""

    async def lost_connection(self: AsyncSession) -> None:
        raise ConnectionResetError("connection lost during COMMIT")

    def sent_503s() -> float:
        pattern = rf'^{METRIC_HTTP_REQUESTS}{{[^}}]*path="/api/expenses"[^}}]*status_code="503"[^}}]*}} (\S+)$'
        return sum(float(v) for v in re.findall(pattern, generate_latest().decode(), re.MULTILINE))

    before = sent_503s()
    recorder = Recorder()
    logging.getLogger().addHandler(recorder)
    monkeypatch.setattr(AsyncSession, "commit", lost_connection)
    response = await client.post(
        "/api/expenses",
        json={"title": "Never stored", "amount": "1"},
        headers={**user.headers, REQUEST_ID_HEADER: "lost-commit"},
    )
    monkeypatch.undo()
    logging.getLogger().removeHandler(recorder)
    assert_503_problem(response)
    assert "Never stored" not in response.text
    assert (await client.get("/api/expenses", headers=user.headers)).json()["total"] == 0
    # What the client got is what the RED metrics and the access log record (the SLO counts it as an error).
    assert sent_503s() == before + 1
    assert [e["status"] for e in recorder.events if e.get("request_id") == "lost-commit"] == [503]
