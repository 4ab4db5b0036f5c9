"""Crafted inputs from the pre-launch attack (issue #10): every one is a clear 4xx, never a 500, never stored.

Each case runs on SQLite and PostgreSQL (PostgreSQL is the one that rejects NUL bytes and over-long strings).
"""

from __future__ import annotations

import re
import uuid
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from litestar import Litestar
from litestar.testing import AsyncTestClient

from expense_tracker.constants import CSRF_COOKIE, SESSION_COOKIE
from expense_tracker.lib.money import parse_amount
from tests.conftest import HTML, Session, sign_in

Client = AsyncTestClient[Litestar]
PROBLEM = "application/problem+json"


def assert_problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    if field is not None:
        assert field in {e["field"] for e in problem.get("errors", [])}, problem
    return problem


async def expense_count(client: Client, user: Session) -> int:
    response = await client.get("/api/expenses", headers=user.headers)
    assert response.status_code == 200, response.text
    return int(response.json()["total"])


async def html_form(client: Client, user: Session, path: str, data: dict[str, str], page: str) -> Any:
    """POST a form as the browser does (session cookie + CSRF token taken from ``page``)."""
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, user.token)
    assert (await client.get(page, headers=HTML)).status_code == 200
    token = client.cookies.get(CSRF_COOKIE)
    try:
        return await client.post(path, data={**data, "_csrf_token": token or ""}, headers=HTML)
    finally:
        client.cookies.clear()


def assert_form_error(response: Any, text: str) -> None:
    assert response.status_code == 400, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    assert text in response.text, response.text[:3000]


BAD_AMOUNTS: list[Any] = [
    1e26,
    "1e26",
    "1E+26",
    10**26,
    123456789012345678901234567,
    "123456789012345678901234567",
    "1_000",
    "+5",
    "\u0665",  # Arabic-Indic five
    "\uff15",  # full-width five
    "5\u00a0",
    "1,0,0",
    "Infinity",
    "-0",
    "0x10",
    "5.",
    ".5",
]


@pytest.mark.parametrize("amount", BAD_AMOUNTS, ids=repr)
async def test_bad_amounts_are_400_on_create_and_update(client: Client, user: Session, amount: Any) -> None:
    assert_problem(await client.post("/api/expenses", json={"title": "x", "amount": amount}, headers=user.headers), 400)
    created = await client.post("/api/expenses", json={"title": "keep", "amount": "7.00"}, headers=user.headers)
    expense_id = created.json()["id"]
    patched = await client.patch(f"/api/expenses/{expense_id}", json={"amount": amount}, headers=user.headers)
    assert_problem(patched, 400)
    kept = await client.get(f"/api/expenses/{expense_id}", headers=user.headers)
    assert kept.json()["amount"] == "7.00"
    assert await expense_count(client, user) == 1


async def test_json_numbers_beyond_float_range_are_400(client: Client, user: Session) -> None:
    for raw in (b'{"title": "x", "amount": 1e309}', b'{"title": "x", "amount": 123456789012345678901234567}'):
        response = await client.post(
            "/api/expenses", content=raw, headers={**user.headers, "content-type": "application/json"}
        )
        assert_problem(response, 400)
    assert await expense_count(client, user) == 0


@pytest.mark.parametrize("amount", ["1,000.50", " 12.50 ", "12.3", "0012"])
async def test_plain_ascii_amounts_still_work(client: Client, user: Session, amount: str) -> None:
    expected = {"1,000.50": "1000.50", " 12.50 ": "12.50", "12.3": "12.30", "0012": "12.00"}[amount]
    response = await client.post("/api/expenses", json={"title": "ok", "amount": amount}, headers=user.headers)
    assert response.status_code == 201, response.text
    assert response.json()["amount"] == expected


@pytest.mark.parametrize("budget", ["1e30", 1e30, "\uff15", "+5", "1_000"], ids=repr)
async def test_bad_budgets_are_400(client: Client, user: Session, budget: Any) -> None:
    body = {"name": f"c-{uuid.uuid4().hex[:8]}", "monthly_budget": budget}
    assert_problem(await client.post("/api/categories", json=body, headers=user.headers), 400, "monthly_budget")
    created = await client.post("/api/categories", json={"name": "ok"}, headers=user.headers)
    patched = await client.patch(
        f"/api/categories/{created.json()['id']}", json={"monthly_budget": budget}, headers=user.headers
    )
    assert_problem(patched, 400, "monthly_budget")


