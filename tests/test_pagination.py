"""Keyset (cursor) pagination and capped counts of the expense listing, through the API and the list page.

Expected orders are recomputed here from the raw rows (one unpaged listing, sorted in Python by the documented key:
sort value, then id); expected counts and the cap are literals.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import uuid
from collections.abc import Callable
from decimal import Decimal
from html import unescape
from typing import Any
from urllib.parse import quote

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import Session
from tests.test_web import browse

Client = AsyncTestClient[Litestar]
DASH = "\N{EN DASH}"  # "Showing 1-25" is typeset with an en dash
SORTS = ["-spent_on", "spent_on", "amount", "-amount", "created_at"]

# Ties on purpose: three rows share 2024-03-01, three share 5.00, two share 12.50 (the id decides between them).
ROWS = [
    ("Groceries", "5.00", "2024-03-01", "weekly shop"),
    ("Bus pass", "12.50", "2024-03-01", ""),
    ("Cinema", "5.00", "2024-03-01", "with friends"),
    ("Bakery", "4.20", "2024-02-28", ""),
    ("Rent", "900.00", "2024-03-02", "march"),
    ("Coffee", "5.00", "2024-03-02", "shop round the corner"),
    ("Taxi", "12.50", "2024-02-28", ""),
    ("Book", "19.99", "2024-01-15", "shop"),
    ("Lunch", "9.10", "2024-03-02", ""),
    ("Gift", "30.00", "2023-12-24", ""),
    ("Snack", "1.75", "2024-03-01", ""),
]


async def import_csv(client: Client, user: Session, lines: list[str]) -> None:
    data = ("title,amount,spent_on,notes\n" + "\n".join(lines) + "\n").encode()
    response = await client.post(
        "/api/expenses/import", files={"file": ("expenses.csv", data, "text/csv")}, headers=user.headers
    )
    assert response.status_code == 201, response.text


async def seed(client: Client, user: Session) -> list[dict[str, Any]]:
    """The rows above: most in one import (created_at may tie within it), the last three one by one."""
    await import_csv(client, user, [",".join(row) for row in ROWS[:-3]])
    for title, amount, day, notes in ROWS[-3:]:
        body = {"title": title, "amount": amount, "spent_on": day, "notes": notes}
        assert (await client.post("/api/expenses", json=body, headers=user.headers)).status_code == 201
    everything = (await client.get("/api/expenses?limit=200", headers=user.headers)).json()
    assert everything["total"] == len(ROWS)
    return list(everything["items"])


def expected_order(rows: list[dict[str, Any]], sort: str) -> list[str]:
    """The documented order: by the sort's value, ties broken by id, both reversed for a descending sort."""
    field = sort.removeprefix("-")
    value: dict[str, Callable[[Any], Any]] = {
        "spent_on": dt.date.fromisoformat,
        "amount": Decimal,
        "created_at": dt.datetime.fromisoformat,
    }
    ordered = sorted(rows, key=lambda r: (value[field](r[field]), uuid.UUID(r["id"])), reverse=sort.startswith("-"))
    return [r["id"] for r in ordered]


async def walk(client: Client, user: Session, query: str) -> tuple[list[str], list[dict[str, Any]]]:
    """Every page of ``query`` by following ``next_cursor``: (ids in order, the pages)."""
    ids: list[str] = []
    pages: list[dict[str, Any]] = []
    cursor = None
    while True:
        url = f"/api/expenses?{query}" + (f"&cursor={cursor}" if cursor else "")
        response = await client.get(url, headers=user.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page)
        ids += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return ids, pages
        assert len(pages) < 50, "the walk does not end"


@pytest.mark.parametrize("sort", SORTS)
async def test_walking_by_cursor_returns_every_row_once_in_order(client: Client, user: Session, sort: str) -> None:
    rows = await seed(client, user)
    ids, pages = await walk(client, user, f"sort={sort}&limit=2")
    assert ids == expected_order(rows, sort)
    assert len(pages) == 6  # 11 rows, 2 a page: the last page holds one row and has no next cursor
    assert [len(p["items"]) for p in pages] == [2, 2, 2, 2, 2, 1]
    assert all(p["total"] == 11 and p["total_capped"] is False for p in pages)
    # A cursor is url-safe as issued: no character needs escaping in a query string.
    assert all(quote(p["next_cursor"], safe="") == p["next_cursor"] for p in pages[:-1])


