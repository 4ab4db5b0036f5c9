"""Statements per request: a fixed, small number, the same for 30 expenses as for 330 (no N+1), on both backends.

Every statement the app sends while serving one request is recorded by a SQLAlchemy event hook on the app's own
engine (``tests/query_counter.py``), BEGIN and COMMIT included: each is a round trip. The expected numbers are the
literal table ``EXPECTED`` below, written down from the statements the app issues today (listed in each row's
comment). When a change makes a request cheaper, lower its number here; a number that goes up needs a reason.

Data size: every request is counted for a user with 30 expenses (more than one page of every listing) and for one
with the same 30 plus 300 more spread over every category, both currencies and two years (bulk-inserted). A query per
row, per category or per month would make the second count larger, whatever the literal says.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import random
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from uuid_utils.compat import uuid7

from expense_tracker.db.models import Expense, Tag, User, expense_tag
from tests import query_counter
from tests.conftest import Session, sign_in

Client = AsyncTestClient[Litestar]
SMALL = 30
BULK = 300

# Statements per request, (SQLite, PostgreSQL), counting BEGIN and COMMIT. Today every request is:
# BEGIN, the session's user (one SELECT that also checks revocation), the handler's statements, COMMIT.
EXPECTED: dict[str, tuple[int, int]] = {
    # Reads run without BEGIN/COMMIT (autocommit) and the session check is served from the per-process cache, so a
    # read's count is its own statements only; writes add BEGIN and COMMIT.
    # Issue 15 (tags): every listing, read and update answers with the tags; a page's tags are ONE query whatever its
    # size (never one per row), which is the +1 of "list", "list filtered", "list search", "get" and "update".
    "list": (3, 3),  # page (limit + 1 rows), count from the month aggregates, the page's tags
    "list filtered": (3, 3),  # page; month aggregates UNION ALL the partial months' smaller side from the rows; tags
    "list search": (3, 3),  # page, count capped at LIST_COUNT_CAP + 1 rows, the page's tags
    # page (EXISTS over expense_tag), count capped from the rows (the aggregates know no tags), the page's tags
    "list tagged": (3, 3),
    "get": (2, 2),  # the expense, scoped to its owner; its tags
    "create": (3, 3),  # BEGIN, INSERT ... SELECT ... WHERE EXISTS (category ownership in the same statement), COMMIT
    # BEGIN, the row as it was (the undo's snapshot, scoped to the owner), the owned expense, UPDATE of the changed
    # columns, its tags (the answer), INSERT of the undo's trash item, COMMIT
    "update": (7, 7),
    # BEGIN, the owned row and the rows pointing at it (one SELECT per table with an ON DELETE CASCADE or SET NULL
    # foreign key to expense: imported_row, expense_tag, recurring_occurrence), DELETE scoped to the owner, INSERT of
    # the trash item, COMMIT
    "delete": (8, 8),
    # BEGIN, INSERT ... SELECT, the named tags (all exist), INSERT of the links, COMMIT: the same for 1 or 20 tags
    "create tagged": (5, 5),
    "tags": (1, 1),  # the tags with their counts (one GROUP BY)
    "report by-tag": (2, 2),  # per tag and currency, the untagged per currency
    "report monthly": (1, 1),  # the months' aggregates
    "report by-category": (2, 2),  # aggregates UNION ALL the partial month's rows, the categories' names
    # categories joined to the month's aggregates (per currency), the exchange rates (to convert other currencies
    # into the budgets' ones)
    "report budget": (2, 2),
    # this month to date and the same days of last month (each one aggregates-UNION-rows statement), budgets (the
    # categories with their budget history, the months' aggregates from the start of any rollover chain, the rates),
    # latest 8, categories, last-used category, recent currencies (the quick add's currency select), the recurring
    # schedules (the Upcoming box): the same on any day of the month
    "dashboard page": (10, 10),
    # budgets (issue 15): the categories with their budget history, the months' aggregates from the start of any
    # rollover chain (one statement for a month or a year), the exchange rates
    "budgets month": (3, 3),
    "budgets year": (3, 3),
    # page, totals per currency from the aggregates (also the count), categories, recent currencies (filter and edit
    # forms' currency selects), the page's tags, the user's tag names (filter panel, the edit forms' suggestions)
    "expenses page": (6, 6),
}


@dataclass
class Account:
    session: Session
    user_id: uuid.UUID
    expense_ids: list[str]
    category_ids: list[str]


@dataclass(frozen=True)
class Call:
    method: str
    path: Callable[[Account], str]
    body: Callable[[Account], dict[str, Any] | None] = lambda _: None
    html: bool = False
    status: int = 200
    prepare: Callable[[Client, Account], Any] | None = None
    """Runs before each call, outside the count (the delete needs a fresh row to delete)."""


_titles = itertools.count()


def _fresh_title(_: Account) -> dict[str, Any]:
    # A PATCH that changes nothing issues no UPDATE: every counted update must really change the row.
    return {"title": f"renamed {next(_titles)}"}


async def _new_expense(client: Client, account: Account) -> None:
    body = {"title": "to delete", "amount": "1.00", "category_id": account.category_ids[0]}
    response = await client.post("/api/expenses", json=body, headers=account.session.headers)
    assert response.status_code == 201, response.text
    account.expense_ids.append(response.json()["id"])


def _recent_range() -> str:
    today = dt.datetime.now(dt.UTC).date()
    return f"from={today.replace(day=1) - dt.timedelta(days=400)}&to={today}"


CALLS: dict[str, Call] = {
    "list": Call("GET", lambda a: "/api/expenses?limit=2"),
    "list filtered": Call("GET", lambda a: f"/api/expenses?limit=2&{_recent_range()}&category_id={a.category_ids[1]}"),
    "list search": Call("GET", lambda a: "/api/expenses?limit=2&q=lunch"),
    "list tagged": Call("GET", lambda a: "/api/expenses?limit=2&tag=trip&tag=Work&tag_mode=any"),
    "get": Call("GET", lambda a: f"/api/expenses/{a.expense_ids[0]}"),
    "create": Call(
        "POST",
        lambda a: "/api/expenses",
        lambda a: {"title": "Coffee", "amount": "3.20", "category_id": a.category_ids[2]},
        status=201,
    ),
    "create tagged": Call(
        "POST",
        lambda a: "/api/expenses",
        lambda a: {"title": "Taxi", "amount": "9.10", "tags": ["trip", "WORK"]},
        status=201,
    ),
    "update": Call("PATCH", lambda a: f"/api/expenses/{a.expense_ids[0]}", _fresh_title),
    "delete": Call("DELETE", lambda a: f"/api/expenses/{a.expense_ids.pop()}", status=204, prepare=_new_expense),
    "report monthly": Call("GET", lambda a: "/api/reports/monthly?months=24"),
    "report by-category": Call("GET", lambda a: f"/api/reports/by-category?{_recent_range()}"),
    "report budget": Call("GET", lambda a: "/api/reports/budget"),
    "tags": Call("GET", lambda a: "/api/tags"),
    "report by-tag": Call("GET", lambda a: f"/api/reports/by-tag?{_recent_range()}"),
    "dashboard page": Call("GET", lambda a: "/", html=True),
    "budgets month": Call("GET", lambda a: "/api/budgets"),
    "budgets year": Call("GET", lambda a: "/api/budgets/year"),
    "expenses page": Call("GET", lambda a: "/expenses", html=True),
}


def test_every_request_has_an_expected_count() -> None:
    assert CALLS.keys() == EXPECTED.keys()


async def _make_account(client: Client, expenses: int) -> Account:
    session = await sign_in(client)
    me = (await client.get("/api/me", headers=session.headers)).json()
    categories = (await client.get("/api/categories", headers=session.headers)).json()
    category_ids = [c["id"] for c in categories]
    # A budget on every category, so the budget report and the dashboard's budget bars have a line per category.
    for category_id in category_ids:
        response = await client.patch(
            f"/api/categories/{category_id}", json={"monthly_budget": "250.00"}, headers=session.headers
        )
        assert response.status_code == 200, response.text
    account = Account(session, uuid.UUID(me["id"]), [], category_ids)
    today = dt.datetime.now(dt.UTC).date()
    for i in range(expenses):
        body = {
            "title": f"Lunch {i}",
            "amount": "12.50",
            "category_id": category_ids[i % len(category_ids)],
            "spent_on": (today - dt.timedelta(days=i)).isoformat(),
            # Tags on most of them, so every page read has tags to load (a query per row would show).
            "tags": [["trip"], ["work", "trip"], []][i % 3],
        }
        response = await client.post("/api/expenses", json=body, headers=session.headers)
        assert response.status_code == 201, response.text
        account.expense_ids.append(response.json()["id"])
    return account


async def _bulk_insert(engine: AsyncEngine, account: Account, rows: int) -> None:
    """``rows`` more expenses in one executemany, outside any count: every category and none, two currencies, two
    years of dates (so every report month and category has rows), titles that half match the search."""
    rng = random.Random(13)
    today = dt.datetime.now(dt.UTC).date()
    categories: list[uuid.UUID | None] = [uuid.UUID(c) for c in account.category_ids] + [None]
    values = [
        {
            "user_id": account.user_id,
            "category_id": categories[i % len(categories)],
            "title": "Lunch out" if i % 2 else "Groceries",
            "amount": Decimal(rng.randint(100, 99_999)) / 100,
            "currency": "EUR" if i % 5 == 0 else "USD",
            "spent_on": today - dt.timedelta(days=rng.randint(0, 730)),
            "notes": "",
        }
        for i in range(rows)
    ]
    for value in values:
        value["id"] = uuid7()
    async with engine.begin() as connection:
        await connection.execute(insert(Expense), values)
        # Tag half of them with the account's tags (made by _make_account): more tagged rows in every listing.
        tag_ids = (await connection.scalars(select(Tag.id).where(Tag.user_id == account.user_id))).all()
        links = [{"expense_id": v["id"], "tag_id": tag_ids[i % len(tag_ids)]} for i, v in enumerate(values) if i % 2]
        await connection.execute(insert(expense_tag), links)


@pytest.fixture(scope="module")
async def direct(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine of the test's own for setup behind the app's back. The app's engine is not usable from here: the
    test client serves requests on its own event loop in another thread, and asyncpg connections belong to one loop."""
    engine = create_async_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="module")
