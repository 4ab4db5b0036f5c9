"""``Idempotency-Key`` on creates and imports: a retried request is answered from the first, never stored twice."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import create_async_engine

from expense_tracker.db.models import IdempotencyKey
from tests.conftest import Session

Client = AsyncTestClient[Litestar]
CSV = b"title,amount,spent_on\nCoffee,3.20,2024-01-01\nTea,2.10,2024-01-02\n"


def keyed(user: Session, key: str) -> dict[str, str]:
    return {**user.headers, "Idempotency-Key": key}


async def total(client: Client, user: Session) -> int:
    count: int = (await client.get("/api/expenses", headers=user.headers)).json()["total"]
    return count


async def test_a_replay_returns_the_first_response_and_stores_once(client: Client, user: Session) -> None:
    key = str(uuid.uuid4())
    body = {"title": "Taxi", "amount": "18.40"}
    first = await client.post("/api/expenses", json=body, headers=keyed(user, key))
    assert first.status_code == 201, first.text
    again = await client.post("/api/expenses", json={"amount": "18.40", "title": "Taxi"}, headers=keyed(user, key))
    assert again.status_code == 201
    assert again.json() == first.json()
    assert await total(client, user) == 1
    # Without a key every POST is a new expense, as before.
    assert (await client.post("/api/expenses", json=body, headers=user.headers)).status_code == 201
    assert await total(client, user) == 2


async def test_the_same_key_with_another_body_is_refused(client: Client, user: Session) -> None:
    key = "order-42"
    assert (await client.post("/api/expenses", json={"title": "A", "amount": "1"}, headers=keyed(user, key))).is_success
    other = await client.post("/api/expenses", json={"title": "B", "amount": "1"}, headers=keyed(user, key))
    assert other.status_code == 422
    assert other.headers["content-type"].startswith("application/problem+json")
    assert "Idempotency-Key" in other.json()["detail"]
    assert await total(client, user) == 1


async def test_keys_belong_to_their_user(client: Client, user: Session, other_user: Session) -> None:
    body = {"title": "Shared key", "amount": "2"}
    mine = await client.post("/api/expenses", json=body, headers=keyed(user, "same"))
    theirs = await client.post("/api/expenses", json=body, headers=keyed(other_user, "same"))
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]


async def test_a_failed_request_does_not_use_up_its_key(client: Client, user: Session) -> None:
    bad = await client.post("/api/expenses", json={"title": "X", "amount": "0"}, headers=keyed(user, "k1"))
    assert bad.status_code == 400
    good = await client.post("/api/expenses", json={"title": "X", "amount": "1"}, headers=keyed(user, "k1"))
    assert good.status_code == 201


async def test_concurrent_first_use_creates_one_row(client: Client, user: Session) -> None:
    key = str(uuid.uuid4())
    body = {"title": "Race", "amount": "7.00"}
    responses = await asyncio.gather(
        *(client.post("/api/expenses", json=body, headers=keyed(user, key)) for _ in range(8))
    )
    assert {r.status_code for r in responses} == {201}, [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert await total(client, user) == 1


async def test_import_replay(client: Client, user: Session) -> None:
    files = {"file": ("e.csv", CSV, "text/csv")}
    first = await client.post("/api/expenses/import", files=files, headers=keyed(user, "import-1"))
    assert first.status_code == 201, first.text
    # A retry re-encodes the multipart body with a new boundary; the file is what identifies the request.
    again = await client.post(
        "/api/expenses/import", files={"file": ("renamed.csv", CSV, "text/csv")}, headers=keyed(user, "import-1")
    )
    assert again.status_code == 201
    assert again.json() == first.json() == {"imported": 2, "categories_created": []}
    assert await total(client, user) == 2
    changed = {"file": ("e.csv", CSV + b"Cake,4,2024-01-03\n", "text/csv")}
    assert (
        await client.post("/api/expenses/import", files=changed, headers=keyed(user, "import-1"))
    ).status_code == 422
    assert await total(client, user) == 2


async def test_expired_keys_are_purged_and_reusable(client: Client, database_url: str, user: Session) -> None:
    key = f"daily-{uuid.uuid4()}"
    first = await client.post("/api/expenses", json={"title": "Old", "amount": "1"}, headers=keyed(user, key))
    assert first.status_code == 201
    engine = create_async_engine(database_url)  # the test's own connection: the app's engine lives on another loop
    try:
        async with engine.begin() as connection:
            past = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
            await connection.execute(update(IdempotencyKey).where(IdempotencyKey.key == key).values(expires_at=past))
        fresh = await client.post("/api/expenses", json={"title": "New", "amount": "2"}, headers=keyed(user, key))
        assert fresh.status_code == 201
        assert fresh.json()["id"] != first.json()["id"]
        async with engine.connect() as connection:
            rows: Any = await connection.scalar(select(func.count()).where(IdempotencyKey.key == key))
    finally:
        await engine.dispose()
    assert rows == 1


async def test_bad_keys_and_the_openapi_document(client: Client, user: Session) -> None:
    too_long = await client.post("/api/expenses", json={"title": "t", "amount": "1"}, headers=keyed(user, "k" * 256))
    assert too_long.status_code == 400
    schema = (await client.get("/api/openapi.json")).json()
    for path in ("/api/expenses", "/api/expenses/import"):
        parameters = schema["paths"][path]["post"]["parameters"]
        assert {"name": "Idempotency-Key", "in": "header"} in [{"name": p["name"], "in": p["in"]} for p in parameters]


async def test_a_retry_of_a_request_still_running_is_told_so_at_once(
    client: Client, database_url: str, backend: str, user: Session
) -> None:
    """While the first use of a key is uncommitted (a slow import), a retry must not park a pooled connection on it."""
    if backend != "postgresql":
        pytest.skip("SQLite serialises writers; there is no row lock to wait on")
    me = (await client.get("/api/me", headers=user.headers)).json()
    key = f"slow-{uuid.uuid4()}"
    engine = create_async_engine(database_url)  # the first request, holding its claim open
    try:
        async with engine.connect() as first:
            await first.execute(
                insert(IdempotencyKey).values(
                    id=uuid.uuid4(),
                    user_id=uuid.UUID(me["id"]),
                    key=key,
                    fingerprint="x",
                    expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
                )
            )
            retry = client.post("/api/expenses", json={"title": "Retry", "amount": "1"}, headers=keyed(user, key))
            # A hang detector, not a timing budget: before, the retry waited for as long as the first one ran.
            response = await asyncio.wait_for(retry, timeout=30)
            await first.rollback()
    finally:
        await engine.dispose()
    assert response.status_code == 409, response.text
    assert "still in progress" in response.json()["detail"]