async def test_exact_fit_has_no_empty_last_page(client: Client, user: Session) -> None:
    await seed(client, user)
    first = (await client.get("/api/expenses?limit=11", headers=user.headers)).json()
    assert len(first["items"]) == 11
    assert first["next_cursor"] is None
    ten = (await client.get("/api/expenses?limit=10", headers=user.headers)).json()
    last = await client.get(f"/api/expenses?limit=10&cursor={ten['next_cursor']}", headers=user.headers)
    assert len(last.json()["items"]) == 1
    assert last.json()["next_cursor"] is None


async def test_cursor_continues_an_offset_page(client: Client, user: Session) -> None:
    rows = await seed(client, user)
    page = (await client.get("/api/expenses?sort=amount&limit=3&offset=4", headers=user.headers)).json()
    rest = await client.get(f"/api/expenses?sort=amount&limit=200&cursor={page['next_cursor']}", headers=user.headers)
    assert [i["id"] for i in page["items"] + rest.json()["items"]] == expected_order(rows, "amount")[4:]


@pytest.mark.parametrize(
    ("query", "keep"),
    [
        ("q=shop", lambda r: "shop" in (r["title"] + " " + r["notes"]).lower()),
        ("from=2024-03-01&to=2024-03-02", lambda r: "2024-03-01" <= r["spent_on"] <= "2024-03-02"),
        ("min_amount=5&max_amount=12.50", lambda r: Decimal("5") <= Decimal(r["amount"]) <= Decimal("12.50")),
    ],
)
@pytest.mark.parametrize("sort", ["-spent_on", "amount"])
async def test_filters_apply_to_every_cursor_page(
    client: Client, user: Session, query: str, keep: Callable[[dict[str, Any]], bool], sort: str
) -> None:
    rows = await seed(client, user)
    wanted = [r for r in rows if keep(r)]
    assert 3 <= len(wanted) < len(rows)  # the filter keeps some and drops some
    ids, _ = await walk(client, user, f"{query}&sort={sort}&limit=2")
    assert ids == expected_order(wanted, sort)


async def test_category_filter_with_cursor(client: Client, user: Session) -> None:
    categories = {c["name"]: c["id"] for c in (await client.get("/api/categories", headers=user.headers)).json()}
    for day in ("2024-01-01", "2024-01-01", "2024-01-02", "2024-01-03", "2024-01-03"):
        for name in ("Food", "Transport"):
            body = {"title": name, "amount": "1", "spent_on": day, "category_id": categories[name]}
            assert (await client.post("/api/expenses", json=body, headers=user.headers)).status_code == 201
    ids, pages = await walk(client, user, f"category_id={categories['Food']}&limit=2")
    items = [i for p in pages for i in p["items"]]
    assert len(ids) == 5
    assert {i["title"] for i in items} == {"Food"}
    assert ids == expected_order(items, "-spent_on")


async def test_other_users_rows_never_appear(client: Client, user: Session, other_user: Session) -> None:
    await seed(client, other_user)
    await import_csv(client, user, ["Mine,1.00,2024-03-01,", "Also mine,5.00,2024-03-01,"])
    ids, pages = await walk(client, user, "limit=1")
    assert len(ids) == 2
    assert {i["title"] for p in pages for i in p["items"]} == {"Mine", "Also mine"}


def _tampered(cursor: str) -> str:
    """The same cursor with one payload byte changed (the position 5 becomes 7), re-encoded validly."""
    raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    assert raw.endswith(b",2]")
    raw[-2:-1] = b"7"
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