async def accounts(app: Litestar, client: Client, direct: AsyncEngine) -> tuple[Account, Account]:
    """A user with 30 expenses and one with the same 30 plus 300 more."""
    query_counter.instrument(app.state.alchemy.get_engine())
    small = await _make_account(client, SMALL)
    large = await _make_account(client, SMALL)
    await _bulk_insert(direct, large, BULK)
    for account, size in ((small, SMALL), (large, SMALL + BULK)):
        listing = await client.get("/api/expenses?limit=1", headers=account.session.headers)
        assert listing.json()["total"] == size
    return small, large


async def _keep_last_seen_fresh(engine: AsyncEngine, account: Account) -> None:
    # Sign-in activity is written at most once per 5 minutes per user; a slow run crossing that boundary would add
    # that one UPDATE to whichever request came next. It is not per-request work, so it is kept out of the count.
    async with engine.begin() as connection:
        await connection.execute(
            update(User).where(User.id == account.user_id).values(last_seen_at=dt.datetime.now(dt.UTC))
        )


async def _count(direct: AsyncEngine, client: Client, account: Account, call: Call) -> query_counter.Capture:
    if call.prepare is not None:
        await call.prepare(client, account)
    await _keep_last_seen_fresh(direct, account)
    token, path, body = account.session.token, call.path(account), call.body(account)
    response, recorded = await query_counter.request(client, call.method, path, token, html=call.html, json=body)
    assert response.status_code == call.status, (call, response.text[:500])
    return recorded


