"""Database errors under concurrency are answered like any other conflict, and error pages never touch the database.

Real interleavings on PostgreSQL: a second connection holds a transaction open while the app works on the same rows,
so the app's statement waits on the row lock and then fails its foreign key check when the other side commits.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from expense_tracker.constants import CSRF_COOKIE, SESSION_COOKIE
from tests.conftest import Session, _asyncpg_dsn
from tests.security.test_inputs import HTML, assert_problem
from tests.servers import serve

Client = httpx.AsyncClient


@pytest.fixture
async def pg(database_factory: Any, tmp_path: Path) -> AsyncIterator[tuple[Client, str]]:
    """A fresh PostgreSQL database and the real server on it (the test client would run the app on the test's own
    event loop, which a request waiting on a row lock would then block)."""
    url: str = await database_factory("postgresql")
    process, base = await asyncio.to_thread(serve, url, tmp_path / "server.log")
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            yield client, _asyncpg_dsn(url)
    finally:
        process.terminate()
        await asyncio.to_thread(process.wait, 30)


async def sign_in(client: Client) -> Session:
    email = f"race-{uuid.uuid4().hex[:10]}@example.com"
    response = await client.post("/auth/dev-login", json={"email": email, "name": "Racer"})
    assert response.status_code == 200, response.text
    client.cookies.clear()
    return Session(response.json()["access_token"], email)


async def wait_until_blocked(connection: asyncpg.Connection, task: asyncio.Task[Any]) -> None:
    """Until another backend of this database waits on a lock (the app's statement behind our transaction)."""
    for _ in range(200):
        if task.done():
            raise AssertionError(f"the request finished without waiting: {task.result().text}")
        waiting = await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        if waiting:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the app's statement never waited on our transaction")


def browse_as(client: Client, user: Session) -> None:
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, user.token)


async def category(client: Client, user: Session) -> str:
    response = await client.post("/api/categories", json={"name": "Raced"}, headers=user.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def user_id(client: Client, user: Session) -> str:
    return str((await client.get("/api/me", headers=user.headers)).json()["id"])


async def test_deleting_a_category_while_an_expense_is_inserted_into_it_is_409(pg: tuple[Client, str]) -> None:
    client, dsn = pg
    user = await sign_in(client)
    category_id = await category(client, user)
    owner = await user_id(client, user)
    other = await asyncpg.connect(dsn)
    try:
        transaction = other.transaction()
        await transaction.start()
        # An import or create on another worker: the expense is inserted but not yet committed, so the app's
        # "is the category in use?" count still sees 0 and it goes ahead with the DELETE, which waits on our row.
        await other.execute(
            "INSERT INTO expense (id, user_id, category_id, title, amount, currency, spent_on, notes, created_at,"
            " updated_at) VALUES ($1, $2, $3, 'racer', 5, 'USD', current_date, '', now(), now())",
            uuid.uuid4(),
            uuid.UUID(owner),
            uuid.UUID(category_id),
        )
        watcher = await asyncpg.connect(dsn)
        try:
            task = asyncio.create_task(client.delete(f"/api/categories/{category_id}", headers=user.headers))
            await wait_until_blocked(watcher, task)
            await transaction.commit()
            response = await asyncio.wait_for(task, 30)
        finally:
            await watcher.close()
    finally:
        await other.close()
    problem = assert_problem(response, 409)
    assert "retry" in problem["detail"].lower()
    assert (await client.get(f"/api/categories/{category_id}", headers=user.headers)).status_code == 200
    listing = (await client.get("/api/expenses", headers=user.headers)).json()
    assert [e["title"] for e in listing["items"]] == ["racer"]


async def create_while_category_is_deleted(client: Client, dsn: str, category_id: str, send: Any) -> Any:
    other = await asyncpg.connect(dsn)
    watcher = await asyncpg.connect(dsn)
    try:
        transaction = other.transaction()
        await transaction.start()
        # The delete is not committed yet: the app's ownership check still finds the category, its INSERT then
        # waits for our row lock and fails the foreign key check once we commit.
        await other.execute("DELETE FROM category WHERE id = $1", uuid.UUID(category_id))
        task = asyncio.create_task(send())
        await wait_until_blocked(watcher, task)
        await transaction.commit()
        return await asyncio.wait_for(task, 30)
    finally:
        await watcher.close()
        await other.close()


async def test_creating_an_expense_in_a_category_being_deleted_is_409(pg: tuple[Client, str]) -> None:
    client, dsn = pg
    user = await sign_in(client)
    category_id = await category(client, user)
    body = {"title": "late", "amount": "3.00", "category_id": category_id}

    async def send() -> Any:
        return await client.post("/api/expenses", json=body, headers=user.headers)

    response = await create_while_category_is_deleted(client, dsn, category_id, send)
    problem = assert_problem(response, 409)
    assert "retry" in problem["detail"].lower()
    assert (await client.get("/api/expenses", headers=user.headers)).json()["total"] == 0


async def test_the_html_form_gets_an_error_page_after_a_failed_flush(pg: tuple[Client, str]) -> None:
    """The flush fails inside the form POST; the error page must render without the (now unusable) session."""
    client, dsn = pg
    user = await sign_in(client)
    category_id = await category(client, user)
    browse_as(client, user)
    assert (await client.get("/expenses/new", headers=HTML)).status_code == 200
    form = {
        "title": "late",
        "amount": "3.00",
        "category_id": category_id,
        "_csrf_token": client.cookies.get(CSRF_COOKIE) or "",
    }

    async def send() -> Any:
        return await client.post("/expenses", data=form, headers=HTML)

    response = await create_while_category_is_deleted(client, dsn, category_id, send)
    client.cookies.clear()
    assert response.status_code == 409, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    assert "changed" in response.text
    assert "Sign out" in response.text  # still the signed-in layout, built from nothing but already-loaded state
    assert (await client.get("/api/expenses", headers=user.headers)).json()["total"] == 0


async def test_a_database_error_in_a_form_post_renders_the_html_500_page(pg: tuple[Client, str]) -> None:
    client, dsn = pg
    user = await sign_in(client)
    admin = await asyncpg.connect(dsn)
    try:
        # A real failure inside the flush, not a mock: the server refuses this one row.
        await admin.execute(
            """
            CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.title = 'boom' THEN RAISE EXCEPTION 'refused by test trigger'; END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER refuse_boom BEFORE INSERT ON expense FOR EACH ROW EXECUTE FUNCTION refuse_boom();
            """
        )
    finally:
        await admin.close()
    browse_as(client, user)
    assert (await client.get("/expenses/new", headers=HTML)).status_code == 200
    form = {"title": "boom", "amount": "3.00", "_csrf_token": client.cookies.get(CSRF_COOKIE) or ""}
    response = await client.post("/expenses", data=form, headers=HTML)
    client.cookies.clear()
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert "Something went wrong on our side" in response.text
    assert "refused by test trigger" not in response.text
    api = await client.post("/api/expenses", json={"title": "boom", "amount": "1"}, headers=user.headers)
    problem = assert_problem(api, 500)
    assert "refused" not in problem["detail"]
