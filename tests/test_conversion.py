"""Converted totals: Decimal maths against literal expected values, rate choice by date, rates changing inside a
period, missing rates listed (never dropped), budgets in their own currency. API on PostgreSQL and SQLite.

The expected figures are worked out by hand in the comments, not by the code under test.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from expense_tracker.domain.rates.conversion import Conversion, Rate, RateTable
from expense_tracker.lib.timezones import month_start
from tests.conftest import Session

Client = AsyncTestClient[Litestar]

# A month in the past, so whole months come from the aggregates and the rows are all "history".
M = month_start(dt.datetime.now(dt.UTC).date(), 3)


def day(n: int, month: dt.date = M) -> str:
    return (month + dt.timedelta(days=n - 1)).isoformat()


# --- pure maths ----------------------------------------------------------------------------------------------------


def test_rate_choice_by_date_day_before_at_and_after_valid_from() -> None:
    table = RateTable(
        "USD", [Rate("EUR", dt.date(2026, 3, 1), Decimal("1.1")), Rate("EUR", dt.date(2026, 3, 15), Decimal("1.2"))]
    )
    assert table.rate_on("EUR", dt.date(2026, 2, 28)) is None
    assert table.rate_on("EUR", dt.date(2026, 3, 1)).rate == Decimal("1.1")  # type: ignore[union-attr]
    assert table.rate_on("EUR", dt.date(2026, 3, 14)).rate == Decimal("1.1")  # type: ignore[union-attr]
    assert table.rate_on("EUR", dt.date(2026, 3, 15)).rate == Decimal("1.2")  # type: ignore[union-attr]
    assert table.rate_on("EUR", dt.date(2026, 3, 16)).rate == Decimal("1.2")  # type: ignore[union-attr]
    assert table.segments("EUR", "USD", dt.date(2026, 2, 1), dt.date(2026, 3, 31)) == [
        (dt.date(2026, 2, 1), dt.date(2026, 2, 28)),
        (dt.date(2026, 3, 1), dt.date(2026, 3, 14)),
        (dt.date(2026, 3, 15), dt.date(2026, 3, 31)),
    ]
    # Into another currency than the base: through the base (1 EUR = 1.1 USD, 1 GBP = 1.25 USD -> 1 EUR = 0.88 GBP).
    table = RateTable(
        "USD", [Rate("EUR", dt.date(2026, 1, 1), Decimal("1.1")), Rate("GBP", dt.date(2026, 1, 1), Decimal("1.25"))]
    )
    factor = table.factor("EUR", "GBP", dt.date(2026, 6, 1))
    assert factor is not None
    assert factor.value == Decimal("0.88")


def test_sums_are_converted_and_rounded_once() -> None:
    # Two EUR 0.05 at 1.1: each alone would round to 0.06 (0.12 together); the sum 0.10 * 1.1 = 0.11.
    conversion: Conversion[str] = Conversion("USD")
    table = RateTable("USD", [Rate("EUR", dt.date(2026, 1, 1), Decimal("1.1"))])
    conversion.add("k", 10, 2, table.factor("EUR", "USD", dt.date(2026, 1, 5)), "EUR")
    assert conversion.total("k") == Decimal("0.11")
    # Half up at the cent: 0.05 * 1.1 = 0.055 -> 0.06.
    single: Conversion[str] = Conversion("USD")
    single.add("k", 5, 1, table.factor("EUR", "USD", dt.date(2026, 1, 5)), "EUR")
    assert single.grand_total() == Decimal("0.06")


# --- API -----------------------------------------------------------------------------------------------------------


async def add(client: Client, user: Session, amount: str, currency: str, spent_on: str, **extra: Any) -> None:
    body = {"title": "t", "amount": amount, "currency": currency, "spent_on": spent_on, **extra}
    response = await client.post("/api/expenses", json=body, headers=user.headers)
    assert response.status_code == 201, response.text


async def rate(client: Client, user: Session, currency: str, value: str, valid_from: str) -> None:
    body = {"currency": currency, "rate": value, "valid_from": valid_from}
    response = await client.post("/api/rates", json=body, headers=user.headers)
    assert response.status_code == 201, response.text


async def seed_two_rate_periods(client: Client, user: Session) -> None:
    """Default USD. EUR is 1.1 from day 1 of M, 1.2 from day 15; GBP has no rate."""
    previous = month_start(M, 1)
    await rate(client, user, "EUR", "1.1", day(1))
    await rate(client, user, "EUR", "1.2", day(15))
    await add(client, user, "10.00", "EUR", day(10))  # 1.1
    await add(client, user, "0.05", "EUR", day(11))  # 1.1
    await add(client, user, "0.05", "EUR", day(14))  # 1.1: the day before the change
    await add(client, user, "20.00", "EUR", day(15))  # 1.2: the day of the change
    await add(client, user, "7.00", "EUR", day(28, previous))  # before the first EUR rate: not converted
    await add(client, user, "3.33", "USD", day(5))
    for _ in range(3):
        await add(client, user, "15.00", "GBP", day(2))  # no GBP rate: not converted


async def test_converted_summary_splits_a_period_at_rate_changes(client: Client, user: Session) -> None:
    await seed_two_rate_periods(client, user)
    start, end = month_start(M, 1).isoformat(), (month_start(M, -1) - dt.timedelta(days=1)).isoformat()
    response = await client.get(f"/api/reports/summary?from={start}&to={end}&convert=true", headers=user.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    # Per currency, as stored, always.
    assert {(c["currency"], c["total"], c["count"]) for c in body["currencies"]} == {
        ("EUR", "37.10", 5),
        ("GBP", "45.00", 3),
        ("USD", "3.33", 1),
    }
    # EUR at 1.1: 10.10 -> 11.11; EUR at 1.2: 20.00 -> 24.00; USD 3.33. 11.11 + 24.00 + 3.33 = 38.44
    # (converting each expense and rounding it would give 11.00 + 0.06 + 0.06 + 24.00 + 3.33 = 38.45).
    converted = body["converted"]
    assert converted["currency"] == "USD"
    assert converted["total"] == "38.44"
    assert converted["count"] == 5
    assert converted["rates_up_to"] == day(15)
    assert converted["rates"] == [{"currency": "EUR", "rate": "1.20000000", "valid_from": day(15)}]
    assert converted["not_converted"] == [
        {"currency": "EUR", "total": "7.00", "count": 1},
        {"currency": "GBP", "total": "45.00", "count": 3},
    ]


async def test_without_convert_there_is_no_converted_figure(client: Client, user: Session) -> None:
    await seed_two_rate_periods(client, user)
    response = await client.get(f"/api/reports/summary?from={day(1)}&to={day(28)}", headers=user.headers)
    assert response.json()["converted"] is None
    # The setting turns it on by default; the parameter still wins.
    settings = (await client.get("/api/settings", headers=user.headers)).json()
    put = await client.put("/api/settings", json={**settings, "convert_totals": True}, headers=user.headers)
    assert put.status_code == 200, put.text
    on = (await client.get(f"/api/reports/summary?from={day(1)}&to={day(28)}", headers=user.headers)).json()
    # EUR 10.10 at 1.1 = 11.11, EUR 20.00 at 1.2 = 24.00, USD 3.33: 38.44
    assert on["converted"]["total"] == "38.44"
    off = await client.get(f"/api/reports/summary?from={day(1)}&to={day(28)}&convert=false", headers=user.headers)
    assert off.json()["converted"] is None


async def test_by_category_lists_other_currencies_or_converts_them(client: Client, user: Session) -> None:
    await seed_two_rate_periods(client, user)
    period = f"from={day(1)}&to={day(28)}"
    plain = (await client.get(f"/api/reports/by-category?{period}", headers=user.headers)).json()
    assert plain["currency"] == "USD"
    assert plain["total"] == "3.33"
    assert plain["converted"] is None
    assert {(c["currency"], c["total"], c["count"]) for c in plain["other_currencies"]} == {
        ("EUR", "30.10", 4),
        ("GBP", "45.00", 3),
    }
    converted = (await client.get(f"/api/reports/by-category?{period}&convert=true", headers=user.headers)).json()
    assert converted["total"] == "38.44"
    assert [(c["name"], c["total"], c["count"]) for c in converted["categories"]] == [("Uncategorized", "38.44", 5)]
    assert converted["converted"]["not_converted"] == [{"currency": "GBP", "total": "45.00", "count": 3}]


async def test_monthly_converts_each_month_with_its_rates(client: Client, user: Session) -> None:
    await seed_two_rate_periods(client, user)
    plain = (await client.get("/api/reports/monthly?months=6", headers=user.headers)).json()
    months = {m["month"]: (m["total"], m["count"]) for m in plain["months"]}
    assert months[f"{M:%Y-%m}"] == ("3.33", 1)
    assert {c["currency"] for c in plain["other_currencies"]} == {"EUR", "GBP"}
    converted = (await client.get("/api/reports/monthly?months=6&convert=true", headers=user.headers)).json()
    months = {m["month"]: (m["total"], m["count"]) for m in converted["months"]}
    assert months[f"{M:%Y-%m}"] == ("38.44", 5)
    assert months[f"{month_start(M, 1):%Y-%m}"] == ("0.00", 0)  # only EUR 7.00 before any rate
    assert converted["converted"]["not_converted"] == [
        {"currency": "EUR", "total": "7.00", "count": 1},
        {"currency": "GBP", "total": "45.00", "count": 3},
    ]


async def test_budget_in_eur_counts_usd_spending_converted(client: Client, user: Session) -> None:
    created = await client.post(
        "/api/categories",
        json={"name": "Travel", "monthly_budget": "100.00", "budget_currency": "EUR", "budget_from": f"{M:%Y-%m}"},
        headers=user.headers,
    )
    assert created.status_code == 201, created.text
    travel = created.json()
    assert travel["budget_currency"] == "EUR"
    await rate(client, user, "EUR", "1.1", day(1))  # 1 EUR = 1.1 USD
    await add(client, user, "30.00", "EUR", day(3), category_id=travel["id"])
    await add(client, user, "22.00", "USD", day(4), category_id=travel["id"])  # 22 / 1.1 = 20.00 EUR
    await add(client, user, "15.00", "GBP", day(5), category_id=travel["id"])  # no rate
    budget = (await client.get(f"/api/reports/budget?month={M:%Y-%m}", headers=user.headers)).json()
    line = next(line for line in budget["lines"] if line["name"] == "Travel")
    assert (line["budget_currency"], line["budget"], line["spent"], line["remaining"], line["percent"]) == (
        "EUR",
        "100.00",
        "50.00",
        "50.00",
        "50.00",
    )
    assert line["not_converted"] == [{"currency": "GBP", "total": "15.00", "count": 1}]
    assert budget["rates_up_to"] == day(1)


async def test_budget_currency_defaults_and_survives_a_default_currency_change(client: Client, user: Session) -> None:
    made = await client.post("/api/categories", json={"name": "Rent", "monthly_budget": "900"}, headers=user.headers)
    assert made.json()["budget_currency"] == "USD"
    plain = await client.post("/api/categories", json={"name": "Misc"}, headers=user.headers)
    assert plain.json()["budget_currency"] is None
    settings = (await client.get("/api/settings", headers=user.headers)).json()
    await client.put("/api/settings", json={**settings, "currency": "EUR"}, headers=user.headers)
    again = (await client.get(f"/api/categories/{made.json()['id']}", headers=user.headers)).json()
    assert (again["monthly_budget"], again["budget_currency"]) == ("900.00", "USD")
    changed = await client.patch(
        f"/api/categories/{made.json()['id']}", json={"monthly_budget": "950"}, headers=user.headers
    )
    assert changed.json()["budget_currency"] == "USD"
    bad = await client.patch(
        f"/api/categories/{made.json()['id']}", json={"budget_currency": "EURO"}, headers=user.headers
    )
    assert bad.status_code == 400
    assert "budget_currency" in {e["field"] for e in bad.json()["errors"]}


def test_huge_converted_sums_round_instead_of_failing() -> None:
    # 10^15 cents at 10^10 per unit through a 10^-8 rate: 10^31, more digits than Decimal's default 28.
    table = RateTable(
        "USD",
        [
            Rate("JPY", dt.date(2026, 1, 1), Decimal("9999999999")),
            Rate("BTC", dt.date(2026, 1, 1), Decimal("0.00000001")),
        ],
    )
    conversion: Conversion[str] = Conversion("BTC")
    conversion.add("k", 10**15, 1, table.factor("JPY", "BTC", dt.date(2026, 2, 1)), "JPY")
    assert conversion.total("k") > 0


async def test_daily_rates_convert_each_day_at_its_own_rate(client: Client, user: Session) -> None:
    # EUR is 1.01 on day 1, 1.02 on day 2, ... 1.26 on day 26: 26 rate periods in days 1-28, more than
    # RATE_PERIOD_QUERIES_MAX (24), so the day sums are read from the rows.
    for n in range(1, 27):
        await rate(client, user, "EUR", f"1.{n:02d}", day(n))
        await add(client, user, "10.00", "EUR", day(n))  # 10.00 * (1 + n/100): 10.10 ... 12.60, together 295.10
    await add(client, user, "5.00", "EUR", day(3))  # 5.00 * 1.03 = 5.15
    summary = await client.get(f"/api/reports/summary?from={day(1)}&to={day(28)}&convert=true", headers=user.headers)
    assert summary.json()["converted"]["total"] == "300.25"
    assert summary.json()["converted"]["count"] == 27
    assert summary.json()["converted"]["rates_up_to"] == day(26)
    monthly = (await client.get("/api/reports/monthly?months=6&convert=true", headers=user.headers)).json()
    assert {m["month"]: m["total"] for m in monthly["months"]}[f"{M:%Y-%m}"] == "300.25"