@pytest.mark.parametrize("raw", ["1e27", "1e26", "\u0665", "1_0", "+1", "NaN"])
async def test_bad_amount_filters_are_400(client: Client, user: Session, raw: str) -> None:
    for name in ("min_amount", "max_amount"):
        response = await client.get("/api/expenses", params={name: raw}, headers=user.headers)
        assert_problem(response, 400, name)
        export = await client.get("/api/expenses/export.csv", params={name: raw}, headers=user.headers)
        assert_problem(export, 400, name)
        client.cookies.set(SESSION_COOKIE, user.token)
        page = await client.get("/expenses", params={name: raw}, headers=HTML)
        client.cookies.clear()
        assert page.status_code == 400, page.text[:300]
        assert page.headers["content-type"].startswith("text/html")
        assert "Use the format 1,234.56" in page.text  # next to its field, in the locale (en_US by default)
        assert 'aria-invalid="true" aria-describedby="e-' in page.text


@pytest.mark.parametrize("amount", ["1e26", "\u0665", "+5", "1_000", "\uff15"])
async def test_expense_form_refuses_bad_amounts_inline(client: Client, user: Session, amount: str) -> None:
    response = await html_form(client, user, "/expenses", {"title": "Lunch", "amount": amount}, "/expenses/new")
    assert_form_error(response, "Use the format 1,234.56")
    assert await expense_count(client, user) == 0


async def test_category_form_refuses_huge_budget_inline(client: Client, user: Session) -> None:
    response = await html_form(
        client, user, "/categories", {"name": "Big", "color": "#112233", "monthly_budget": "1e30"}, "/categories"
    )
    assert_form_error(response, "Use the format 1,234.56")


@pytest.mark.parametrize("field", ["spent_on", "category_id", "currency"])
async def test_the_string_null_is_not_a_missing_value_in_forms(client: Client, user: Session, field: str) -> None:
    response = await html_form(
        client, user, "/expenses", {"title": "Lunch", "amount": "5", field: "null"}, "/expenses/new"
    )
    assert response.status_code == 400, response.text[:300]
    assert await expense_count(client, user) == 0


@pytest.mark.parametrize("path", ["/api/reports/summary", "/api/reports/by-category", "/api/expenses"])
@pytest.mark.parametrize("param", ["from", "to"])
async def test_the_string_null_is_not_a_date_in_queries(client: Client, user: Session, path: str, param: str) -> None:
    assert_problem(await client.get(path, params={param: "null"}, headers=user.headers), 400, param)


async def test_the_string_null_is_not_a_date_on_the_reports_page(client: Client, user: Session) -> None:
    client.cookies.set(SESSION_COOKIE, user.token)
    response = await client.get("/reports", params={"from": "null"}, headers=HTML)
    client.cookies.clear()
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")


NUL = "a\x00b"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": NUL, "amount": "1"}, "title"),
        ({"title": "ok", "amount": "1", "notes": NUL}, "notes"),
    ],
)
async def test_nul_bytes_in_expense_text_are_400(
    client: Client, user: Session, body: dict[str, str], field: str
) -> None:
    assert_problem(await client.post("/api/expenses", json=body, headers=user.headers), 400, field)
    created = await client.post("/api/expenses", json={"title": "ok", "amount": "1"}, headers=user.headers)
    patched = await client.patch(f"/api/expenses/{created.json()['id']}", json={field: NUL}, headers=user.headers)
    assert_problem(patched, 400, field)


async def test_nul_bytes_in_category_names_are_400(client: Client, user: Session) -> None:
    assert_problem(await client.post("/api/categories", json={"name": NUL}, headers=user.headers), 400, "name")
    created = await client.post("/api/categories", json={"name": "Fine"}, headers=user.headers)
    patched = await client.patch(f"/api/categories/{created.json()['id']}", json={"name": NUL}, headers=user.headers)
    assert_problem(patched, 400, "name")


async def test_nul_bytes_at_dev_login_are_400(client: Client) -> None:
    assert_problem(await client.post("/auth/dev-login", json={"email": "nul@example.com", "name": NUL}), 400, "name")
    assert_problem(await client.post("/auth/dev-login", json={"email": "n\x00l@example.com"}), 400, "email")


async def test_nul_bytes_in_the_search_query_are_400(client: Client, user: Session) -> None:
    assert_problem(await client.get("/api/expenses", params={"q": NUL}, headers=user.headers), 400, "q")
    client.cookies.set(SESSION_COOKIE, user.token)
    page = await client.get("/expenses", params={"q": NUL}, headers=HTML)
    client.cookies.clear()
    assert page.status_code == 400
    assert page.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize(
    ("path", "page", "data", "message"),
    [
        ("/expenses", "/expenses/new", {"title": NUL, "amount": "1"}, "Must not contain NUL characters"),
        ("/expenses", "/expenses/new", {"title": "ok", "amount": "1", "notes": NUL}, "Must not contain NUL characters"),
        ("/categories", "/categories", {"name": NUL, "color": "#112233"}, "Must not contain NUL characters"),
    ],
)
async def test_nul_bytes_in_forms_are_shown_inline(
    client: Client, user: Session, path: str, page: str, data: dict[str, str], message: str
) -> None:
    assert_form_error(await html_form(client, user, path, data, page), message)