async def test_bad_cursors_are_400_naming_the_cursor(client: Client, user: Session) -> None:
    await seed(client, user)
    by_amount = (await client.get("/api/expenses?sort=amount&limit=2", headers=user.headers)).json()["next_cursor"]
    newest = (await client.get("/api/expenses?limit=2", headers=user.headers)).json()["next_cursor"]
    cases = {
        "garbage": "cursor=not-a-cursor",
        "not base64": "cursor=%21%21%21%21",
        "empty payload": "cursor=AAAA",
        "tampered": f"cursor={_tampered(newest)}",
        "truncated": f"cursor={newest[:-3]}",
        "other sort": f"cursor={by_amount}&sort=-amount",
        "other sort (default)": f"cursor={by_amount}",
        "with offset": f"cursor={newest}&offset=2",
        "too long": "cursor=" + "A" * 600,
    }
    for name, query in cases.items():
        response = await client.get(f"/api/expenses?{query}", headers=user.headers)
        assert response.status_code == 400, (name, response.text)
        assert response.headers["content-type"].startswith("application/problem+json"), name
        assert "cursor" in {e["field"] for e in response.json()["errors"]}, (name, response.json())
    mismatch = await client.get(f"/api/expenses?cursor={by_amount}", headers=user.headers)
    assert mismatch.json()["errors"][0]["message"].startswith("was made for sort=amount")
    # An offset of 0 is no offset: the cursor alone decides.
    assert (await client.get(f"/api/expenses?cursor={newest}&offset=0", headers=user.headers)).status_code == 200


async def test_cursor_is_refused_by_another_secret(client: Client, user: Session) -> None:
    from expense_tracker.domain.expenses import cursors

    await seed(client, user)
    forged = cursors.encode(
        "another-secret-entirely",
        cursors.Seek(sort="-spent_on", value=dt.date(2024, 3, 1), id=uuid.UUID(int=0), position=2),
    )
    response = await client.get(f"/api/expenses?cursor={forged}", headers=user.headers)
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "cursor", "message": "is not a cursor this server issued"}]


async def test_text_and_amount_counts_stop_at_the_cap(client: Client, user: Session) -> None:
    # 1,000 rows match q=needle (bulk, through one import), 5 do not.
    lines = [f"needle {i},{(i % 50) + 1}.00,2024-01-{(i % 28) + 1:02d}," for i in range(1000)]
    lines += [f"other {i},500.00,2024-02-01," for i in range(5)]
    await import_csv(client, user, lines)

    async def page(query: str) -> dict[str, Any]:
        response = await client.get(f"/api/expenses?{query}", headers=user.headers)
        assert response.status_code == 200, response.text
        return dict(response.json())

    at_cap = await page("q=needle&limit=10")
    assert (at_cap["total"], at_cap["total_capped"]) == (1000, False)  # exactly the cap is still exact
    body = {"title": "needle 1000", "amount": "1.00", "spent_on": "2024-01-01"}
    assert (await client.post("/api/expenses", json=body, headers=user.headers)).status_code == 201
    over = await page("q=needle&limit=10")
    assert (over["total"], over["total_capped"]) == (1000, True)  # "more than 1,000"
    assert len(over["items"]) == 10
    amount = await page("max_amount=400")
    assert (amount["total"], amount["total_capped"]) == (1000, True)
    # Unfiltered and date/category filters stay exact beyond the cap.
    everything = await page("limit=1")
    assert (everything["total"], everything["total_capped"]) == (1006, False)
    january = await page("from=2024-01-01&to=2024-01-31&limit=1")
    assert (january["total"], january["total_capped"]) == (1001, False)
    # A capped result that fits on one page is counted by the page itself: exact.
    few = await page('q="needle 99"')  # a phrase: words alone match in any order
    assert (few["total"], few["total_capped"]) == (11, False)  # "needle 99" and "needle 990" to "needle 999"


async def test_openapi_documents_cursor_and_capped_total(client: Client) -> None:
    schema = (await client.get("/api/openapi.json")).json()
    listing = schema["paths"]["/api/expenses"]["get"]
    params = {p["name"]: p for p in listing["parameters"]}
    assert params["cursor"]["in"] == "query"
    assert "next_cursor" in params["cursor"]["description"]
    page = schema["components"]["schemas"]["ExpensePage"]
    assert {"next_cursor", "total_capped", "total"} <= set(page["required"])
    fields = page["properties"]
    assert "1000" in fields["total"]["description"]
    assert "lower bound" in fields["total_capped"]["description"]
    assert "cursor" in fields["next_cursor"]["description"]


def _rows_and_next(html: str) -> tuple[list[str], str | None, str]:
    ids = re.findall(r'<tr data-expense-id="([0-9a-f-]+)">', html)
    link = re.search(r'<a href="([^"]+)" rel="next">([^<]+)</a>', html)
    count = re.search(r'data-testid="result-count"[^>]*>\s*(.*?)\s*</p>', html, re.DOTALL)
    assert count is not None
    return ids, unescape(link.group(1)) if link else None, unescape(count.group(1))


