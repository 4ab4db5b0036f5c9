"""Two recurring runs at once on PostgreSQL create every occurrence exactly once: two engines in one event loop, and
two OS processes of ``python -m expense_tracker recurring run``. The database's primary key decides, not the runner."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from expense_tracker.db.models import Expense, RecurringOccurrence, RecurringSchedule, User
from expense_tracker.domain.recurring import runner

SCHEDULES = 12
DAYS = 30


@pytest.fixture(scope="module")
async def pg_url(database_factory: Any) -> str:
    url: str = await database_factory("postgresql")
    return url


@pytest.fixture
async def engines(pg_url: str) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    first, second = create_async_engine(pg_url), create_async_engine(pg_url)
    yield first, second
    await first.dispose()
    await second.dispose()


async def seed(engine: AsyncEngine, start: dt.date, schedules: int = SCHEDULES) -> uuid.UUID:
    """A user with ``schedules`` daily schedules from ``start``: ``DAYS`` occurrences each are due on start + 29."""
    async with engine.begin() as connection:
        user_id = uuid.uuid4()
        now = dt.datetime.now(dt.UTC)
        await connection.execute(
            User.__table__.insert().values(
                id=user_id, email=f"{user_id}@example.com", name="Racer", created_at=now, updated_at=now
            )
        )
        await connection.execute(
            RecurringSchedule.__table__.insert(),
            [
                {
                    "id": uuid.uuid4(),
                    "user_id": user_id,
                    "title": f"Daily {n}",
                    "amount": Decimal("1.25"),
                    "currency": "USD",
                    "tag_names": [],
                    "unit": "day",
                    "interval": 1,
                    "start_on": start,
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(schedules)
            ],
        )
    return user_id


async def assert_each_once(engine: AsyncEngine, user_id: uuid.UUID, schedules: int = SCHEDULES) -> None:
    async with engine.connect() as connection:
        expense_count = await connection.scalar(select(func.count()).where(Expense.user_id == user_id))
        occurrences = (
            await connection.execute(
                select(RecurringOccurrence.schedule_id, RecurringOccurrence.occurs_on, RecurringOccurrence.expense_id)
                .join(RecurringSchedule, RecurringSchedule.id == RecurringOccurrence.schedule_id)
                .where(RecurringSchedule.user_id == user_id)
            )
        ).all()
        per_day = (
            await connection.execute(
                select(Expense.title, Expense.spent_on, func.count())
                .where(Expense.user_id == user_id)
                .group_by(Expense.title, Expense.spent_on)
                .having(func.count() > 1)
            )
        ).all()
        counts = set(
            await connection.scalars(
                select(RecurringSchedule.created_count).where(RecurringSchedule.user_id == user_id)
            )
        )
    assert expense_count == schedules * DAYS
    assert len(occurrences) == schedules * DAYS
    assert len({o.expense_id for o in occurrences}) == schedules * DAYS  # each its own expense, none NULL
    assert None not in {o.expense_id for o in occurrences}
    assert per_day == []  # no title has two expenses on one date
    assert counts == {DAYS}


async def test_two_engines_at_once_create_each_occurrence_once(engines: tuple[AsyncEngine, AsyncEngine]) -> None:
    first, second = engines
    start = dt.date(2026, 1, 1)
    user_id = await seed(first, start)
    now = dt.datetime(2026, 1, 30, 12, tzinfo=dt.UTC)
    results = await asyncio.gather(runner.run_due(first, now), runner.run_due(second, now))
    assert sum(r.created for r in results) >= SCHEDULES * DAYS  # other tests' users may add to the sum
    assert all(r.failed == [] for r in results)
    await assert_each_once(first, user_id)
    # A third run (later the same day) finds nothing to do.
    again = await runner.run_due(first, now)
    assert again.created == 0
    await assert_each_once(first, user_id)


async def test_two_processes_at_once_create_each_occurrence_once(
    engines: tuple[AsyncEngine, AsyncEngine], pg_url: str
) -> None:
    first, _ = engines
    today = dt.datetime.now(dt.UTC).date()  # the CLI runs at the real time; the user's zone is UTC
    # Fewer rows than above: each process also starts the CLI (seconds on a busy machine), and they must overlap.
    user_id = await seed(first, today - dt.timedelta(days=DAYS - 1), schedules=4)
    env = {**os.environ, "DATABASE_URL": pg_url, "APP_ENV": "development"}
    command = [sys.executable, "-m", "expense_tracker", "recurring", "run"]

    async def run() -> tuple[int, bytes]:
        process = await asyncio.create_subprocess_exec(
            *command, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        output, _ = await asyncio.wait_for(process.communicate(), timeout=120)
        return process.returncode or 0, output

    outcomes = await asyncio.gather(run(), run())
    for code, output in outcomes:
        assert code == 0, output.decode()
        assert b"created" in output
    await assert_each_once(first, user_id, schedules=4)


def test_the_command_exits_non_zero_when_the_database_is_unreachable(tmp_path: Any) -> None:
    env = {**os.environ, "DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:9/none", "APP_ENV": "development"}
    done = subprocess.run(
        [sys.executable, "-m", "expense_tracker", "recurring", "run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert "recurring run failed" in done.stderr


def test_the_served_metrics_port_reports_the_recurring_job(pg_url: str, tmp_path: Any) -> None:
    """End to end: ``recurring run`` writes job_run, the ``run`` supervisor's metrics port shows it (multiprocess)."""
    import httpx

    from tests.servers import free_port, serve

    env = {**os.environ, "DATABASE_URL": pg_url, "APP_ENV": "development"}
    done = subprocess.run(
        [sys.executable, "-m", "expense_tracker", "recurring", "run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    metrics_port = free_port()
    process, _ = serve(
        pg_url,
        tmp_path / "server.log",
        *("--metrics-port", str(metrics_port)),
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
    )
    try:
        text = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=30).text
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    assert 'expense_tracker_job_last_run_failed{job="recurring"} 0.0' in text
    success = re.search(r'^expense_tracker_job_last_success_timestamp_seconds\{job="recurring"\} (\S+)$', text, re.M)
    assert success is not None
    assert abs(float(success.group(1)) - dt.datetime.now(dt.UTC).timestamp()) < 600
