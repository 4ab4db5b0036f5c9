"""A second currency never disappears from the pages: dashboard, reports and budgets list it, or convert it and say
how (rate date, what was not converted); the rates page adds, deletes and imports rates; the settings checkbox."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from expense_tracker.constants import CSRF_COOKIE, SESSION_COOKIE
from tests.conftest import HTML, Session

Client = AsyncTestClient[Litestar]
TODAY = dt.datetime.now(dt.UTC).date()
FIRST = TODAY.replace(day=1)


async def page(client: Client, user: Session, path: str, status: int = 200) -> str:
    client.cookies.set(SESSION_COOKIE, user.token)
    try:
        response = await client.get(path, headers=HTML)
    finally:
        client.cookies.clear()
    assert response.status_code == status, response.text[:500]
    return " ".join(response.text.split())


async def post(client: Client, user: Session, path: str, data: dict[str, str], files: Any = None) -> Any:
    client.cookies.set(SESSION_COOKIE, user.token)
    try:
        assert (await client.get("/rates", headers=HTML)).status_code == 200  # the CSRF cookie
        data = {**data, "_csrf_token": client.cookies.get(CSRF_COOKIE) or ""}
        return await client.post(path, data=data, files=files, headers=HTML)
    finally:
        client.cookies.clear()


async def seed(client: Client, user: Session) -> None:
    travel = await client.post(
        "/api/categories",
        json={"name": "Travel", "monthly_budget": "100.00", "budget_currency": "EUR"},
        headers=user.headers,
    )
    assert travel.status_code == 201
    expenses = [("12.00", "USD", None), ("10.00", "EUR", travel.json()["id"])]
    expenses += [("15.00", "GBP", travel.json()["id"])] * 3
    for amount, currency, category in expenses:
        body = {"title": "t", "amount": amount, "currency": currency, "spent_on": FIRST.isoformat()}
        response = await client.post("/api/expenses", json={**body, "category_id": category}, headers=user.headers)
        assert response.status_code == 201, response.text


async def test_pages_list_other_currencies_when_not_converting(client: Client, user: Session) -> None:
    await seed(client, user)
    dashboard = await page(client, user, "/")
    assert "USD only. Also this month:" in dashboard
    assert "in EUR (1 expense)" in dashboard
    assert "in GBP (3 expenses)" in dashboard
    # The EUR budget shows EUR spending, and the GBP spending it cannot convert.
    assert "plus 3 expenses in GBP" in dashboard
    reports = await page(client, user, "/reports")
    assert "last 12 months (USD only)" in reports
    assert "Shows USD only. Also in these 12 months:" in reports
    assert "Shows USD only. Also in this period:" in reports
    assert "in GBP (3 expenses)" in reports
    assert "plus 3 expenses in GBP" in reports


async def test_pages_convert_and_say_how_when_the_user_chose_it(client: Client, user: Session) -> None:
    await seed(client, user)
    rate = {"currency": "EUR", "rate": "1.1", "valid_from": (FIRST - dt.timedelta(days=40)).isoformat()}
    assert (await client.post("/api/rates", json=rate, headers=user.headers)).status_code == 201
    saved = await post(
        client, user, "/settings", {"currency": "USD", "theme": "system", "timezone": "UTC", "convert_totals": "on"}
    )
    assert saved.status_code == 303, saved.text[:500]
    assert (await client.get("/api/settings", headers=user.headers)).json()["convert_totals"] is True
    assert 'name="convert_totals" value="on" aria-describedby="h-convert" checked' in await page(
        client, user, "/settings"
    )
    dashboard = await page(client, user, "/")
    # 12.00 USD + 10.00 EUR * 1.1 = 23.00 USD; GBP has no rate.
    assert re.search(r'data-testid="month-total">\$23\.00<', dashboard), dashboard[:3000]
    rate_day = FIRST - dt.timedelta(days=40)
    assert f"Converted to USD at rates up to {rate_day:%b} {rate_day.day}, {rate_day.year}." in dashboard
    assert "Not converted: 3 expenses in GBP" in dashboard
    reports = await page(client, user, "/reports")
    assert "(converted to USD)" in reports
    assert "Not converted: 3 expenses in GBP" in reports


async def test_rates_page_add_delete_and_import_errors(client: Client, user: Session) -> None:
    added = await post(client, user, "/rates", {"currency": "eur", "rate": "1.0825", "valid_from": "2026-01-01"})
    assert added.status_code == 303
    listed = await page(client, user, "/rates")
    assert "1 EUR" in listed
    assert "1.0825 USD" in listed
    whole = await post(client, user, "/rates", {"currency": "JPY", "rate": "100", "valid_from": "2026-01-01"})
    assert whole.status_code == 303
    assert "100 USD" in await page(client, user, "/rates")  # not 1E+2
    bad = await post(client, user, "/rates", {"currency": "EUR", "rate": "0", "valid_from": "2026-01-02"})
    assert bad.status_code == 400
    assert 'aria-describedby="r-e-rate"' in bad.text
    assert "Must be greater than 0" in bad.text
    same_day = await post(client, user, "/rates", {"currency": "EUR", "rate": "1.2", "valid_from": "2026-01-01"})
    assert same_day.status_code == 400
    assert "already exists" in same_day.text
    files = {"file": ("r.csv", b"currency,rate,valid_from\nGBP,x,2026-01-01\n", "text/csv")}
    rejected = await post(client, user, "/rates/import", {}, files)
    assert rejected.status_code == 400
    assert "Nothing was imported" in rejected.text
    assert "must be a decimal number" in rejected.text
    files = {"file": ("r.csv", b"currency,rate,valid_from\nGBP,1.27,2026-01-01\n", "text/csv")}
    imported = await post(client, user, "/rates/import", {}, files)
    assert imported.status_code == 200
    assert "Imported 1 rate." in imported.text
    rates = (await client.get("/api/rates", headers=user.headers)).json()
    eur = next(r for r in rates if r["currency"] == "EUR")
    deleted = await post(client, user, f"/rates/{eur['id']}/delete", {})
    assert deleted.status_code == 303
    assert [r["currency"] for r in (await client.get("/api/rates", headers=user.headers)).json()] == ["GBP", "JPY"]