@pytest.mark.parametrize("name", list(CALLS))
async def test_statements_per_request_are_fixed_and_independent_of_data_size(
    direct: AsyncEngine, client: Client, backend: str, accounts: tuple[Account, Account], name: str
) -> None:
    call = CALLS[name]
    expected = EXPECTED[name][0 if backend == "sqlite" else 1]
    recorded = {}
    for label, account in zip((f"{SMALL} expenses", f"{SMALL + BULK} expenses"), accounts, strict=True):
        await _count(direct, client, account, call)  # warm-up: first-request caches (templates, compiled statements)
        recorded[label] = await _count(direct, client, account, call)
    counts = {label: capture.count for label, capture in recorded.items()}
    # Growth with the data first: it names the bug (a query per row/category/month) better than a wrong total does.
    assert len(set(counts.values())) == 1, f"{name}: statements grow with the data {counts}:\n" + "\n".join(
        f"{label}:\n{capture.describe()}" for label, capture in recorded.items()
    )
    capture = next(iter(recorded.values()))
    assert capture.count == expected, f"{name}: {capture.count} statements, expected {expected}:\n{capture.describe()}"


async def test_the_counter_sees_transactions_and_only_its_own_context(tmp_path: Any) -> None:
    """The hook itself, on an engine of its own: BEGIN/COMMIT counted, AUTOCOMMIT's notional ones not, and statements
    of work started outside the capture (like the app's background metrics task) never attributed to it."""
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'counter.sqlite3'}")
    query_counter.instrument(engine)
    try:
        with query_counter.capture() as recorded:
            async with engine.begin() as connection:
                await connection.execute(text("SELECT 1"))
        assert [s.kind for s in recorded.statements] == ["BEGIN", "sql", "COMMIT"]
        assert recorded.sql[0].text == "SELECT 1"

        with query_counter.capture() as recorded:
            async with engine.connect() as connection:
                autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
                await autocommit.execute(text("SELECT 2"))
                await autocommit.commit()
        assert [s.kind for s in recorded.statements] == ["sql"]

        go = asyncio.Event()

        async def background() -> None:
            await go.wait()
            async with engine.begin() as connection:
                await connection.execute(text("SELECT 3"))

        task = asyncio.create_task(background())  # started before the capture, as the app's startup tasks are
        with query_counter.capture() as recorded:
            go.set()
            await task
        assert recorded.statements == []
    finally:
        await engine.dispose()