@pytest.mark.parametrize("offset", ["9223372036854775808", "1000001", "99999999999999999999999"])
async def test_offsets_beyond_the_documented_bound_are_400(client: Client, user: Session, offset: str) -> None:
    assert_problem(await client.get("/api/expenses", params={"offset": offset}, headers=user.headers), 400, "offset")
    client.cookies.set(SESSION_COOKIE, user.token)
    page = await client.get("/expenses", params={"offset": offset}, headers=HTML)
    client.cookies.clear()
    assert page.status_code == 400
    assert page.headers["content-type"].startswith("text/html")


async def test_the_largest_documented_offset_is_served(client: Client, user: Session) -> None:
    response = await client.get("/api/expenses", params={"offset": "1000000"}, headers=user.headers)
    assert response.status_code == 200, response.text
    assert response.json()["items"] == []


@pytest.mark.parametrize("limit", ["9223372036854775808", "201", "0", "-1"])
async def test_limits_outside_the_bound_are_400(client: Client, user: Session, limit: str) -> None:
    assert_problem(await client.get("/api/expenses", params={"limit": limit}, headers=user.headers), 400, "limit")


@pytest.mark.parametrize("month", ["9999-12", "0000-01", "0001-01", "1899-12", "10000-01"])
async def test_budget_months_outside_the_year_range_are_400(client: Client, user: Session, month: str) -> None:
    assert_problem(await client.get("/api/reports/budget", params={"month": month}, headers=user.headers), 400, "month")


async def test_budget_months_at_the_edges_of_the_range_work(client: Client, user: Session) -> None:
    for month in ("1900-01", "9998-12"):
        response = await client.get("/api/reports/budget", params={"month": month}, headers=user.headers)
        assert response.status_code == 200, response.text
        assert response.json()["month"] == month


@pytest.mark.parametrize(
    "params",
    [
        {"from": "0001-01-01", "to": "9999-12-31"},
        {"from": "9999-12-31"},
        {"to": "0001-01-01", "from": "0001-01-01"},
    ],
)
async def test_report_periods_at_the_ends_of_the_calendar_do_not_fail(
    client: Client, user: Session, params: dict[str, str]
) -> None:
    for path in ("/api/reports/summary", "/api/reports/by-category", "/api/expenses"):
        response = await client.get(path, params=params, headers=user.headers)
        assert response.status_code in {200, 400}, (path, response.text)
    client.cookies.set(SESSION_COOKIE, user.token)
    page = await client.get("/reports", params=params, headers=HTML)
    client.cookies.clear()
    assert page.status_code in {200, 400}, page.text[:300]


async def test_an_email_longer_than_the_identity_column_is_400(client: Client) -> None:
    email = "a" * 250 + "@example.com"  # 262 characters: over 254 (RFC 5321) and over the 255 of the subject column
    assert_problem(await client.post("/auth/dev-login", json={"email": email}), 400, "email")
    assert_problem(await client.post("/auth/dev-login", json={"email": "c" * 65 + "@example.com"}), 400, "email")
    longest = "b" * 64 + "@" + "d" * 177 + ".example.com"  # exactly 254, with the longest local part (64)
    assert len(longest) == 254
    signed_in = await client.post("/auth/dev-login", json={"email": longest})
    assert signed_in.status_code == 200, signed_in.text
    client.cookies.clear()


async def test_sign_in_helper_still_works(client: Client) -> None:
    assert (await sign_in(client)).token


_ASCII_AMOUNT = re.compile(r"[ \t]*-?([0-9]+|[0-9]{1,3}(,[0-9]{3})+)(\.[0-9]+)?[ \t]*")


@given(st.one_of(st.text(max_size=40), st.from_regex(r"\A[0-9\u0660-\u0669\uff10-\uff19_+eE.,\-]{1,30}\Z")))
@settings(max_examples=500)
def test_parse_amount_only_ever_raises_value_error(text: str) -> None:
    """Whatever a client types, the root parser answers a Decimal or a ValueError (a 400), nothing else."""
    try:
        amount = parse_amount(text)
    except ValueError:
        return
    assert _ASCII_AMOUNT.fullmatch(text), text  # only the documented ASCII grammar gets through
    assert Decimal("-999999999.99") <= amount <= Decimal("999999999.99")
    assert amount != 0
