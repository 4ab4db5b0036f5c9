"""Refunds (negative amounts) reduce every total: summary, by category, monthly, budget, dashboard and the charts."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from expense_tracker.constants import SESSION_COOKIE
from expense_tracker.lib.charts import Bar, bar_chart, column_chart
from tests.conftest import HTML, Session

Client = AsyncTestClient[Litestar]


async def seed(client: Client, user: Session) -> dict[str, str]:
    """Food: 50.00 spent, 20.00 back (net 30.00); Transport: 10.00 spent, 25.00 back (net -15.00, refunds exceed
    spending); no category: 7.50. All today, in USD, with budgets Food 100 and Transport 40."""
    cats = {c["name"]: c["id"] for c in (await client.get("/api/categories", headers=user.headers)).json()}
    await client.patch(f"/api/categories/{cats['Food']}", json={"monthly_budget": "100"}, headers=user.headers)
    await client.patch(f"/api/categories/{cats['Transport']}", json={"monthly_budget": "40"}, headers=user.headers)
    for title, amount, category in [
        ("Groceries", "50.00", cats["Food"]),
        ("Groceries refund", "-20.00", cats["Food"]),
        ("Train", "10.00", cats["Transport"]),
        ("Delay compensation", "-25.00", cats["Transport"]),
        ("Gift", "7.50", None),
    ]:
        body = {"title": title, "amount": amount, "category_id": category}
        response = await client.post("/api/expenses", json=body, headers=user.headers)
        assert response.status_code == 201, response.text
    return cats


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()  # the test user's time zone is UTC


async def get(client: Client, user: Session, path: str) -> Any:
    response = await client.get(path, headers=user.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_refunds_reduce_every_report(client: Client, user: Session) -> None:
    cats = await seed(client, user)
    day = today().isoformat()
    summary = await get(client, user, f"/api/reports/summary?from={day}&to={day}")
    assert summary["currencies"] == [{"currency": "USD", "total": "22.50", "count": 5, "average": "4.50"}]
    by_category = await get(client, user, f"/api/reports/by-category?from={day}&to={day}")
    assert by_category["total"] == "22.50"
    assert [(c["name"], c["total"], c["count"], c["share"]) for c in by_category["categories"]] == [
        ("Food", "30.00", 2, "133.33"),
        ("Uncategorized", "7.50", 1, "33.33"),
        ("Transport", "-15.00", 2, "-66.67"),
    ]
    monthly = await get(client, user, "/api/reports/monthly?months=1")
    assert monthly["months"] == [{"month": f"{today():%Y-%m}", "total": "22.50", "count": 5}]
    budget = await get(client, user, "/api/reports/budget")
    lines = {line["name"]: line for line in budget["lines"]}
    assert (lines["Food"]["spent"], lines["Food"]["remaining"], lines["Food"]["percent"]) == ("30.00", "70.00", "30.00")
    assert (lines["Transport"]["spent"], lines["Transport"]["remaining"], lines["Transport"]["percent"]) == (
        "-15.00",
        "55.00",
        "-37.50",
    )
    # The filtered listing selects refunds by a negative bound.
    refunds = await get(client, user, "/api/expenses?max_amount=-0.01&sort=amount")
    assert [(e["title"], e["amount"]) for e in refunds["items"]] == [
        ("Delay compensation", "-25.00"),
        ("Groceries refund", "-20.00"),
    ]
    assert cats


async def test_refunds_only_period_has_no_meaningless_shares(client: Client, user: Session) -> None:
    await client.post("/api/expenses", json={"title": "Back", "amount": "-9.99"}, headers=user.headers)
    day = today().isoformat()
    by_category = await get(client, user, f"/api/reports/by-category?from={day}&to={day}")
    assert by_category["total"] == "-9.99"
    assert [(c["total"], c["share"]) for c in by_category["categories"]] == [("-9.99", "0.00")]


async def test_pages_show_refunds_and_draw_no_negative_bars(client: Client, user: Session) -> None:
    await seed(client, user)
    client.cookies.set(SESSION_COOKIE, user.token)
    dashboard = (await client.get("/", headers=HTML)).text
    assert '<p class="big-number" data-testid="month-total">$22.50</p>' in dashboard
    assert '<span class="badge refund">Refund</span> -$25.00' in dashboard
    assert "-$15.00 of $40.00" in dashboard  # Transport's budget line
    response = await client.get("/reports", headers=HTML)
    assert response.status_code == 200
    reports = response.text
    assert '<td class="num" data-testid="period-total">$22.50</td>' in reports
    assert "-$15.00" in reports
    assert not re.search(r'(width|height)="-', reports), "an SVG bar of negative size"
    client.cookies.clear()


def test_charts_cope_with_negative_totals() -> None:
    bars = [Bar("Food", Decimal("30.00"), "$30.00"), Bar("Transport", Decimal("-15.00"), "-$15.00")]
    for svg in (
        bar_chart(bars, "t", "d", "c"),
        column_chart(bars, "t", "d", "m"),
        bar_chart(bars[1:], "t", "d", "n"),  # nothing positive at all
    ):
        sizes = [float(v) for v in re.findall(r'(?:width|height)="(-?[0-9.]+)"', svg)]
        assert sizes
        assert min(sizes) >= 0, svg
        assert "-$15.00" in svg
    # The positive bar keeps its full length; the negative one draws none.
    assert 'width="360.0"' in bar_chart(bars, "t", "d", "c")
    assert 'width="0.0"' in bar_chart(bars, "t", "d", "c")
