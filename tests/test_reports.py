"""Reports are computed in SQL; here they must equal a plain-Python recomputation over random data."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from expense_tracker.lib.timezones import month_start
from tests.conftest import Session

Client = AsyncTestClient[Litestar]
CENT = Decimal("0.01")


def q(value: Decimal) -> str:
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


async def seed(client: Client, user: Session, count: int, seed_value: int) -> list[dict[str, Any]]:
    rng = random.Random(seed_value)
    cats = (await client.get("/api/categories", headers=user.headers)).json()
    today = dt.datetime.now(dt.UTC).date()
    rows = []
    for _ in range(count):
        body = {
            "title": "random",
            "amount": f"{rng.randint(1, 500_000) / 100:.2f}",
            "currency": rng.choice(["USD", "USD", "EUR"]),
            "category_id": rng.choice([*[c["id"] for c in cats], None]),
            "spent_on": (today - dt.timedelta(days=rng.randint(0, 400))).isoformat(),
        }
        response = await client.post("/api/expenses", json=body, headers=user.headers)
        assert response.status_code == 201
        rows.append(response.json())
    return rows


async def test_reports_match_python_recomputation(client: Client, user: Session) -> None:
    rows = await seed(client, user, 120, seed_value=7)
    today = dt.datetime.now(dt.UTC).date()
    start, end = today - dt.timedelta(days=200), today - dt.timedelta(days=20)
    in_period = [r for r in rows if start.isoformat() <= r["spent_on"] <= end.isoformat()]

    summary = (await client.get(f"/api/reports/summary?from={start}&to={end}", headers=user.headers)).json()
    expected: dict[str, list[Decimal]] = defaultdict(list)
    for r in in_period:
        expected[r["currency"]].append(Decimal(r["amount"]))
    assert summary["count"] == len(in_period)
    assert {c["currency"]: (c["total"], c["count"], c["average"]) for c in summary["currencies"]} == {
        cur: (q(sum(v, Decimal(0))), len(v), q(sum(v, Decimal(0)) / len(v))) for cur, v in expected.items()
    }

    by_cat = (await client.get(f"/api/reports/by-category?from={start}&to={end}", headers=user.headers)).json()
    usd = [r for r in in_period if r["currency"] == "USD"]
    per_cat: dict[str | None, list[Decimal]] = defaultdict(list)
    for r in usd:
        per_cat[r["category_id"]].append(Decimal(r["amount"]))
    grand = sum((sum(v, Decimal(0)) for v in per_cat.values()), Decimal(0))
    assert by_cat["currency"] == "USD"
    assert by_cat["total"] == q(grand)
    assert {c["category_id"]: (c["total"], c["count"]) for c in by_cat["categories"]} == {
        k: (q(sum(v, Decimal(0))), len(v)) for k, v in per_cat.items()
    }
    shares = [Decimal(c["share"]) for c in by_cat["categories"]]
    assert abs(sum(shares) - 100) <= Decimal("0.01") * len(shares)
    assert [Decimal(c["total"]) for c in by_cat["categories"]] == sorted(
        (Decimal(c["total"]) for c in by_cat["categories"]), reverse=True
    )

    monthly = (await client.get("/api/reports/monthly?months=12&currency=EUR", headers=user.headers)).json()
    assert len(monthly["months"]) == 12
    assert monthly["months"][-1]["month"] == f"{today:%Y-%m}"
    eur_by_month: dict[str, list[Decimal]] = defaultdict(list)
    for r in rows:
        if r["currency"] == "EUR":
            eur_by_month[r["spent_on"][:7]].append(Decimal(r["amount"]))
    for entry in monthly["months"]:
        values = eur_by_month.get(entry["month"], [])
        assert (entry["total"], entry["count"]) == (q(sum(values, Decimal(0))), len(values)), entry


async def test_monthly_is_zero_filled_calendar_months(client: Client, user: Session) -> None:
    today = dt.datetime.now(dt.UTC).date()
    three_back = month_start(today, 3)
    await client.post(
        "/api/expenses", json={"title": "old", "amount": "10", "spent_on": three_back.isoformat()}, headers=user.headers
    )
    months = (await client.get("/api/reports/monthly?months=6", headers=user.headers)).json()["months"]
    assert [m["month"] for m in months] == [f"{month_start(today, b):%Y-%m}" for b in range(5, -1, -1)]
    assert [m["total"] for m in months] == ["0.00", "0.00", "10.00", "0.00", "0.00", "0.00"]
    assert (await client.get("/api/reports/monthly?months=61", headers=user.headers)).status_code == 400


async def test_budget_vs_spent(client: Client, user: Session) -> None:
    cats = {c["name"]: c for c in (await client.get("/api/categories", headers=user.headers)).json()}
    await client.patch(
        f"/api/categories/{cats['Food']['id']}",
        json={"monthly_budget": "200", "budget_from": "2024-02"},
        headers=user.headers,
    )
    for amount, day in (("150.00", "2024-02-10"), ("75.50", "2024-02-29"), ("999", "2024-03-01")):
        await client.post(
            "/api/expenses",
            json={"title": "food", "amount": amount, "spent_on": day, "category_id": cats["Food"]["id"]},
            headers=user.headers,
        )
    report = (await client.get("/api/reports/budget?month=2024-02", headers=user.headers)).json()
    food = next(line for line in report["lines"] if line["name"] == "Food")
    assert (food["budget"], food["spent"], food["remaining"], food["percent"]) == (
        "200.00",
        "225.50",
        "-25.50",
        "112.75",
    )
    other = next(line for line in report["lines"] if line["name"] == "Other")
    assert (other["budget"], other["spent"], other["percent"]) == (None, "0.00", None)
    for bad in ("2024-13", "24-01", "feb"):
        assert (await client.get(f"/api/reports/budget?month={bad}", headers=user.headers)).status_code == 400


async def test_empty_reports_are_zero_not_errors(client: Client, user: Session) -> None:
    summary = (await client.get("/api/reports/summary", headers=user.headers)).json()
    assert summary["count"] == 0
    assert summary["currencies"] == []
    by_cat = (await client.get("/api/reports/by-category", headers=user.headers)).json()
    assert (by_cat["total"], by_cat["categories"]) == ("0.00", [])
    bad = await client.get("/api/reports/summary?from=2024-02-01&to=2024-01-01", headers=user.headers)
    assert bad.status_code == 400