async def test_list_page_walks_by_older_links(client: Client, user: Session) -> None:
    lines = [f"Item {i:02d},{i + 1}.00,2024-03-{(i % 3) + 1:02d}," for i in range(30)]
    await import_csv(client, user, lines)
    rows = (await client.get("/api/expenses?limit=200", headers=user.headers)).json()["items"]
    html = await browse(client, user, "/expenses?limit=12")
    ids, next_url, count = _rows_and_next(html)
    assert count == f"Showing 1{DASH}12 of 30 expenses"
    assert ">Older →</a>" in html
    seen, counts = list(ids), [count]
    while next_url is not None:
        assert "cursor=" in next_url
        assert "offset=" not in next_url
        html = await browse(client, user, next_url)
        ids, next_url, count = _rows_and_next(html)
        seen += ids
        counts.append(count)
    assert seen == expected_order(rows, "-spent_on")
    assert counts == [
        f"Showing 1{DASH}12 of 30 expenses",
        f"Showing 13{DASH}24 of 30 expenses",
        f"Showing 25{DASH}30 of 30 expenses",
    ]
    assert "Page 3 of 3" in html
    back = re.search(r'<a href="([^"]+)" rel="prev">', html)
    assert back is not None
    assert unescape(back.group(1)) == "/expenses?limit=12&offset=12"
    # Another sort says "Next": the link still carries the sort and the cursor made for it.
    html = await browse(client, user, "/expenses?sort=amount&limit=12")
    _, next_url, _ = _rows_and_next(html)
    assert next_url is not None
    assert "sort=amount" in next_url
    assert ">Next →</a>" in html
    client.cookies.clear()


async def test_list_page_shows_a_capped_count(client: Client, user: Session) -> None:
    await import_csv(client, user, [f"needle {i},1.00,2024-01-01," for i in range(1001)])
    html = await browse(client, user, "/expenses?q=needle")
    _, next_url, count = _rows_and_next(html)
    assert count == f"Showing 1{DASH}25 of 1,000+ expenses"
    assert "Page 1</span>" in html  # no "of N" when N is not known
    assert next_url is not None
    bad = await client.get("/expenses?cursor=garbage", headers={"Accept": "text/html"})
    assert bad.status_code == 400
    assert "cursor" in bad.text
    client.cookies.clear()


@pytest.mark.parametrize("sort", SORTS)
async def test_postgresql_reads_each_cursor_page_in_index_order(database_url: str, sort: str) -> None:
    """The seek the service builds is an index range already in the page's order: no Sort node in the plan.

    Sequential scans are disabled because the test tables are tiny (the planner would rightly scan them); what is
    checked is that an index exists whose order is the page's order, so the page reads only its own rows.
    """
    if not database_url.startswith("postgresql"):
        pytest.skip("plans are checked on PostgreSQL")
    from sqlalchemy import text
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.ext.asyncio import create_async_engine

    from expense_tracker.domain.expenses.cursors import Seek
    from expense_tracker.domain.expenses.schemas import ExpenseFilters
    from expense_tracker.domain.expenses.services import filtered_select, seek_clause

    values: dict[str, Any] = {
        "spent_on": dt.date(2024, 3, 1),
        "amount": Decimal("5.00"),
        "created_at": dt.datetime(2024, 3, 1, tzinfo=dt.UTC),
    }
    currency = "USD" if sort.removeprefix("-") == "amount" else None  # the amount sorts seek within a currency
    seek = Seek(sort=sort, value=values[sort.removeprefix("-")], id=uuid.UUID(int=7), position=50, currency=currency)  # type: ignore[arg-type]
    statement = filtered_select(uuid.UUID(int=1), ExpenseFilters(sort=sort)).where(seek_clause(seek)).limit(51)  # type: ignore[arg-type]
    sql = str(statement.compile(dialect=postgresql.asyncpg.dialect(), compile_kwargs={"literal_binds": True}))
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SET enable_seqscan = off"))
            plan = "\n".join(row[0] for row in await connection.execute(text(f"EXPLAIN {sql}")))
    finally:
        await engine.dispose()
    assert "Sort" not in plan, plan
    assert "Index Scan" in plan, plan
