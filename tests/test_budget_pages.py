"""The budgets pages (month with rollover, change from a month, year view), the category form's month and rollover,
and month navigation on the dashboard: the same services as the API, bad input re-rendered inline (never a 500)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from expense_tracker.constants import CSRF_COOKIE, SESSION_COOKIE
from tests.conftest import HTML, Session, sign_in

Client = AsyncTestClient[Litestar]


async def page(client: Client, user: Session, path: str, status: int = 200) -> str:
    client.cookies.set(SESSION_COOKIE, user.token)
    try:
        response = await client.get(path, headers=HTML)
    finally:
        client.cookies.clear()
    assert response.status_code == status, response.text[:500]
    return " ".join(response.text.split())


async def post(client: Client, user: Session, path: str, data: dict[str, str]) -> Any:
    client.cookies.set(SESSION_COOKIE, user.token)
    try:
        assert (await client.get("/budgets", headers=HTML)).status_code == 200  # the CSRF cookie
        data = {**data, "_csrf_token": client.cookies.get(CSRF_COOKIE) or ""}
        return await client.post(path, data=data, headers=HTML)
    finally:
        client.cookies.clear()


async def _category(client: Client, user: Session, name: str) -> str:
    response = await client.post("/api/categories", json={"name": name}, headers=user.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _spend(client: Client, user: Session, category_id: str, day: str, amount: str) -> None:
    body = {"title": "t", "amount": amount, "spent_on": day, "category_id": category_id}
    assert (await client.post("/api/expenses", json=body, headers=user.headers)).status_code == 201


def row(html: str, name: str) -> str:
    start = html.index(f'<tr data-category="{name}">')
    return html[start : html.index("</tr>", start)]


async def test_set_a_budget_from_a_month_on_the_page(client: Client) -> None:
    user = await sign_in(client)
    garden = await _category(client, user, "Garden")
    await _spend(client, user, garden, "2025-01-20", "60.00")
    await _spend(client, user, garden, "2025-02-02", "170.00")
    # Viewing February, set from January: the page comes back to February.
    form = {"month": "2025-02", "from": "2025-01", "amount": "100", "currency": "", "rollover": "yes"}
    response = await post(client, user, f"/budgets/{garden}", form)
    assert response.status_code == 303
    assert response.headers["location"] == "/budgets?month=2025-02&msg=budget-saved"
    html = await page(client, user, "/budgets?month=2025-02&msg=budget-saved")
    assert "Budget saved." in html
    # 100 - 60 = 40 carried into February; 100 + 40 - 170 = -30.
    february = row(html, "Garden")
    assert "$100.00" in february
    assert "$40.00" in february
    assert "Over by $30.00" in february
    assert 'href="/budgets?month=2025-01" rel="prev"' in html
    assert 'href="/budgets?month=2025-03" rel="next"' in html
    assert "Rollover:" in html  # the page explains it
    # "No budget from March": blank amount.
    form = {"month": "2025-03", "from": "2025-03", "amount": "", "currency": ""}
    assert (await post(client, user, f"/budgets/{garden}", form)).status_code == 303
    march = row(await page(client, user, "/budgets?month=2025-03"), "Garden")
    assert "—" in march
    assert "$100.00" in row(await page(client, user, "/budgets?month=2025-02"), "Garden")


async def test_bad_input_is_shown_next_to_the_field(client: Client) -> None:
    user = await sign_in(client)
    garden = await _category(client, user, "Garden")
    cases = [
        ({"amount": "12.345"}, "amount"),
        ({"amount": "-4"}, "amount"),
        ({"amount": "10", "currency": "EURO"}, "currency"),
        ({"amount": "10", "from": "2025-13"}, "from"),
        ({"amount": "1500.50", "currency": "JPY"}, "amount"),
    ]
    for extra, field in cases:
        form = {"month": "2025-01", "from": "2025-01", "currency": "", **extra}
        response = await post(client, user, f"/budgets/{garden}", form)
        assert response.status_code == 400, (extra, response.text[:300])
        html = " ".join(response.text.split())
        assert 'aria-invalid="true"' in html
        assert 'role="alert"' in html
        assert f'name="{field}"' in html
        assert "<details open>" in html  # that category's form is open, with what was typed
    history = await client.get(f"/api/budgets/history/{garden}", headers=user.headers)
    assert history.json()["entries"] == []
    bad = await page(client, user, "/budgets?month=2025-99", status=400)
    assert 'id="month-pick-error"' in bad
    await page(client, user, "/budgets/year?year=abc", status=400)
    other = await sign_in(client)
    assert (await post(client, other, f"/budgets/{garden}", {"amount": "5", "from": "2025-01"})).status_code == 404


async def test_the_year_page(client: Client) -> None:
    user = await sign_in(client)
    pool = await _category(client, user, "Pool")
    for month in ("2024-01", "2024-07"):
        body = {"amount": "100.00" if month == "2024-01" else "50.00"}
        assert (await client.put(f"/api/budgets/{pool}/{month}", json=body, headers=user.headers)).status_code == 200
    await _spend(client, user, pool, "2024-02-29", "30.00")
    html = await page(client, user, "/budgets/year?year=2024")
    # Budget: 6 x 100 + 6 x 50 = 900; spent 30; left 870.
    assert re.search(r'data-testid="year-total">\$30\.00<br><small>\$900\.00</small>', html)
    assert 'data-testid="year-left">$870.00<' in html
    assert 'href="/budgets/year?year=2023" rel="prev"' in html
    assert "Feb 2024" in html


async def test_category_form_sets_the_month_and_rollover(client: Client) -> None:
    user = await sign_in(client)
    kids = await _category(client, user, "Kids")
    form = {
        "name": "Kids",
        "color": "#336699",
        "monthly_budget": "70",
        "budget_currency": "",
        "budget_from": "2024-05",
        "rollover": "yes",
    }
    response = await post(client, user, f"/categories/{kids}", form)
    assert response.status_code == 303, response.text[:500]
    history = (await client.get(f"/api/budgets/history/{kids}", headers=user.headers)).json()
    assert history["entries"] == [{"month": "2024-05", "amount": "70.00", "currency": "USD", "rollover": True}]
    bad = await post(client, user, f"/categories/{kids}", {**form, "budget_from": "May"})
    assert bad.status_code == 400
    assert "budget_from" in bad.text


async def test_dashboard_and_reports_navigate_months(client: Client) -> None:
    user = await sign_in(client)
    dogs = await _category(client, user, "Dogs")
    body = {"amount": "100.00", "rollover": True}
    assert (await client.put(f"/api/budgets/{dogs}/2024-01", json=body, headers=user.headers)).status_code == 200
    await _spend(client, user, dogs, "2024-01-31", "25.00")
    await _spend(client, user, dogs, "2024-02-01", "40.00")
    html = await page(client, user, "/?month=2024-02")
    assert "February 2024" in html
    assert 'href="/?month=2024-01" rel="prev"' in html
    assert 'href="/?month=2024-03" rel="next"' in html
    assert 'type="month"' in html
    assert 'data-testid="month-total">$40.00<' in html
    # The budget bar counts the 75.00 carried from January: 40 of 175.
    assert "$40.00 of $175.00" in html
    await page(client, user, "/?month=2024-13", status=400)
    reports = await page(client, user, "/reports?month=2024-02")
    assert "Budget vs actual, February 2024" in reports
    assert "$75.00" in row(reports, "Dogs")  # carried in
    today = dt.datetime.now(dt.UTC).date()
    assert f"{today:%B %Y}" in await page(client, user, "/")
