"""Budget vs actual for any month on the reports page (issue 14, item 5): the `month` parameter and its links."""

from __future__ import annotations

import datetime as dt
import re

from litestar import Litestar
from litestar.testing import AsyncTestClient

from expense_tracker.constants import SESSION_COOKIE
from tests.conftest import HTML, Session, sign_in


async def _page(client: AsyncTestClient[Litestar], user: Session, query: str) -> tuple[int, str]:
    client.cookies.set(SESSION_COOKIE, user.token)
    try:
        response = await client.get(f"/reports{query}", headers=HTML)
    finally:
        client.cookies.clear()
    return response.status_code, response.text


def _budget_section(html: str) -> str:
    return html[html.index('id="budget-title"') :]


async def test_the_budget_of_another_month_and_its_neighbours(client: AsyncTestClient[Litestar]) -> None:
    user = await sign_in(client)
    category = (await client.get("/api/categories", headers=user.headers)).json()[0]
    today = dt.datetime.now(dt.UTC).date()  # the user's time zone is UTC
    last_month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    # From last month on (a budget set without budget_from applies from this month: past months keep theirs).
    patched = await client.patch(
        f"/api/categories/{category['id']}",
        json={"monthly_budget": "100.00", "budget_from": f"{last_month:%Y-%m}"},
        headers=user.headers,
    )
    assert patched.status_code == 200
    body = {"title": "t", "amount": "30.00", "spent_on": last_month.isoformat(), "category_id": category["id"]}
    assert (await client.post("/api/expenses", json=body, headers=user.headers)).status_code == 201

    status, html = await _page(client, user, f"?month={last_month:%Y-%m}")
    assert status == 200
    budget = _budget_section(html)
    assert f"Budget vs actual, {last_month:%B %Y}" in budget
    assert "$30.00" in budget  # spent of the 100.00 budget
    assert "$70.00" in budget  # and left
    two_back = (last_month - dt.timedelta(days=1)).replace(day=1)
    links = dict(re.findall(r'<a href="([^"]+)" rel="(prev|next)"', budget))
    assert {rel: href for href, rel in links.items()} == {
        "prev": f"/reports?month={two_back:%Y-%m}",
        "next": f"/reports?month={today:%Y-%m}",
    }

    status, html = await _page(client, user, "")  # the default is this month, where nothing was spent
    assert status == 200
    budget = _budget_section(html)
    assert f"Budget vs actual, {today:%B %Y}" in budget
    assert "$30.00" not in budget


async def test_the_period_is_kept_and_a_bad_month_is_refused(client: AsyncTestClient[Litestar]) -> None:
    user = await sign_in(client)
    status, html = await _page(client, user, "?from=2026-01-01&to=2026-01-31&month=2026-01")
    assert status == 200
    assert 'href="/reports?from=2026-01-01&amp;to=2026-01-31&amp;month=2025-12" rel="prev"' in html
    for bad in ("2026-13", "26-01", "1899-12", "next"):
        status, _ = await _page(client, user, f"?month={bad}")
        assert status == 400, bad
