"""``expense_month_total`` stays equal to a recomputation from the expense rows, whatever writes happen.

The truth here is computed in the test from the raw expense rows (Python grouping, amounts converted to cents with
Decimal), never from the app's own rebuild query. Writes go through the real API (create, update of each field,
delete, CSV import, category delete with reassignment) and plain SQL (a user's deletion cascade), on PostgreSQL and
SQLite.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import subprocess
import sys
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import event, func, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from expense_tracker.db.models import Expense
from expense_tracker.domain.expenses.schemas import ExpenseFilters
from expense_tracker.domain.expenses.totals import aggregate_count, period_totals
from expense_tracker.domain.reports.services import ReportService
from tests.conftest import Session, sign_in

Client = AsyncTestClient[Litestar]
Key = tuple[uuid.UUID, dt.date, uuid.UUID | None, str]


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database_url)
    yield engine
    await engine.dispose()


def _uuid(value: Any) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    return uuid.UUID(bytes=value) if isinstance(value, bytes) else uuid.UUID(str(value))


def _date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _cents(amount: Any) -> int:
    # SQLite hands back floats (12.34), PostgreSQL Decimals; both have exactly two decimals once rounded.
    return int(Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) * 100)


async def truth(engine: AsyncEngine, users: list[uuid.UUID]) -> dict[Key, tuple[int, int]]:
    """Group the users' expense rows by month, category and currency, in Python."""
    found: dict[Key, list[int]] = defaultdict(lambda: [0, 0])
    async with engine.connect() as connection:
        rows = await connection.execute(text("SELECT user_id, spent_on, category_id, currency, amount FROM expense"))
        for user_id, spent_on, category_id, currency, amount in rows:
            if _uuid(user_id) not in users:
                continue
            key = (_uuid(user_id), _date(spent_on).replace(day=1), _uuid(category_id), currency)
            found[key][0] += _cents(amount)  # type: ignore[index]
            found[key][1] += 1  # type: ignore[index]
    return {key: (cents, count) for key, (cents, count) in found.items()}


async def stored(engine: AsyncEngine, users: list[uuid.UUID]) -> dict[Key, tuple[int, int]]:
    """The aggregate table, each key's stripes added up in Python; keys whose stripes cancel out are no expenses."""
    found: dict[Key, list[int]] = defaultdict(lambda: [0, 0])
    stripes: set[tuple[Key, int]] = set()
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT user_id, month, category_id, currency, stripe, total_cents, count FROM expense_month_total")
        )
        for user_id, month, category_id, currency, stripe, cents, count in rows:
            if _uuid(user_id) not in users:
                continue
            key = (_uuid(user_id), _date(month), _uuid(category_id), currency)
            assert (key, stripe) not in stripes, f"two aggregate rows for {key} stripe {stripe}"
            assert (cents, count) != (0, 0), f"an empty aggregate row was left for {key}"
            stripes.add((key, stripe))  # type: ignore[arg-type]
            found[key][0] += int(cents)  # type: ignore[index]
            found[key][1] += int(count)  # type: ignore[index]
    return {key: (cents, count) for key, (cents, count) in found.items() if (cents, count) != (0, 0)}


async def assert_consistent(engine: AsyncEngine, users: list[uuid.UUID]) -> None:
    expected = await truth(engine, users)
    assert expected, "the operations left no expenses: the comparison would prove nothing"
    assert await stored(engine, users) == expected


async def user_id(client: Client, user: Session) -> uuid.UUID:
    return uuid.UUID((await client.get("/api/me", headers=user.headers)).json()["id"])


def random_amount(rng: random.Random) -> str:
    # About one in ten is a refund (negative): the aggregates are signed sums and must net them out.
    cents = rng.choice([-1, 1, 1, 1, 1, 1, 1, 1, 1, 1]) * rng.randint(1, 200_000)
    return f"{cents / 100:.2f}"


