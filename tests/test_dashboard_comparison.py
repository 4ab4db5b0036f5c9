"""The dashboard compares month-to-date with the same days of last month (issue 14, item 5), not the whole month."""

from __future__ import annotations

import datetime as dt

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from expense_tracker.constants import SESSION_COOKIE
from expense_tracker.lib.timezones import same_days_last_month
from tests.conftest import HTML, sign_in


@pytest.mark.parametrize(
    ("today", "start", "end"),
    [
        (dt.date(2026, 12, 2), dt.date(2026, 11, 1), dt.date(2026, 11, 2)),
        (dt.date(2026, 3, 31), dt.date(2026, 2, 1), dt.date(2026, 2, 28)),
        (dt.date(2024, 3, 30), dt.date(2024, 2, 1), dt.date(2024, 2, 29)),
        (dt.date(2026, 1, 15), dt.date(2025, 12, 1), dt.date(2025, 12, 15)),
        (dt.date(2026, 5, 1), dt.date(2026, 4, 1), dt.date(2026, 4, 1)),
    ],
)
def test_same_days_last_month(today: dt.date, start: dt.date, end: dt.date) -> None:
    assert same_days_last_month(today) == (start, end)


async def test_the_dashboard_compares_with_the_same_days_of_last_month(client: AsyncTestClient[Litestar]) -> None:
    user = await sign_in(client)
    today = dt.datetime.now(dt.UTC).date()  # the signed-in user's time zone is UTC
    first_last_month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    within = first_last_month  # day 1: always inside the compared period
    try:  # the day after today's day of last month: outside the compared period
        after = first_last_month.replace(day=today.day) + dt.timedelta(days=1)
    except ValueError:
        after = today.replace(day=1)
    if after.month != first_last_month.month:
        pytest.skip("today is at a month's end: last month has no day after the compared period")
    for day, amount in ((within, "40.00"), (after, "500.00"), (today, "20.00")):
        body = {"title": "t", "amount": amount, "spent_on": day.isoformat(), "currency": "USD"}
        assert (await client.post("/api/expenses", json=body, headers=user.headers)).status_code == 201
    client.cookies.set(SESSION_COOKIE, user.token)
    page = await client.get("/", headers=HTML)
    client.cookies.clear()
    assert page.status_code == 200
    # 20 this month against 40 on the same days of last month (the 500 later last month does not count): 50 % less.
    assert "50% less than" in page.text, page.text[page.text.find("comparison") - 50 :][:400]
    assert "$40.00" in page.text


async def test_quick_add_says_which_category_it_preselects(client: AsyncTestClient[Litestar]) -> None:
    user = await sign_in(client)
    categories = (await client.get("/api/categories", headers=user.headers)).json()
    chosen = categories[2]

    async def dashboard() -> str:
        client.cookies.set(SESSION_COOKIE, user.token)
        try:
            page = await client.get("/", headers=HTML)
        finally:
            client.cookies.clear()
        assert page.status_code == 200
        return page.text

    assert "Pre-selected" not in await dashboard()  # no expense yet: nothing is pre-selected, nothing is said
    body = {"title": "t", "amount": "1.00", "category_id": chosen["id"]}
    assert (await client.post("/api/expenses", json=body, headers=user.headers)).status_code == 201
    html = await dashboard()
    hint = f"Pre-selected: {chosen['name']}, the category of your last expense."
    assert hint in html
    # Tied to the select for screen readers, and the option really is the selected one.
    assert 'aria-describedby="f-h-category_id"' in html
    assert f'<option value="{chosen["id"]}" selected>' in html
