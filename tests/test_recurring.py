"""Recurring expenses on PostgreSQL and SQLite: the API, the runner (catch-up, edits, pause, delete), job_run and the
job gauges. Dates are literals; ``now`` is passed to the runner, so nothing depends on the day the suite runs."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from expense_tracker.app import _sqlite_pragmas
from expense_tracker.domain.recurring import runner
from expense_tracker.lib.job_metrics import JobRunCollector
from tests.conftest import Session

Client = AsyncTestClient[Litestar]
D = dt.date


def at(day: str, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=dt.UTC)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database_url)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    yield engine
    await engine.dispose()


async def create(client: Client, user: Session, **body: Any) -> dict[str, Any]:
    body = {"title": "Rent", "amount": "950.00", "unit": "month", "start_on": "2026-01-31", **body}
    response = await client.post("/api/recurring", json=body, headers=user.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def expenses(client: Client, user: Session) -> list[tuple[str, str, str]]:
    response = await client.get("/api/expenses?sort=spent_on&limit=200", headers=user.headers)
    assert response.status_code == 200
    return [(e["spent_on"], e["title"], e["amount"]) for e in response.json()["items"]]


async def test_create_read_list_and_every_field(client: Client, user: Session) -> None:
    cats = {c["name"]: c["id"] for c in (await client.get("/api/categories", headers=user.headers)).json()}
    created = await create(
        client,
        user,
        title="  Gym  ",
        amount="29.90",
        currency="EUR",
        category_id=cats["Health"],
        tags=["sport", " Sport ", "monthly"],
        notes="contract 12 months",
        interval=1,
        day_of_month=31,
        start_on="2026-01-15",
        end_on="2026-12-31",
        max_count=12,
    )
    assert {k: v for k, v in created.items() if k not in ("id", "created_at", "updated_at")} == {
        "title": "Gym",
        "amount": "29.90",
        "currency": "EUR",
        "category_id": cats["Health"],
        "tags": ["sport", "monthly"],
        "notes": "contract 12 months",
        "unit": "month",
        "interval": 1,
        "day_of_month": 31,
        "start_on": "2026-01-15",
        "end_on": "2026-12-31",
        "max_count": 12,
        "paused": False,
        "created_count": 0,
        "done_through": None,
        "next_on": "2026-01-31",
    }
    got = await client.get(f"/api/recurring/{created['id']}", headers=user.headers)
    assert got.json() == created
    listed = await client.get("/api/recurring", headers=user.headers)
    assert [s["id"] for s in listed.json()] == [created["id"]]
    default = await create(client, user, title="Phone", amount="20")
    assert default["currency"] == "USD"  # the user's currency
    assert default["interval"] == 1
    assert default["tags"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"unit": "hour"}, "unit"),
        ({"interval": 0}, "interval"),
        ({"interval": 1001}, "interval"),
        ({"day_of_month": 32}, "day_of_month"),
        ({"day_of_month": 0}, "day_of_month"),
        ({"max_count": 0}, "max_count"),
        ({"amount": "12.345"}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"amount": 12}, "amount"),
        ({"currency": "JPY", "amount": "5.5"}, "amount"),
        ({"currency": "XTS"}, "currency"),
        ({"title": "  "}, "title"),
        ({"start_on": "2026-02-30"}, "start_on"),
        ({"start_on": "0999-01-01"}, "start_on"),
        ({"end_on": "2025-12-31"}, "end_on"),
        ({"tags": ["x" * 51]}, "tags"),
        ({"category_id": "0190a0a0-0000-7000-8000-000000000000"}, "category_id"),
        ({"surprise": 1}, "surprise"),
    ],
)
async def test_invalid_bodies_are_400_naming_the_field(
    client: Client, user: Session, body: dict[str, Any], field: str
) -> None:
    full = {"title": "Rent", "amount": "950.00", "unit": "month", "start_on": "2026-01-31", **body}
    response = await client.post("/api/recurring", json=full, headers=user.headers)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    fields = {e.get("field") for e in problem.get("errors", [])}
    assert field in fields or field in str(problem), problem
    assert (await client.get("/api/recurring", headers=user.headers)).json() == []


async def test_foreign_and_missing_schedules_are_404(client: Client, user: Session, other_user: Session) -> None:
    mine = await create(client, user)
    for method, suffix in [("GET", ""), ("PATCH", ""), ("DELETE", ""), ("POST", "/pause"), ("POST", "/resume")]:
        kwargs: dict[str, Any] = {"json": {"title": "x"}} if method == "PATCH" else {}
        response = await client.request(
            method, f"/api/recurring/{mine['id']}{suffix}", headers=other_user.headers, **kwargs
        )
        assert response.status_code == 404, (method, suffix, response.text)
    assert (await client.get("/api/recurring", headers=other_user.headers)).json() == []
    assert (await client.get(f"/api/recurring/{mine['id']}", headers=user.headers)).status_code == 200


async def test_runner_catches_up_with_end_of_month_clamping(client: Client, user: Session, engine: AsyncEngine) -> None:
    await create(client, user, start_on="2024-01-31")
    result = await runner.run_due(engine, at("2024-05-15"))
    assert result.created >= 4
    mine = [e for e in await expenses(client, user) if e[1] == "Rent"]
    assert mine == [
        ("2024-01-31", "Rent", "950.00"),
        ("2024-02-29", "Rent", "950.00"),
        ("2024-03-31", "Rent", "950.00"),
        ("2024-04-30", "Rent", "950.00"),
    ]
    # Running again (any time, any number of times) creates nothing more until the next date is due.
    await runner.run_due(engine, at("2024-05-30"))
    assert len([e for e in await expenses(client, user) if e[1] == "Rent"]) == 4
    await runner.run_due(engine, at("2024-05-31", 0))
    assert [e for e in await expenses(client, user) if e[1] == "Rent"][-1] == ("2024-05-31", "Rent", "950.00")


async def test_catch_up_is_bounded_per_run_and_continues(client: Client, user: Session, engine: AsyncEngine) -> None:
    schedule = await create(client, user, title="Coffee", amount="3.00", unit="day", start_on="2025-01-01")
    await runner.run_due(engine, at("2025-12-31"))  # 365 days due: 100 per run (RECURRING_CATCH_UP_MAX)
    got = (await client.get(f"/api/recurring/{schedule['id']}", headers=user.headers)).json()
    assert got["created_count"] == 100
    assert got["done_through"] == "2025-04-10"
    for _ in range(3):
        await runner.run_due(engine, at("2025-12-31"))
    got = (await client.get(f"/api/recurring/{schedule['id']}", headers=user.headers)).json()
    assert got["created_count"] == 365
    assert got["done_through"] == "2025-12-31"
    assert got["next_on"] == "2026-01-01"


async def test_max_count_and_end_date_stop_the_series(client: Client, user: Session, engine: AsyncEngine) -> None:
    counted = await create(client, user, title="Loan", unit="week", start_on="2026-03-02", max_count=3)
    ended = await create(client, user, title="Course", unit="week", start_on="2026-03-02", end_on="2026-03-10")
    await runner.run_due(engine, at("2026-06-01"))
    rows = await expenses(client, user)
    assert [d for d, t, _ in rows if t == "Loan"] == ["2026-03-02", "2026-03-09", "2026-03-16"]
    assert [d for d, t, _ in rows if t == "Course"] == ["2026-03-02", "2026-03-09"]
    for schedule in (counted, ended):
        got = (await client.get(f"/api/recurring/{schedule['id']}", headers=user.headers)).json()
        assert got["next_on"] is None


async def test_edit_applies_to_future_occurrences_only(client: Client, user: Session, engine: AsyncEngine) -> None:
    schedule = await create(client, user, title="Netflix", amount="12.99", start_on="2026-01-10")
    await runner.run_due(engine, at("2026-03-20"))
    edited = await client.patch(
        f"/api/recurring/{schedule['id']}",
        json={"amount": "15.49", "title": "Netflix HD", "day_of_month": 5, "start_on": "2025-01-01"},
        headers=user.headers,
    )
    assert edited.status_code == 200, edited.text
    # The new rule would have dates on the 5th of every month since 2025: none on or before 10 March is created.
    assert edited.json()["next_on"] == "2026-04-05"
    await runner.run_due(engine, at("2026-05-06"))
    rows = [e for e in await expenses(client, user) if e[1].startswith("Netflix")]
    assert rows == [
        ("2026-01-10", "Netflix", "12.99"),
        ("2026-02-10", "Netflix", "12.99"),
        ("2026-03-10", "Netflix", "12.99"),
        ("2026-04-05", "Netflix HD", "15.49"),
        ("2026-05-05", "Netflix HD", "15.49"),
    ]


async def test_pause_skips_and_resume_does_not_catch_up(client: Client, user: Session, engine: AsyncEngine) -> None:
    today = dt.datetime.now(dt.UTC).date()  # resume counts from the real today (the user's zone is UTC)
    start = today - dt.timedelta(days=3)
    schedule = await create(client, user, title="Paper", amount="1.00", unit="day", start_on=start.isoformat())
    paused = await client.post(f"/api/recurring/{schedule['id']}/pause", headers=user.headers)
    assert paused.status_code == 200
    assert paused.json()["paused"] is True
    assert paused.json()["next_on"] is None
    await runner.run_due(engine, dt.datetime.now(dt.UTC))
    assert [e for e in await expenses(client, user) if e[1] == "Paper"] == []
    upcoming = (await client.get("/api/recurring/upcoming?days=30", headers=user.headers)).json()
    assert upcoming == []
    resumed = await client.post(f"/api/recurring/{schedule['id']}/resume", headers=user.headers)
    assert resumed.json()["paused"] is False
    assert resumed.json()["next_on"] == today.isoformat()
    await runner.run_due(engine, dt.datetime.now(dt.UTC))
    assert [e[0] for e in await expenses(client, user) if e[1] == "Paper"] == [today.isoformat()]


async def test_delete_keeps_the_created_expenses(client: Client, user: Session, engine: AsyncEngine) -> None:
    schedule = await create(client, user, title="Insurance", amount="40.00", start_on="2026-01-01")
    await runner.run_due(engine, at("2026-02-15"))
    deleted = await client.delete(f"/api/recurring/{schedule['id']}", headers=user.headers)
    assert deleted.status_code == 204
    assert (await client.get(f"/api/recurring/{schedule['id']}", headers=user.headers)).status_code == 404
    assert [e for e in await expenses(client, user) if e[1] == "Insurance"] == [
        ("2026-01-01", "Insurance", "40.00"),
        ("2026-02-01", "Insurance", "40.00"),
    ]
    async with engine.connect() as connection:
        left = await connection.scalar(
            text("SELECT count(*) FROM recurring_occurrence WHERE schedule_id = :s"), {"s": schedule["id"]}
        )
    assert left == 0


async def test_deleting_a_created_expense_does_not_bring_it_back(
    client: Client, user: Session, engine: AsyncEngine
) -> None:
    await create(client, user, title="Water", amount="5.00", unit="week", start_on="2026-01-05")
    await runner.run_due(engine, at("2026-01-13"))
    items = (await client.get("/api/expenses?limit=200", headers=user.headers)).json()["items"]
    first = next(e for e in items if e["title"] == "Water" and e["spent_on"] == "2026-01-05")
    assert (await client.delete(f"/api/expenses/{first['id']}", headers=user.headers)).status_code == 204
    await runner.run_due(engine, at("2026-01-13"))
    assert [e[0] for e in await expenses(client, user) if e[1] == "Water"] == ["2026-01-12"]


async def test_upcoming_lists_the_next_dates_in_order(client: Client, user: Session) -> None:
    today = dt.datetime.now(dt.UTC).date()
    await create(client, user, title="B weekly", amount="2.00", unit="week", start_on=today.isoformat())
    await create(client, user, title="A daily", amount="1.00", unit="day", interval=10, start_on=today.isoformat())
    response = await client.get("/api/recurring/upcoming?days=14", headers=user.headers)
    assert response.status_code == 200
    got = [(o["occurs_on"], o["title"]) for o in response.json()]
    d = [(today + dt.timedelta(days=n)).isoformat() for n in (0, 7, 10, 14)]
    assert got == [(d[0], "A daily"), (d[0], "B weekly"), (d[1], "B weekly"), (d[2], "A daily"), (d[3], "B weekly")]
    for bad in ("0", "367", "x"):
        refused = await client.get(f"/api/recurring/upcoming?days={bad}", headers=user.headers)
        assert refused.status_code == 400, bad


async def test_a_deleted_category_leaves_the_schedule_uncategorised(client: Client, user: Session) -> None:
    created = await client.post("/api/categories", json={"name": "Streaming"}, headers=user.headers)
    schedule = await create(client, user, category_id=created.json()["id"])
    assert (await client.delete(f"/api/categories/{created.json()['id']}", headers=user.headers)).status_code == 204
    got = (await client.get(f"/api/recurring/{schedule['id']}", headers=user.headers)).json()
    assert got["category_id"] is None


async def test_openapi_documents_every_field(client: Client) -> None:
    schema = (await client.get("/api/openapi.json")).json()
    paths = schema["paths"]
    for path in ("/api/recurring", "/api/recurring/upcoming", "/api/recurring/{schedule_id}"):
        assert path in paths, path
    components = schema["components"]["schemas"]
    create_props = set(components["ScheduleCreate"]["properties"])
    assert create_props == {
        "title",
        "amount",
        "unit",
        "start_on",
        "interval",
        "day_of_month",
        "end_on",
        "max_count",
        "currency",
        "category_id",
        "tags",
        "notes",
    }
    assert {"created_count", "done_through", "next_on", "paused"} <= set(components["ScheduleRead"]["properties"])


async def test_job_run_is_recorded_and_a_failure_keeps_the_last_success(engine: AsyncEngine, database_url: str) -> None:
    name = f"test-{id(engine)}"
    collector = JobRunCollector(database_url, cache_seconds=0)
    await runner.record_job(engine, "running", at("2026-03-01", 10), name=name)
    await runner.record_job(engine, "success", at("2026-03-01", 11), name=name, created=3)
    states = {s.name: s for s in await asyncio.to_thread(collector.states)}
    assert states[name].failed is False
    assert states[name].last_success == at("2026-03-01", 11).timestamp()
    await runner.record_job(engine, "running", at("2026-03-01", 12), name=name)
    await runner.record_job(engine, "failed", at("2026-03-01", 13), name=name, error="boom")
    states = {s.name: s for s in await asyncio.to_thread(collector.states)}
    assert states[name].failed is True
    assert states[name].last_success == at("2026-03-01", 11).timestamp()  # still the last success
    families = {m.name: m for m in await asyncio.to_thread(lambda: list(collector.collect()))}
    failed = {s.labels["job"]: s.value for s in families["expense_tracker_job_last_run_failed"].samples}
    success = {s.labels["job"]: s.value for s in families["expense_tracker_job_last_success_timestamp_seconds"].samples}
    assert failed[name] == 1.0
    assert success[name] == 1772362800.0  # 2026-03-01T11:00:00Z
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                text("SELECT last_status, last_error, last_created FROM job_run WHERE name = :n"), {"n": name}
            )
        ).one()
    assert tuple(row) == ("failed", "boom", 0)


async def test_run_job_records_failure_and_raises(engine: AsyncEngine, database_url: str) -> None:
    async def broken(_: AsyncEngine, __: dt.datetime) -> None:
        raise OSError("disk full")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runner, "MAINTENANCE_HOOKS", (*runner.MAINTENANCE_HOOKS, broken))
        with pytest.raises(OSError, match="disk full"):
            await runner.run_job(engine)
    async with engine.connect() as connection:
        status, error = (
            await connection.execute(text("SELECT last_status, last_error FROM job_run WHERE name = 'recurring'"))
        ).one()
    assert status == "failed"
    assert error == "OSError: disk full"
    await runner.run_job(engine)
    async with engine.connect() as connection:
        status, success = (
            await connection.execute(text("SELECT last_status, last_success_at FROM job_run WHERE name = 'recurring'"))
        ).one()
    assert status == "success"
    assert success is not None


def test_collector_reads_the_database_at_most_once_per_cache_period() -> None:
    clock = [0.0]
    collector = JobRunCollector("sqlite+aiosqlite:///:memory:", cache_seconds=30, clock=lambda: clock[0])
    collector.states()  # the table does not exist there: a failed read, served as "no jobs"
    clock[0] = 29.0
    collector.states()
    assert collector.reads == 0
    assert collector._read_at == 0.0
    clock[0] = 30.0
    collector.states()
    assert collector._read_at == 30.0


async def test_upcoming_leaves_out_past_dates_not_created_yet(client: Client, other_user: Session) -> None:
    today = dt.datetime.now(dt.UTC).date()
    start = today - dt.timedelta(days=14)  # never run: 14 and 7 days ago are due, caught up, not upcoming
    await create(client, other_user, title="Old weekly", amount="2.00", unit="week", start_on=start.isoformat())
    response = await client.get("/api/recurring/upcoming?days=14", headers=other_user.headers)
    got = [o["occurs_on"] for o in response.json()]
    assert got == [(today + dt.timedelta(days=n)).isoformat() for n in (0, 7, 14)]


async def test_the_metrics_endpoint_registry_serves_the_job_gauges(
    engine: AsyncEngine, database_url: str, tmp_path: Any
) -> None:
    """What the ``run`` supervisor serves on the metrics port, in multiprocess mode and without it."""
    from prometheus_client import generate_latest

    from expense_tracker.lib.metrics_server import metrics_registry

    await runner.record_job(engine, "success", at("2026-03-01", 11), name="scraped")
    await runner.record_job(engine, "failed", at("2026-03-01", 12), name="scraped", error="boom")
    for directory in (tmp_path, None):
        registry = metrics_registry(directory, database_url)
        text_out = (await asyncio.to_thread(generate_latest, registry)).decode()
        assert 'expense_tracker_job_last_run_failed{job="scraped"} 1.0' in text_out
        assert 'expense_tracker_job_last_success_timestamp_seconds{job="scraped"} 1.7723628e+09' in text_out


def test_a_scrape_never_hangs_on_a_stuck_job_run_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """A read that does not come back (a hung connection) leaves the scrape with the cached values; one read at a
    time, and its result is served once it arrives."""
    import threading

    from expense_tracker.lib import job_metrics

    release = threading.Event()
    started: list[int] = []

    async def stuck(_: str) -> list[job_metrics.JobState]:
        started.append(1)
        await asyncio.to_thread(release.wait)  # a database that does not answer until released
        return [job_metrics.JobState(name="recurring", last_success=1.0, failed=False)]

    monkeypatch.setattr(job_metrics, "read_job_states", stuck)
    collector = JobRunCollector("postgresql+asyncpg://unused/db", cache_seconds=0, wait_seconds=0.05)
    assert collector.states() == []  # answered while the read is still stuck
    assert collector.states() == []  # a second scrape joins the same read instead of starting another
    assert started == [1]
    release.set()
    reading = collector._reading
    if reading is not None:
        reading.join()
    assert [s.name for s in collector.states()] == ["recurring"]