def random_day(rng: random.Random) -> str:
    # Few months, many month edges: rows pile into shared aggregates and move across them.
    return (dt.date(2024, 1, 1) + dt.timedelta(days=rng.randint(0, 95))).isoformat()


class Scenario:
    """One user's random operations through the API, remembering ids to update and delete."""

    def __init__(self, client: Client, user: Session, rng: random.Random) -> None:
        self.client, self.user, self.rng = client, user, rng
        self.expenses: list[str] = []

    async def categories(self) -> list[dict[str, Any]]:
        response = await self.client.get("/api/categories", headers=self.user.headers)
        result: list[dict[str, Any]] = response.json()
        return result

    async def category_or_none(self) -> str | None:
        return self.rng.choice([*(c["id"] for c in await self.categories()), None])

    async def create(self) -> None:
        body = {
            "title": "random",
            "amount": random_amount(self.rng),
            "currency": self.rng.choice(["USD", "USD", "EUR"]),
            "category_id": await self.category_or_none(),
            "spent_on": random_day(self.rng),
        }
        response = await self.client.post("/api/expenses", json=body, headers=self.user.headers)
        assert response.status_code == 201, response.text
        self.expenses.append(response.json()["id"])

    async def update(self) -> None:
        if not self.expenses:
            return await self.create()
        field = self.rng.choice(["amount", "spent_on", "currency", "category_id", "title", "all"])
        values = {
            "amount": random_amount(self.rng),
            "spent_on": random_day(self.rng),
            "currency": self.rng.choice(["USD", "EUR", "GBP"]),
            "category_id": await self.category_or_none(),
            "title": "renamed",
        }
        body = values if field == "all" else {field: values[field]}
        expense = self.rng.choice(self.expenses)
        response = await self.client.patch(f"/api/expenses/{expense}", json=body, headers=self.user.headers)
        assert response.status_code == 200, response.text
        return None

    async def delete(self) -> None:
        if not self.expenses:
            return await self.create()
        expense = self.expenses.pop(self.rng.randrange(len(self.expenses)))
        response = await self.client.delete(f"/api/expenses/{expense}", headers=self.user.headers)
        assert response.status_code == 204, response.text
        return None

    async def import_csv(self) -> None:
        lines = ["title,amount,spent_on,currency,category"]
        for _ in range(self.rng.randint(1, 6)):
            category = self.rng.choice(["", "Food", "Imported", f"New {self.rng.randint(1, 3)}"])
            day, amount = random_day(self.rng), random_amount(self.rng)
            lines.append(f"imported,{amount},{day},{self.rng.choice(['USD', 'EUR'])},{category}")
        response = await self.client.post(
            "/api/expenses/import",
            files={"file": ("e.csv", "\n".join(lines).encode(), "text/csv")},
            headers=self.user.headers,
        )
        assert response.status_code == 201, response.text

    async def reassign(self) -> None:
        """Delete a category, moving its expenses (one bulk UPDATE) to another one."""
        categories = await self.categories()
        if len(categories) < 2:  # one to delete, one to receive
            created = await self.client.post(
                "/api/categories", json={"name": f"Extra {uuid.uuid4().hex[:6]}"}, headers=self.user.headers
            )
            assert created.status_code == 201, created.text
            categories = await self.categories()
        gone, target = self.rng.sample(categories, 2)
        response = await self.client.delete(
            f"/api/categories/{gone['id']}?reassign_to={target['id']}", headers=self.user.headers
        )
        assert response.status_code == 204, response.text

    async def step(self) -> str:
        operation = self.rng.choices(
            [self.create, self.update, self.delete, self.import_csv, self.reassign], weights=[5, 5, 2, 1, 1]
        )[0]
        await operation()
        return operation.__name__


