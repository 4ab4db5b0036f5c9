"""Bulk data for the benchmark: a fresh PostgreSQL database, the app's migrations, then users, categories and expenses
loaded with ``COPY`` (asyncpg ``copy_records_to_table``, binary format).

Columns follow src/expense_tracker/db/models.py (ids are UUIDv7 like the app's ``UUIDv7AuditBase``; amounts are
``Numeric(12, 2)`` Decimals; categories belong to one user). Foreign-key triggers are off for the loading session
(``session_replication_role = replica``, superuser only): every reference is built from rows inserted just before, and
checking two million references one by one would be most of the seeding time. The same setting keeps the
``expense_month_total`` triggers from firing, so the aggregates are rebuilt afterwards with the operators' rebuild
statements (``expense_tracker.db.aggregates``), in one grouped pass.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import random
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import asyncpg
import uuid_utils

from expense_tracker.db.aggregates import rebuild_statements

ADMIN_URL = os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DATABASE = os.environ.get("BENCH_DATABASE", "expense_tracker_bench")
"""Dropped and re-created by every run; another name lets two runs share a server without dropping each other's."""
HISTORY_DAYS = 730  # two years
CHUNK = 100_000
CATEGORIES = (
    ("Groceries", "#2e7d32", Decimal("600.00")),
    ("Rent", "#6a1b9a", Decimal("1500.00")),
    ("Transport", "#1565c0", Decimal("150.00")),
    ("Restaurants", "#ef6c00", Decimal("300.00")),
    ("Utilities", "#00838f", None),
    ("Health", "#c62828", None),
    ("Entertainment", "#ad1457", Decimal("100.00")),
    ("Travel", "#4e342e", None),
)
TITLES = tuple(
    f"{word} {n}"
    for word in ("Coffee", "Lunch", "Bus ticket", "Supermarket", "Pharmacy", "Cinema", "Taxi", "Books", "Dinner")
    for n in range(1, 12)
)


@dataclass(frozen=True)
class Plan:
    """Who gets how many expenses. ``heavy`` users are the ones the benchmark signs in as."""

    users: int
    spread: int
    """Expenses shared by all users but the heavy ones."""
    heavy: tuple[int, ...]


# The 10,000-row user is the reference the list's flatness is compared against (budgets.LIST_FLATNESS).
FULL = Plan(users=1_000, spread=900_000, heavy=(10_000, 100_000, 1_000_000))
QUICK = Plan(users=10, spread=20_000, heavy=(10_000, 100_000))


@dataclass(frozen=True)
class Seeded:
    database_url: str
    heavy_users: dict[int, uuid.UUID]
    """Expense count -> user id."""
    sample_expense: dict[uuid.UUID, uuid.UUID]
    """User id -> one of that user's expenses (for get/update)."""
    sample_category: dict[uuid.UUID, uuid.UUID]
    ordinary_user: uuid.UUID
    """Not a heavy user: the CSV import's, so that the heavy users keep the history their rows are labelled with."""
    rows: int
    seconds: float
    postgres: str
    aggregate_seconds: float = 0.0
    """Part of ``seconds`` spent rebuilding ``expense_month_total`` after the load."""


def _uuid7() -> uuid.UUID:
    return uuid.UUID(bytes=uuid_utils.uuid7().bytes)


def database_url(admin_url: str = ADMIN_URL) -> str:
    base = admin_url.rsplit("/", 1)[0]
    return f"{base}/{DATABASE}"


async def recreate_database(admin_url: str) -> None:
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            DATABASE,
        )
        await connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE}"')
        await connection.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await connection.close()


