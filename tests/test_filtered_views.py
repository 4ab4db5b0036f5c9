"""The filtered expense view (issue 14): amount sorts within a currency (with cursors), the currency filter, the
filtered view's totals per currency, and bad filter values shown inline on the pages.

Expected orders and totals are literal tables written from the rows below by hand.
"""

from __future__ import annotations

import re
import uuid
from html import unescape
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from expense_tracker.constants import SESSION_COOKIE
from tests.conftest import HTML, Session
from tests.test_aggregates import run_migration

Client = AsyncTestClient[Litestar]

# (title, amount, currency, spent_on). Three "Lunch" rows tie on 5.00 USD: their ids decide between them.
ROWS = [
    ("Taxi", "12.50", "USD", "2024-03-01"),
    ("Bread", "5.00", "EUR", "2024-03-02"),
    ("Lunch", "5.00", "USD", "2024-03-03"),
    ("Ramen", "900", "JPY", "2024-02-11"),
    ("Book", "19.99", "EUR", "2024-02-10"),
    ("Lunch", "5.00", "USD", "2024-03-04"),
    ("Tea", "3.20", "GBP", "2024-03-05"),
    ("Sushi", "500", "JPY", "2024-03-05"),
    ("Coffee", "2.00", "EUR", "2024-03-01"),
    ("Lunch", "5.00", "USD", "2024-03-05"),
]
BY_AMOUNT = ["Coffee", "Bread", "Book", "Tea", "Sushi", "Ramen", "Lunch", "Lunch", "Lunch", "Taxi"]
"""sort=amount: currencies A to Z, each from its smallest amount (5.00 EUR is not next to 5.00 USD)."""


async def seed(client: Client, user: Session) -> list[dict[str, Any]]:
    for title, amount, currency, day in ROWS:
        body = {"title": title, "amount": amount, "currency": currency, "spent_on": day}
        response = await client.post("/api/expenses", json=body, headers=user.headers)
        assert response.status_code == 201, response.text
    return list((await client.get("/api/expenses?limit=200", headers=user.headers)).json()["items"])


