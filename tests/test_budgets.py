"""Budgets over time (issue 15, item 5): history per month, rollover, the year view, on PostgreSQL and SQLite.

Every expected figure is a literal worked out by hand in the test's comments.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Litestar
from litestar.testing import AsyncTestClient

from expense_tracker.domain.budgets.deps import parse_budget_month
from expense_tracker.lib.timezones import today_in
from tests.conftest import Session, sign_in

Client = AsyncTestClient[Litestar]


async def _category(client: Client, user: Session, name: str, **extra: Any) -> str:
    response = await client.post("/api/categories", json={"name": name, **extra}, headers=user.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _spend(client: Client, user: Session, category_id: str | None, day: str, amount: str, currency: str = "USD"):
    body = {"title": "t", "amount": amount, "spent_on": day, "category_id": category_id, "currency": currency}
    response = await client.post("/api/expenses", json=body, headers=user.headers)
    assert response.status_code == 201, response.text


async def _set(client: Client, user: Session, category_id: str, month: str, **body: Any) -> Any:
    response = await client.put(f"/api/budgets/{category_id}/{month}", json=body, headers=user.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def _line(client: Client, user: Session, category_id: str, month: str) -> dict[str, Any]:
    response = await client.get(f"/api/budgets?month={month}", headers=user.headers)
    assert response.status_code == 200, response.text
    return next(line for line in response.json()["lines"] if line["category_id"] == category_id)


async def test_a_change_in_march_keeps_january_and_february(client: Client) -> None:
    user = await sign_in(client)
    food = await _category(client, user, "Groceries")
    await _set(client, user, food, "2025-01", amount="300.00")
    await _spend(client, user, food, "2025-01-10", "120.00")
    await _spend(client, user, food, "2025-02-28", "310.00")
    await _spend(client, user, food, "2025-03-01", "100.00")
    history = await _set(client, user, food, "2025-03", amount="450.00")
    assert history["entries"] == [
        {"month": "2025-01", "amount": "300.00", "currency": "USD", "rollover": False},
        {"month": "2025-03", "amount": "450.00", "currency": "USD", "rollover": False},
    ]
    figures = {m: await _line(client, user, food, m) for m in ("2024-12", "2025-01", "2025-02", "2025-03", "2025-04")}
    assert {m: (f["budget"], f["spent"], f["left"]) for m, f in figures.items()} == {
        "2024-12": (None, "0.00", None),
        "2025-01": ("300.00", "120.00", "180.00"),
        "2025-02": ("300.00", "310.00", "-10.00"),  # overspent, no rollover: nothing carried
        "2025-03": ("450.00", "100.00", "350.00"),
        "2025-04": ("450.00", "0.00", "450.00"),
    }
    assert figures["2025-02"]["budget_from"] == "2025-01"
    assert figures["2025-03"]["carried_in"] == "0.00"

    # "No budget from May": April keeps its budget.
    history = await _set(client, user, food, "2025-05", amount=None)
    assert [e["amount"] for e in history["entries"]] == ["300.00", "450.00", None]
    assert (await _line(client, user, food, "2025-04"))["budget"] == "450.00"
    assert (await _line(client, user, food, "2025-06"))["budget"] is None
    # Setting February to what January already has changes nothing: no row is added.
    history = await _set(client, user, food, "2025-02", amount="300.00")
    assert [e["month"] for e in history["entries"]] == ["2025-01", "2025-03", "2025-05"]
    listed = await client.get(f"/api/budgets/history/{food}", headers=user.headers)
    assert listed.json() == history


async def test_rollover_chain_over_three_months_with_an_overspend(client: Client) -> None:
    user = await sign_in(client)
    fun = await _category(client, user, "Fun")
    plain = await _category(client, user, "Plain")
    await _set(client, user, fun, "2025-01", amount="100.00", rollover=True)
    await _set(client, user, plain, "2025-01", amount="100.00")
    for category in (fun, plain):
        await _spend(client, user, category, "2025-01-31", "60.00")
        await _spend(client, user, category, "2025-02-01", "170.00")
        await _spend(client, user, category, "2025-03-15", "20.00")

    def summary(line: dict[str, Any]) -> tuple[Any, ...]:
        return line["carried_in"], line["available"], line["spent"], line["left"]

    # Jan: 100 - 60 = 40 left; Feb: 100 + 40 = 140 available, 170 spent -> -30; Mar: 100 - 30 = 70, 20 spent -> 50.
    assert summary(await _line(client, user, fun, "2025-01")) == ("0.00", "100.00", "60.00", "40.00")
    assert summary(await _line(client, user, fun, "2025-02")) == ("40.00", "140.00", "170.00", "-30.00")
    assert summary(await _line(client, user, fun, "2025-03")) == ("-30.00", "70.00", "20.00", "50.00")
    assert summary(await _line(client, user, fun, "2025-04")) == ("50.00", "150.00", "0.00", "150.00")
    # Without the flag every month starts from its budget.
    assert summary(await _line(client, user, plain, "2025-03")) == ("0.00", "100.00", "20.00", "80.00")

    # Turning rollover off from May ends the chain; turning it on again in July starts a new one from zero.
    await _set(client, user, fun, "2025-05", amount="100.00", rollover=False)
    await _set(client, user, fun, "2025-07", amount="100.00", rollover=True)
    assert summary(await _line(client, user, fun, "2025-05")) == ("0.00", "100.00", "0.00", "100.00")
    assert summary(await _line(client, user, fun, "2025-07")) == ("0.00", "100.00", "0.00", "100.00")
    assert summary(await _line(client, user, fun, "2025-08")) == ("100.00", "200.00", "0.00", "200.00")

    month = (await client.get("/api/budgets?month=2025-02", headers=user.headers)).json()
    # Totals of the budgeted categories: Fun 100 + 40 carried, Plain 100; 170 spent in each.
    assert month["totals"] == [
        {
            "currency": "USD",
            "budget": "200.00",
            "carried_in": "40.00",
            "available": "240.00",
            "spent": "340.00",
            "left": "-100.00",
        }
    ]


async def test_the_year_view_and_its_totals(client: Client) -> None:
    user = await sign_in(client)
    rent = await _category(client, user, "Rent")
    books = await _category(client, user, "Books")
    none = await _category(client, user, "Misc")
    await _set(client, user, rent, "2025-01", amount="100.00")
    await _set(client, user, books, "2025-07", amount="50.00")
    await _spend(client, user, rent, "2025-01-05", "30.00")
    await _spend(client, user, rent, "2025-06-30", "120.00")
    await _spend(client, user, books, "2025-07-01", "20.00")
    await _spend(client, user, books, "2025-12-31", "70.00")
    await _spend(client, user, none, "2025-03-03", "9.99")
    await _spend(client, user, rent, "2026-01-01", "500.00")  # next year: not in 2025
    response = await client.get("/api/budgets/year?year=2025", headers=user.headers)
    assert response.status_code == 200, response.text
    year = response.json()
    rows = {row["name"]: row for row in year["categories"]}
    names = [row["name"] for row in year["categories"]]
    assert [n for n in names if n in rows and n in {"Books", "Misc", "Rent"}] == ["Books", "Misc", "Rent"]
    assert rows["Rent"]["totals"] == [{"currency": "USD", "budget": "1200.00", "spent": "150.00", "left": "1050.00"}]
    assert rows["Books"]["totals"] == [{"currency": "USD", "budget": "300.00", "spent": "90.00", "left": "210.00"}]
    assert rows["Misc"]["totals"] == []  # no budget: spending shown per month, not in the budget totals
    assert rows["Misc"]["months"][2]["spent"] == "9.99"
    assert [c["budget"] for c in rows["Books"]["months"]] == [None] * 6 + ["50.00"] * 6
    assert [c["left"] for c in rows["Rent"]["months"]][:6] == [
        "70.00",
        "100.00",
        "100.00",
        "100.00",
        "100.00",
        "-20.00",
    ]
    (total,) = year["totals"]
    assert (total["currency"], total["budget"], total["spent"], total["left"]) == (
        "USD",
        "1500.00",
        "240.00",
        "1260.00",
    )
    july = total["months"][6]
    assert july == {"month": "2025-07", "budget": "150.00", "spent": "20.00", "left": "130.00"}
    assert total["months"][11] == {"month": "2025-12", "budget": "150.00", "spent": "70.00", "left": "80.00"}


async def test_leap_day_and_month_ends(client: Client) -> None:
    user = await sign_in(client)
    trips = await _category(client, user, "Trips")
    await _set(client, user, trips, "2024-02", amount="10.00", rollover=True)
    await _spend(client, user, trips, "2024-01-31", "1.00")
    await _spend(client, user, trips, "2024-02-29", "4.00")
    await _spend(client, user, trips, "2024-03-01", "8.00")
    # Feb: 10 - 4 = 6 left; Mar: 10 + 6 = 16, 8 spent -> 8. January had no budget: its 1.00 is January's alone.
    jan = await _line(client, user, trips, "2024-01")
    assert (jan["budget"], jan["spent"]) == (None, "1.00")
    feb = await _line(client, user, trips, "2024-02")
    assert (feb["carried_in"], feb["spent"], feb["left"]) == ("0.00", "4.00", "6.00")
    mar = await _line(client, user, trips, "2024-03")
    assert (mar["carried_in"], mar["spent"], mar["left"]) == ("6.00", "8.00", "8.00")
    year = (await client.get("/api/budgets/year?year=2024", headers=user.headers)).json()
    months = next(row for row in year["categories"] if row["name"] == "Trips")["months"]
    assert [m["spent"] for m in months[:3]] == ["1.00", "4.00", "8.00"]


def test_the_default_month_is_the_users_month() -> None:
    # 31 January 23:30 UTC is already 1 February in Tokyo and still 31 January in Los Angeles; 29 Feb 2024 exists.
    moment = dt.datetime(2025, 1, 31, 23, 30, tzinfo=dt.UTC)
    assert parse_budget_month(None, today_in("Asia/Tokyo", moment)) == dt.date(2025, 2, 1)
    assert parse_budget_month("", today_in("America/Los_Angeles", moment)) == dt.date(2025, 1, 1)
    leap = dt.datetime(2024, 2, 29, 23, 0, tzinfo=dt.UTC)
    assert parse_budget_month(None, today_in("UTC", leap)) == dt.date(2024, 2, 1)
    assert parse_budget_month(None, today_in("Pacific/Kiritimati", leap)) == dt.date(2024, 3, 1)


async def test_a_category_budget_applies_from_a_month_and_mirrors_the_current_one(client: Client) -> None:
    user = await sign_in(client)
    settings = {"currency": "USD", "theme": "system", "timezone": "Pacific/Kiritimati"}
    assert (await client.put("/api/settings", json=settings, headers=user.headers)).status_code == 200
    today = dt.datetime.now(ZoneInfo("Pacific/Kiritimati")).date()
    this_month = f"{today:%Y-%m}"
    created = await client.post(
        "/api/categories", json={"name": "Pets", "monthly_budget": "80.00"}, headers=user.headers
    )
    pets = created.json()["id"]
    history = (await client.get(f"/api/budgets/history/{pets}", headers=user.headers)).json()
    assert history["entries"] == [{"month": this_month, "amount": "80.00", "currency": "USD", "rollover": False}]
    # A change from a later month leaves this month's budget (and the category's mirror of it) alone.
    patched = await client.patch(
        f"/api/categories/{pets}", json={"monthly_budget": "95.00", "budget_from": "2090-01"}, headers=user.headers
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["monthly_budget"] == "80.00"
    assert (await _line(client, user, pets, "2090-02"))["budget"] == "95.00"
    assert (await _line(client, user, pets, this_month))["budget"] == "80.00"
    # Rollover alone keeps the amount; a change from an earlier month is what the past months get.
    patched = await client.patch(
        f"/api/categories/{pets}", json={"rollover": True, "budget_from": "2020-01"}, headers=user.headers
    )
    assert patched.status_code == 200, patched.text
    line = await _line(client, user, pets, "2020-01")
    assert line["budget"] is None  # nothing was in force in 2020: rollover alone sets no budget
    patched = await client.patch(
        f"/api/categories/{pets}", json={"monthly_budget": "50.00", "budget_from": "2020-01"}, headers=user.headers
    )
    assert patched.json()["monthly_budget"] == "80.00"  # this month still has its own row
    assert (await _line(client, user, pets, "2021-06"))["budget"] == "50.00"
    # Removing the budget from this month on: the category no longer shows one, the past keeps 50.
    patched = await client.patch(f"/api/categories/{pets}", json={"monthly_budget": None}, headers=user.headers)
    assert (patched.json()["monthly_budget"], patched.json()["budget_currency"]) == (None, None)
    assert (await _line(client, user, pets, "2021-06"))["budget"] == "50.00"
    assert (await _line(client, user, pets, "2090-02"))["budget"] == "95.00"


async def test_other_currencies_are_converted_or_listed(client: Client) -> None:
    user = await sign_in(client)
    travel = await _category(client, user, "Travel")
    rate = {"currency": "EUR", "valid_from": "2025-01-01", "rate": "1.10"}  # 1 EUR = 1.10 USD
    assert (await client.post("/api/rates", json=rate, headers=user.headers)).status_code == 201
    await _set(client, user, travel, "2025-01", amount="100.00", currency="EUR", rollover=True)
    await _spend(client, user, travel, "2025-01-03", "22.00", "USD")  # 20.00 EUR
    await _spend(client, user, travel, "2025-01-04", "10.00", "EUR")
    await _spend(client, user, travel, "2025-01-05", "5.00", "GBP")  # no GBP rate: listed, not dropped
    line = await _line(client, user, travel, "2025-01")
    assert (line["currency"], line["budget"], line["spent"], line["left"]) == ("EUR", "100.00", "30.00", "70.00")
    assert line["not_converted"] == [{"currency": "GBP", "total": "5.00", "count": 1}]
    feb = await _line(client, user, travel, "2025-02")
    assert (feb["carried_in"], feb["available"]) == ("70.00", "170.00")
    # A change of currency starts the chain again: 70 EUR left are no USD budget.
    await _set(client, user, travel, "2025-03", amount="100.00", currency="USD", rollover=True)
    mar = await _line(client, user, travel, "2025-03")
    assert (mar["currency"], mar["carried_in"]) == ("USD", "0.00")


async def test_bad_input_is_refused(client: Client, other_user: Session) -> None:
    user = await sign_in(client)
    food = await _category(client, user, "Groceries")
    cases = [
        ("2025-13", {"amount": "10.00"}, "month"),
        ("1899-12", {"amount": "10.00"}, "month"),
        ("2025-01", {"amount": "-5.00"}, "amount"),
        ("2025-01", {"amount": "0"}, "amount"),
        ("2025-01", {"amount": "12.345"}, "amount"),
        ("2025-01", {"amount": "1500.50", "currency": "JPY"}, "amount"),
        ("2025-01", {"amount": "10.00", "currency": "EURO"}, "currency"),
        ("2025-01", {"amount": "10.00", "colour": "red"}, "colour"),
        ("2025-01", {"currency": "USD"}, "amount"),
    ]
    for month, body, field in cases:
        response = await client.put(f"/api/budgets/{food}/{month}", json=body, headers=user.headers)
        assert response.status_code == 400, (month, body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert field in response.text, (body, response.text)
    history = (await client.get(f"/api/budgets/history/{food}", headers=user.headers)).json()
    assert history["entries"] == []
    # Another user's category is missing, not forbidden.
    response = await client.put(f"/api/budgets/{food}/2025-01", json={"amount": "1.00"}, headers=other_user.headers)
    assert response.status_code == 404
    assert (await client.get(f"/api/budgets/history/{food}", headers=other_user.headers)).status_code == 404
    assert all(
        line["category_id"] != food
        for line in (await client.get("/api/budgets", headers=other_user.headers)).json()["lines"]
    )
    for query in ("month=2025-1", "month=abc"):
        assert (await client.get(f"/api/budgets?{query}", headers=user.headers)).status_code == 400
    for query in ("year=20x5", "year=10000", "year=1899"):
        assert (await client.get(f"/api/budgets/year?{query}", headers=user.headers)).status_code == 400
    bad = await client.patch(
        f"/api/categories/{food}", json={"monthly_budget": "5.00", "budget_from": "2025-00"}, headers=user.headers
    )
    assert bad.status_code == 400
    assert "budget_from" in bad.text


async def test_the_schema_documents_the_budget_fields(client: Client) -> None:
    schema = (await client.get("/api/openapi.json")).json()
    paths = schema["paths"]
    assert {
        "/api/budgets",
        "/api/budgets/{category_id}/{month}",
        "/api/budgets/history/{category_id}",
        "/api/budgets/year",
    } <= set(paths)
    line = schema["components"]["schemas"]["CategoryBudget"]["properties"]
    assert {"budget", "carried_in", "available", "spent", "left", "rollover", "not_converted"} <= set(line)
    update = schema["components"]["schemas"]["CategoryUpdate"]["properties"]
    assert {"budget_from", "rollover"} <= set(update)


async def test_the_maintenance_hook_moves_the_category_mirror_to_the_new_month(
    client: Client, database_url: str
) -> None:
    """A change set for a later month reaches ``category.monthly_budget`` (read by older versions) when that month
    comes: ``BudgetService.refresh_categories``, run by the scheduled job."""
    import uuid

    from sqlalchemy import select
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    from expense_tracker.db.models import Category
    from expense_tracker.domain.budgets.services import BudgetService
    from expense_tracker.domain.recurring import runner

    user = await sign_in(client)
    yachts = await _category(client, user, "Yachts")
    await _set(client, user, yachts, "2090-01", amount="60.00")
    assert (await client.get(f"/api/categories/{yachts}", headers=user.headers)).json()["monthly_budget"] is None
    engine = create_async_engine(database_url)
    try:
        async with AsyncSession(engine) as session:
            service = BudgetService(session=session)
            mirror = select(Category.monthly_budget).where(Category.id == uuid.UUID(yachts))
            # 31 Dec 2089 23:30 UTC: still 2089 in UTC (this user's zone), so nothing changes yet.
            await service.refresh_categories(dt.datetime(2089, 12, 31, 23, 30, tzinfo=dt.UTC))
            assert await session.scalar(mirror) is None
        # The scheduled job (``expense-tracker recurring run``) runs the refresh among its maintenance hooks.
        await runner.run_job(engine, now=lambda: dt.datetime(2090, 1, 1, 0, 30, tzinfo=dt.UTC))
    finally:
        await engine.dispose()
    category = (await client.get(f"/api/categories/{yachts}", headers=user.headers)).json()
    assert (category["monthly_budget"], category["budget_currency"]) == ("60.00", "USD")