@pytest.mark.parametrize("seed_value", [1, 2])
async def test_random_operations_keep_the_aggregates_exact(
    client: Client, engine: AsyncEngine, seed_value: int
) -> None:
    rng = random.Random(seed_value)
    scenarios = [Scenario(client, await sign_in(client), rng) for _ in range(2)]
    users = [await user_id(client, s.user) for s in scenarios]
    done: set[str] = set()
    for index in range(1, 81):
        done.add(await rng.choice(scenarios).step())
        if index % 20 == 0:  # also in between: a transient error could cancel out by the end
            await assert_consistent(engine, users)
    assert done == {"create", "update", "delete", "import_csv", "reassign"}


async def test_deleting_a_user_removes_exactly_their_aggregates(
    client: Client, engine: AsyncEngine, backend: str
) -> None:
    rng = random.Random(3)
    scenarios = [Scenario(client, await sign_in(client), rng) for _ in range(2)]
    for scenario in scenarios:
        for _ in range(6):
            await scenario.create()
    gone, kept = [await user_id(client, s.user) for s in scenarios]
    async with engine.begin() as connection:
        if backend == "sqlite":
            await connection.execute(text("PRAGMA foreign_keys=ON"))  # as the app sets it: cascades need it
        await connection.execute(text("DELETE FROM user_account WHERE id = :id"), {"id": _raw_id(gone, backend)})
    assert await stored(engine, [gone]) == {}
    await assert_consistent(engine, [kept])


def _raw_id(value: uuid.UUID, backend: str) -> Any:
    return value.bytes if backend == "sqlite" else value


async def test_aggregate_count_equals_counting_the_rows(client: Client, engine: AsyncEngine) -> None:
    user = await sign_in(client)
    rng = random.Random(4)
    scenario = Scenario(client, user, rng)
    categories = [c["id"] for c in await scenario.categories()]
    # Days at both ends and in the middle of months, so both ways of computing a partial month are exercised.
    days = [dt.date(2024, m, d) for m in (1, 2, 3, 4) for d in (1, 2, 14, 15, 16, 27, 28)] + [dt.date(2024, 2, 29)]
    # And the calendar's first and last months, which have no month before / after them to bound a range by.
    days += [dt.date(1, 1, 1), dt.date(1, 1, 20), dt.date(9999, 12, 2), dt.date(9999, 12, 31)]
    # And around today, where month-to-date subtracts the days after today (normally empty) from the month.
    today = dt.datetime.now(dt.UTC).date()
    days += [today - dt.timedelta(days=1), today, today + dt.timedelta(days=1), today + dt.timedelta(days=3)]
    for day in days:
        for _ in range(rng.randint(0, 3)):
            body = {
                "title": "t",
                "amount": random_amount(rng),
                "spent_on": day.isoformat(),
                "currency": rng.choice(["USD", "EUR"]),
                "category_id": rng.choice([*categories, None]),
            }
            assert (await client.post("/api/expenses", json=body, headers=user.headers)).status_code == 201
    uid = await user_id(client, user)
    bounds = [None, *days, dt.date(2023, 12, 31), dt.date(2024, 2, 29), dt.date(2024, 5, 1), dt.date(9999, 12, 20)]
    async with AsyncSession(engine) as session:
        for _ in range(300):
            date_from, date_to = rng.choice(bounds), rng.choice(bounds)
            category = rng.choice([None, *categories])
            filters = ExpenseFilters(
                date_from=date_from, date_to=date_to, category_id=uuid.UUID(category) if category else None
            )
            where = [Expense.user_id == uid]
            if date_from:
                where.append(Expense.spent_on >= date_from)
            if date_to:
                where.append(Expense.spent_on <= date_to)
            if category:
                where.append(Expense.category_id == uuid.UUID(category))
            expected_count = await session.scalar(select(func.count()).select_from(Expense).where(*where))
            amounts = (await session.scalars(select(Expense.amount).where(*where))).all()
            assert await aggregate_count(session, uid, filters) == expected_count, filters
            totals = await period_totals(session, uid, date_from, date_to, category_id=filters.category_id)
            assert sum(t.cents for t in totals.values()) == sum(_cents(a) for a in amounts), filters
        # Text and amount filters are not answered from the aggregates.
        assert await aggregate_count(session, uid, ExpenseFilters(q="t")) is None
        assert await aggregate_count(session, uid, ExpenseFilters(min_amount=Decimal(1))) is None
        assert await aggregate_count(session, uid, ExpenseFilters(max_amount=Decimal(1))) is None