async def walk(client: Client, user: Session, query: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(20):
        url = f"/api/expenses?{query}" + (f"&cursor={cursor}" if cursor else "")
        response = await client.get(url, headers=user.headers)
        assert response.status_code == 200, response.text
        items += response.json()["items"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("the walk does not end")


@pytest.mark.parametrize("limit", [2, 3, 4, 100])
async def test_amount_sorts_stay_within_a_currency_across_cursor_pages(
    client: Client, user: Session, limit: int
) -> None:
    await seed(client, user)
    ascending = await walk(client, user, f"sort=amount&limit={limit}")
    assert [i["title"] for i in ascending] == BY_AMOUNT
    assert [i["currency"] for i in ascending] == ["EUR"] * 3 + ["GBP"] + ["JPY"] * 2 + ["USD"] * 4
    lunches = [uuid.UUID(i["id"]) for i in ascending if i["title"] == "Lunch"]
    assert lunches == sorted(lunches)  # ties by id
    descending = await walk(client, user, f"sort=-amount&limit={limit}")
    assert [i["id"] for i in descending] == [i["id"] for i in reversed(ascending)]


async def test_currency_filter_lists_one_currency(client: Client, user: Session) -> None:
    await seed(client, user)
    euros = await walk(client, user, "currency=eur&sort=amount&limit=2")
    assert [i["title"] for i in euros] == ["Coffee", "Bread", "Book"]
    dollars = (await client.get("/api/expenses?currency=USD&sort=-amount", headers=user.headers)).json()
    assert [i["title"] for i in dollars["items"]] == ["Taxi", "Lunch", "Lunch", "Lunch"]
    assert dollars["total"] == 4
    export = await client.get("/api/expenses/export.csv?currency=GBP", headers=user.headers)
    assert [line.split(",")[2] for line in export.text.splitlines()[1:]] == ["Tea"]
    # Withdrawn codes can be filtered on (old expenses may be in them); unknown ones are refused.
    assert (await client.get("/api/expenses?currency=DEM", headers=user.headers)).json()["total"] == 0
    bad = await client.get("/api/expenses?currency=ZZZ", headers=user.headers)
    assert bad.status_code == 400
    assert bad.json()["errors"] == [
        {"field": "currency", "message": "must be an ISO 4217 currency code such as USD or EUR"}
    ]


# query -> (count, {currency: (total, count)}), by hand from ROWS.
TOTALS: dict[str, tuple[int, dict[str, tuple[str, int]]]] = {
    "": (10, {"EUR": ("26.99", 3), "GBP": ("3.20", 1), "JPY": ("1400.00", 2), "USD": ("27.50", 4)}),
    "from=2024-03-01": (8, {"EUR": ("7.00", 2), "GBP": ("3.20", 1), "JPY": ("500.00", 1), "USD": ("27.50", 4)}),
    "currency=EUR": (3, {"EUR": ("26.99", 3)}),
    "from=2024-02-01&to=2024-02-29": (2, {"EUR": ("19.99", 1), "JPY": ("900.00", 1)}),
    "q=lunch": (3, {"USD": ("15.00", 3)}),
    "min_amount=5&sort=-amount": (8, {"EUR": ("24.99", 2), "JPY": ("1400.00", 2), "USD": ("27.50", 4)}),
    "max_amount=5&currency=USD": (3, {"USD": ("15.00", 3)}),
    "q=zzz": (0, {}),
}


@pytest.mark.parametrize("query", list(TOTALS))
async def test_totals_of_the_filtered_view_per_currency(client: Client, user: Session, query: str) -> None:
    await seed(client, user)
    response = await client.get(f"/api/expenses/totals?{query}", headers=user.headers)
    assert response.status_code == 200, response.text
    count, currencies = TOTALS[query]
    body = response.json()
    assert (body["count"], body["count_capped"]) == (count, False)
    assert {c["currency"]: (c["total"], c["count"]) for c in body["currencies"]} == currencies
    assert [c["currency"] for c in body["currencies"]] == sorted(currencies)
    # The listing's total is the same count, on a short page (counted by a query) and a whole one (by the page).
    for limit in (1, 200):
        listing = (await client.get(f"/api/expenses?{query}&limit={limit}", headers=user.headers)).json()
        assert listing["total"] == count


async def test_list_page_shows_the_total_of_the_filtered_view(client: Client, user: Session) -> None:
    await seed(client, user)
    client.cookies.set(SESSION_COOKIE, user.token)
    expected = {
        "": "Total of 10 expenses: $27.50 · €26.99 · £3.20 · ¥1,400",
        "?limit=3": "Total of 10 expenses: $27.50 · €26.99 · £3.20 · ¥1,400",  # summed by a query, not the page
        "?currency=EUR": "Total of 3 expenses: €26.99",
        "?q=tea": "Total of 1 expense: £3.20",
        "?from=2024-03-01&limit=2": "Total of 8 expenses: $27.50 · €7.00 · £3.20 · ¥500",
    }
    for query, line in expected.items():
        html = (await client.get(f"/expenses{query}", headers=HTML)).text
        found = re.search(r'data-testid="filtered-total">(.*?)</p>', html, re.DOTALL)
        assert found is not None, query
        assert unescape(found.group(1)) == line, query
    # Sorted by amount, the table is grouped under a heading per currency.
    html = unescape((await client.get("/expenses?sort=amount", headers=HTML)).text)
    headings = re.findall(r'<tr class="group"><th colspan="5" scope="rowgroup">([^<]+)</th></tr>', html)
    assert headings == ["EUR — Euro", "GBP — British Pound", "JPY — Japanese Yen", "USD — US Dollar"]
    client.cookies.clear()


async def test_totals_beyond_the_cap_say_so_instead_of_a_partial_sum(client: Client, user: Session) -> None:
    lines = "".join(f"needle {i},1.00,2024-01-01\n" for i in range(1001))
    data = ("title,amount,spent_on\n" + lines).encode()
    response = await client.post(
        "/api/expenses/import", files={"file": ("n.csv", data, "text/csv")}, headers=user.headers
    )
    assert response.status_code == 201
    totals = (await client.get("/api/expenses/totals?q=needle", headers=user.headers)).json()
    assert totals == {"count": 1000, "count_capped": True, "currencies": []}
    exact = (await client.get("/api/expenses/totals?from=2024-01-01", headers=user.headers)).json()
    assert exact == {
        "count": 1001,
        "count_capped": False,
        "currencies": [{"currency": "USD", "total": "1001.00", "count": 1001}],
    }
    client.cookies.set(SESSION_COOKIE, user.token)
    html = (await client.get("/expenses?q=needle", headers=HTML)).text
    assert "More than 1,000 expenses match: narrow the filters to see their total." in html
    client.cookies.clear()


# (query, input id, message shown next to it)
BAD_FILTERS = [
    ("from=2026-13-01", "from", "Must be a date as YYYY-MM-DD"),
    ("to=tomorrow", "to", "Must be a date as YYYY-MM-DD"),
    ("from=2024-03-05&to=2024-03-01", "from", "Must not be after 'to'"),
    ("min_amount=abc", "min", "Use the format 1,234.56"),
    ("max_amount=1e5", "max", "Use the format 1,234.56"),
    ("min_amount=9&max_amount=2", "min", "Must not exceed max_amount"),
    ("category_id=groceries", "category", "Is not a valid id"),
    ("currency=ZZZ", "flt-currency", "Must be an ISO 4217 currency code such as USD or EUR"),
    ("sort=cheapest", "sort", "Must be one of spent_on, -spent_on, amount, -amount, created_at"),
]


def _error_id(input_id: str) -> str:
    return "flt-e-currency" if input_id == "flt-currency" else f"e-{input_id}"


@pytest.mark.parametrize(("query", "input_id", "message"), BAD_FILTERS)
async def test_a_bad_filter_is_shown_next_to_its_field(
    client: Client, user: Session, query: str, input_id: str, message: str
) -> None:
    await client.post("/api/expenses", json={"title": "Tea", "amount": "2"}, headers=user.headers)
    client.cookies.set(SESSION_COOKIE, user.token)
    response = await client.get(f"/expenses?{query}", headers=HTML)
    client.cookies.clear()
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "Bad Request" not in html
    assert '<form method="get" action="/expenses" class="filters card"' in html
    field = re.search(rf'<(input|select) id="{input_id}"[^>]*>', html)
    assert field is not None, html[:2000]
    assert f'aria-invalid="true" aria-describedby="{_error_id(input_id)}"' in field.group(0)
    assert f'<p id="{_error_id(input_id)}" class="error" role="alert">{message}</p>' in unescape(html)
    assert 'data-expense-id="' not in html  # nothing listed under a filter that did not apply
    # What was typed stays in the field, to be corrected.
    name, _, value = query.split("&", maxsplit=1)[0].partition("=")
    if name not in {"category_id", "currency", "sort"}:
        assert f'name="{name}" type=' in html
        assert f'value="{value}"' in html
    # The API answers the same query with problem+json, naming the field.
    api = await client.get(f"/api/expenses/totals?{query}", headers=user.headers)
    assert api.status_code == 400
    assert api.headers["content-type"].startswith("application/problem+json")


async def test_every_bad_filter_is_named_at_once(client: Client, user: Session) -> None:
    client.cookies.set(SESSION_COOKIE, user.token)
    html = (await client.get("/expenses?from=2026-13-01&min_amount=abc&currency=ZZZ", headers=HTML)).text
    client.cookies.clear()
    for error_id in ("e-from", "e-min", "flt-e-currency"):
        assert f'<p id="{error_id}" class="error"' in html
    api = await client.get("/api/expenses?from=2026-13-01&min_amount=abc&currency=ZZZ", headers=user.headers)
    assert {e["field"] for e in api.json()["errors"]} == {"from", "min_amount", "currency"}


@pytest.mark.parametrize(
    ("query", "input_id", "message"),
    [
        ("from=2026-13-01", "from", "Must be a date as YYYY-MM-DD"),
        ("to=2026-02-30", "to", "Must be a date as YYYY-MM-DD"),
        ("month=2026-13", "month", "Must be YYYY-MM, years 1900 to 9998"),
    ],
)
async def test_reports_page_shows_a_bad_parameter_inline(
    client: Client, user: Session, query: str, input_id: str, message: str
) -> None:
    client.cookies.set(SESSION_COOKIE, user.token)
    response = await client.get(f"/reports?{query}", headers=HTML)
    client.cookies.clear()
    assert response.status_code == 400
    html = unescape(response.text)
    assert "Bad Request" not in html
    field = re.search(rf'<input id="{input_id}"[^>]*>', html)
    assert field is not None
    assert f'aria-invalid="true" aria-describedby="e-{input_id}"' in field.group(0)
    assert f'<p id="e-{input_id}" class="error" role="alert">{message}</p>' in html
    assert 'data-testid="budget-table"' in html  # the rest of the page is there, with its defaults
    api = await client.get(f"/api/reports/budget?{query}", headers=user.headers)
    if input_id == "month":
        assert api.status_code == 400
        assert api.headers["content-type"].startswith("application/problem+json")


async def test_migration_0007_swaps_the_amount_index_both_ways(
    client: Client, user: Session, database_url: str, backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("migrations are tested up and down on PostgreSQL")
    before = await seed(client, user)
    engine = create_async_engine(database_url)

    async def indexes() -> set[str]:
        async with engine.connect() as connection:
            found = await connection.run_sync(lambda sync: inspect(sync).get_indexes("expense"))
        return {i["name"] for i in found if i["name"]}

    try:
        assert {"ix_expense_user_currency_amount_id"} <= await indexes()
        run_migration(database_url, "downgrade", "0006")
        names = await indexes()
        assert "ix_expense_user_amount_id" in names
        assert "ix_expense_user_currency_amount_id" not in names
        run_migration(database_url, "upgrade")
        names = await indexes()
        assert "ix_expense_user_currency_amount_id" in names
        assert "ix_expense_user_amount_id" not in names
    finally:
        await engine.dispose()
    after = (await client.get("/api/expenses?limit=200", headers=user.headers)).json()["items"]
    assert after == before  # every expense keeps its amount and currency


async def test_openapi_documents_the_currency_filter_and_the_totals(client: Client) -> None:
    schema = (await client.get("/api/openapi.json")).json()
    for path in ("/api/expenses", "/api/expenses/export.csv", "/api/expenses/totals"):
        params = {p["name"]: p for p in schema["paths"][path]["get"]["parameters"]}
        assert params["currency"]["in"] == "query", path
        assert "ISO 4217" in params["currency"]["description"]
    listing = {p["name"]: p for p in schema["paths"]["/api/expenses"]["get"]["parameters"]}
    assert "then amount" in listing["sort"]["description"]
    totals = schema["components"]["schemas"]["ExpenseTotals"]
    assert set(totals["required"]) == {"count", "count_capped", "currencies"}
    assert "1000" in totals["properties"]["count_capped"]["description"]
    assert set(schema["components"]["schemas"]["CurrencySum"]["required"]) == {"currency", "total", "count"}
    # Its own name: the reports' CurrencyTotal keeps its name in the schema (no module-prefixed duplicates).
    assert "CurrencyTotal" in schema["components"]["schemas"]