def migrate(url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url.replace("postgresql://", "postgresql+asyncpg://", 1)}
    command = [sys.executable, "-m", "expense_tracker", "database", "upgrade", "--no-prompt"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603 - our own
    if done.returncode:
        raise SystemExit(f"migrations failed:\n{done.stdout}{done.stderr}")


def _expense_rows(
    rng: random.Random,
    user_id: uuid.UUID,
    categories: list[uuid.UUID],
    count: int,
    today: dt.date,
    now: dt.datetime,
    amounts: list[Decimal],
) -> Iterator[tuple[Any, ...]]:
    pick = [*categories, *categories, *categories, None]  # about one in 25 uncategorised
    for _ in range(count):
        spent_on = today - dt.timedelta(days=rng.randrange(HISTORY_DAYS))
        currency = "EUR" if rng.random() < 0.02 else "USD"
        yield (
            _uuid7(),
            user_id,
            rng.choice(pick),
            rng.choice(TITLES),
            rng.choice(amounts),
            currency,
            spent_on,
            "",
            now,
            now,
        )


async def seed(plan: Plan, admin_url: str = ADMIN_URL, *, seed_value: int = 13) -> Seeded:
    started = time.perf_counter()
    url = database_url(admin_url)
    await recreate_database(admin_url)
    migrate(url)
    rng = random.Random(seed_value)  # noqa: S311 - test data
    now = dt.datetime.now(dt.UTC)
    today = now.date()
    amounts = [Decimal(rng.randint(50, 25_000)).scaleb(-2) for _ in range(5_000)]

    users = [_uuid7() for _ in range(plan.users)]
    heavy = dict(zip(plan.heavy, users[: len(plan.heavy)], strict=True))
    categories = {user: [_uuid7() for _ in CATEGORIES] for user in users}
    counts = dict.fromkeys(users, 0)
    ordinary = users[len(plan.heavy) :]
    for index in range(plan.spread):
        counts[ordinary[index % len(ordinary)]] += 1
    for rows, user in heavy.items():
        counts[user] = rows

    connection = await asyncpg.connect(url)
    try:
        await connection.execute("SET session_replication_role = replica")
        await connection.copy_records_to_table(
            "user_account",
            columns=["id", "email", "name", "is_active", "currency", "theme", "timezone", "created_at", "updated_at"],
            records=[
                (user, f"bench-{i}@example.com", f"Bench {i}", True, "USD", "system", "UTC", now, now)
                for i, user in enumerate(users)
            ],
        )
        await connection.copy_records_to_table(
            "category",
            columns=["id", "user_id", "name", "color", "monthly_budget", "created_at", "updated_at"],
            records=[
                (cid, user, name, color, budget, now, now)
                for user, ids in categories.items()
                for cid, (name, color, budget) in zip(ids, CATEGORIES, strict=True)
            ],
        )
        columns = ["id", "user_id", "category_id", "title", "amount", "currency", "spent_on", "notes"]
        columns += ["created_at", "updated_at"]
        samples: dict[uuid.UUID, uuid.UUID] = {}
        buffer: list[tuple[Any, ...]] = []
        total = 0
        for user, count in counts.items():
            for row in _expense_rows(rng, user, categories[user], count, today, now, amounts):
                buffer.append(row)
                samples[user] = row[0]
                if len(buffer) >= CHUNK:
                    await connection.copy_records_to_table("expense", columns=columns, records=buffer)
                    total += len(buffer)
                    buffer = []
        if buffer:
            await connection.copy_records_to_table("expense", columns=columns, records=buffer)
            total += len(buffer)
        await connection.execute("RESET session_replication_role")
        aggregating = time.perf_counter()
        async with connection.transaction():
            for statement in rebuild_statements("postgresql"):
                await connection.execute(statement)
        aggregate_seconds = time.perf_counter() - aggregating
        await connection.execute("ANALYZE")
        postgres = await connection.fetchval("SHOW server_version")
    finally:
        await connection.close()
    return Seeded(
        database_url=url,
        heavy_users=heavy,
        sample_expense={user: samples[user] for user in heavy.values()},
        sample_category={user: categories[user][0] for user in heavy.values()},
        ordinary_user=ordinary[0],
        rows=total,
        seconds=time.perf_counter() - started,
        postgres=str(postgres),
        aggregate_seconds=aggregate_seconds,
    )


def main() -> None:
    plan = QUICK if "--quick" in sys.argv else FULL
    result = asyncio.run(seed(plan))
    print(
        f"seeded {result.rows:,} expenses for {plan.users:,} users in {result.seconds:.1f} s "
        f"(aggregates {result.aggregate_seconds:.1f} s; {result.database_url})"
    )


if __name__ == "__main__":
    main()