def aggregates_cli(database_url: str, action: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "APP_ENV": "development"}
    return subprocess.run(
        [sys.executable, "-m", "expense_tracker", "aggregates", action],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_verify_reports_a_corrupt_row_and_rebuild_repairs_it(
    client: Client, engine: AsyncEngine, database_url: str, backend: str
) -> None:
    user = await sign_in(client)
    for amount, day in (("10.00", "2024-03-05"), ("2.50", "2024-03-20"), ("7.25", "2024-04-01")):
        body = {"title": "t", "amount": amount, "spent_on": day, "currency": "USD"}
        assert (await client.post("/api/expenses", json=body, headers=user.headers)).status_code == 201
    uid = await user_id(client, user)
    clean = aggregates_cli(database_url, "verify")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "match" in clean.stdout

    raw = {"user": _raw_id(uid, backend)}
    async with engine.begin() as connection:  # planted: one sum off by a cent, one month lost
        await connection.execute(
            text(
                "UPDATE expense_month_total SET total_cents = total_cents + 1 WHERE id = "
                "(SELECT min(id) FROM expense_month_total WHERE user_id = :user AND month = '2024-03-01')"
            ),
            raw,
        )
        await connection.execute(
            text("DELETE FROM expense_month_total WHERE user_id = :user AND month = '2024-04-01'"), raw
        )
    corrupt = aggregates_cli(database_url, "verify")
    assert corrupt.returncode == 1, corrupt.stdout + corrupt.stderr
    assert (
        f"user {uid} 2024-03 category - USD: expected 2 expense(s) totalling 1250 cents, "
        "found 2 expense(s) totalling 1251 cents" in corrupt.stdout
    )
    assert f"user {uid} 2024-04 category - USD: expected 1 expense(s) totalling 725 cents, found no row" in (
        corrupt.stdout
    )
    assert "2 aggregate row(s) differ" in corrupt.stderr

    rebuilt = aggregates_cli(database_url, "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert aggregates_cli(database_url, "verify").returncode == 0
    await assert_consistent(engine, [uid])


async def test_reports_read_a_few_rows_through_indexes(client: Client, database_url: str, backend: str) -> None:
    """Reports run a fixed, small number of statements; on PostgreSQL each can be planned without a sequential scan
    of ``expense`` or of the aggregates (seq scans disabled: an index plan must exist, whatever the table sizes)."""
    if backend != "postgresql":
        pytest.skip("EXPLAIN plans are PostgreSQL's")
    user = await sign_in(client)
    assert (await client.post("/api/expenses", json={"title": "t", "amount": "1"}, headers=user.headers)).is_success
    uid = await user_id(client, user)
    engine = create_async_engine(database_url)
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if not statement.startswith("EXPLAIN"):
            captured.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    today = dt.date(2024, 6, 20)
    calls = {
        "summary (month to date)": (lambda r: r.summary(uid, today.replace(day=1), today), 2),
        "summary (partial months)": (lambda r: r.summary(uid, dt.date(2024, 1, 10), today), 2),
        "by_category": (lambda r: r.by_category(uid, dt.date(2024, 1, 10), today, "USD"), 3),
        "monthly": (lambda r: r.monthly(uid, today, 12, "USD"), 1),
        "budget": (lambda r: r.budget(uid, today.replace(day=1), "USD"), 2),  # + the exchange rates
    }
    try:
        async with AsyncSession(engine) as session:
            await session.execute(text("SET enable_seqscan = off"))
            for name, (call, most) in calls.items():
                captured.clear()
                await call(ReportService(session=session))
                statements = list(captured)
                assert 1 <= len(statements) <= most, (name, [s for s, _ in statements])
                for statement, parameters in statements:
                    connection = await session.connection()
                    plan = (await connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)).scalars().all()
                    assert not any("Seq Scan" in line for line in plan), (name, "\n".join(plan))
    finally:
        await engine.dispose()


def run_migration(database_url: str, *args: str) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "APP_ENV": "development"}
    done = subprocess.run(
        [sys.executable, "-m", "expense_tracker", "database", *args, "--no-prompt"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


async def test_the_migration_backfills_existing_expenses(
    client: Client, engine: AsyncEngine, database_url: str
) -> None:
    scenario = Scenario(client, await sign_in(client), random.Random(5))
    for _ in range(12):
        await scenario.create()
    uid = await user_id(client, scenario.user)
    # Back to before the aggregates existed (the expenses stay), then forward: 0004 must fill the table from them.
    run_migration(database_url, "downgrade", "0003")
    async with engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    assert "expense_month_total" not in tables
    run_migration(database_url, "upgrade")
    await assert_consistent(engine, [uid])


async def test_writers_on_many_connections_share_a_key_exactly(
    client: Client, engine: AsyncEngine, backend: str
) -> None:
    """Each PostgreSQL connection adds to its own stripe of a key; the stripes must still add up to the rows, and
    a key whose expenses are all gone must leave no rows behind (stripes holding +x and -x are removed with it)."""
    if backend != "postgresql":
        pytest.skip("SQLite has a single writer and a single stripe")
    user = await sign_in(client)
    uid = await user_id(client, user)
    category = uuid.UUID((await Scenario(client, user, random.Random(0)).categories())[0]["id"])
    rng = random.Random(6)
    connections = [await engine.connect() for _ in range(6)]
    try:
        pids = {await c.scalar(text("SELECT pg_backend_pid() % 8")) for c in connections}
        assert len(pids) > 1, "all connections landed on one stripe: nothing would be tested"
        ids: list[uuid.UUID] = []

        async def write(connection: Any, statement: Any) -> None:
            await connection.execute(statement)
            await connection.commit()

        for _ in range(60):
            connection = rng.choice(connections)
            choice = rng.random()
            if choice < 0.5 or not ids:
                new_id = uuid.uuid4()
                ids.append(new_id)
                values = {
                    "id": new_id,
                    "user_id": uid,
                    "category_id": rng.choice([category, None]),
                    "title": "striped",
                    "amount": Decimal(rng.randint(1, 100_000)).scaleb(-2),
                    "currency": "USD",
                    "spent_on": rng.choice([dt.date(2024, 5, 3), dt.date(2024, 5, 20), dt.date(2024, 6, 1)]),
                }
                await write(connection, Expense.__table__.insert().values(**values))
            elif choice < 0.75:
                target = rng.choice(ids)
                change = rng.choice(
                    [
                        {"amount": Decimal(rng.randint(1, 100_000)).scaleb(-2)},
                        {"spent_on": dt.date(2024, 6, 2)},
                        {"category_id": rng.choice([category, None])},
                    ]
                )
                await write(connection, Expense.__table__.update().where(Expense.id == target).values(**change))
            else:
                target = ids.pop(rng.randrange(len(ids)))
                await write(connection, Expense.__table__.delete().where(Expense.id == target))
        await assert_consistent(engine, [uid])
        # Every remaining expense deleted, each from a random connection: nothing may be left for this user.
        for target in ids:
            await write(rng.choice(connections), Expense.__table__.delete().where(Expense.id == target))
        assert await stored(engine, [uid]) == {}
        async with engine.connect() as check:
            left = await check.scalar(text("SELECT count(*) FROM expense_month_total WHERE user_id = :u"), {"u": uid})
        assert left == 0
    finally:
        for connection in connections:
            await connection.close()
