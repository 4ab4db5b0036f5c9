from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import Session

Client = AsyncTestClient[Litestar]


async def create(client: Client, user: Session, **body: Any) -> dict[str, Any]:
    payload = {"title": "Coffee", "amount": "3.50", **body}
    response = await client.post("/api/expenses", json=payload, headers=user.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_create_applies_user_defaults(client: Client, user: Session) -> None:
    expense = await create(client, user, title="  Lunch  ", amount="12.3")
    assert expense["title"] == "Lunch"
    assert expense["amount"] == "12.30"
    assert expense["currency"] == "USD"
    assert expense["spent_on"] == dt.datetime.now(dt.UTC).date().isoformat()
    assert expense["category_id"] is None
    for stamp in ("created_at", "updated_at"):
        assert dt.datetime.fromisoformat(expense[stamp]).utcoffset() == dt.timedelta(0)
    fetched = await client.get(f"/api/expenses/{expense['id']}", headers=user.headers)
    assert fetched.json() == expense


async def test_spent_on_defaults_to_today_in_the_users_timezone(client: Client, user: Session) -> None:
    response = await client.put(
        "/api/settings",
        json={"currency": "EUR", "theme": "dark", "timezone": "Pacific/Kiritimati"},
        headers=user.headers,
    )
    assert response.status_code == 200
    expense = await create(client, user)
    kiritimati_today = dt.datetime.now(dt.timezone(dt.timedelta(hours=14))).date()
    assert expense["spent_on"] == kiritimati_today.isoformat()
    assert expense["currency"] == "EUR"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "", "amount": "1"}, "title"),
        ({"title": "x" * 201, "amount": "1"}, "title"),
        ({"title": "ok", "amount": "0"}, "amount"),
        ({"title": "ok", "amount": "12.345"}, "amount"),
        ({"title": "ok", "amount": "-1000000000.00"}, "amount"),
        ({"title": "ok", "amount": "1000000000.00"}, "amount"),
        ({"title": "ok", "amount": "abc"}, "amount"),
        ({"title": "ok", "amount": "NaN"}, "amount"),
        ({"title": "ok", "amount": "1", "currency": "XYZ"}, "currency"),
        ({"title": "ok", "amount": "1", "notes": "n" * 2001}, "notes"),
        ({"title": "ok", "amount": "1", "spent_on": "2024-02-30"}, "spent_on"),
        ({"title": "ok", "amount": "1", "unknown": 1}, "unknown"),
        ({"amount": "1"}, "title"),
    ],
)
async def test_invalid_bodies_are_problem_details_naming_the_field(
    client: Client, user: Session, body: dict[str, Any], field: str
) -> None:
    response = await client.post("/api/expenses", json=body, headers=user.headers)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 400
    assert field in {e["field"] for e in problem["errors"]} or field in problem["errors"][0]["message"], problem
    listing = await client.get("/api/expenses", headers=user.headers)
    assert listing.json()["total"] == 0


async def test_max_amount_is_accepted(client: Client, user: Session) -> None:
    expense = await create(client, user, amount="999999999.99")
    assert expense["amount"] == "999999999.99"


async def test_patch_changes_only_sent_fields_and_null_clears_category(client: Client, user: Session) -> None:
    categories = (await client.get("/api/categories", headers=user.headers)).json()
    food = next(c for c in categories if c["name"] == "Food")
    expense = await create(client, user, category_id=food["id"], notes="keep me", spent_on="2024-05-01")
    response = await client.patch(f"/api/expenses/{expense['id']}", json={"amount": "7.5"}, headers=user.headers)
    assert response.status_code == 200
    patched = response.json()
    assert patched["amount"] == "7.50"
    assert patched["notes"] == "keep me"
    assert patched["category_id"] == food["id"]
    assert patched["spent_on"] == "2024-05-01"
    cleared = await client.patch(f"/api/expenses/{expense['id']}", json={"category_id": None}, headers=user.headers)
    assert cleared.json()["category_id"] is None
    bad = await client.patch(f"/api/expenses/{expense['id']}", json={"title": ""}, headers=user.headers)
    assert bad.status_code == 400
    assert (await client.get(f"/api/expenses/{expense['id']}", headers=user.headers)).json()["title"] == "Coffee"


async def test_delete_then_404(client: Client, user: Session) -> None:
    expense = await create(client, user)
    assert (await client.delete(f"/api/expenses/{expense['id']}", headers=user.headers)).status_code == 204
    missing = await client.get(f"/api/expenses/{expense['id']}", headers=user.headers)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert (await client.delete(f"/api/expenses/{expense['id']}", headers=user.headers)).status_code == 404


async def test_list_filters_sorting_and_pagination(client: Client, user: Session) -> None:
    categories = {c["name"]: c["id"] for c in (await client.get("/api/categories", headers=user.headers)).json()}
    rows = [
        ("Groceries", "45.10", "2024-03-01", "Food", "weekly shop"),
        ("Bus pass", "60.00", "2024-03-02", "Transport", ""),
        ("Cinema 100%", "12.00", "2024-03-02", "Entertainment", "with_friends"),
        ("Bakery", "4.20", "2024-02-28", "Food", ""),
        ("Rent", "900.00", "2024-03-01", "Housing", "march"),
    ]
    for title, amount, day, category, notes in rows:
        await create(
            client, user, title=title, amount=amount, spent_on=day, category_id=categories[category], notes=notes
        )

    async def titles(query: str) -> list[str]:
        response = await client.get(f"/api/expenses?{query}", headers=user.headers)
        assert response.status_code == 200, response.text
        return [item["title"] for item in response.json()["items"]]

    default = await titles("")
    assert default[:2] == sorted(["Bus pass", "Cinema 100%"], reverse=True) or set(default[:2]) == {
        "Bus pass",
        "Cinema 100%",
    }
    assert default[-1] == "Bakery"
    assert await titles("sort=amount") == ["Bakery", "Cinema 100%", "Groceries", "Bus pass", "Rent"]
    assert await titles("sort=-amount&limit=2") == ["Rent", "Bus pass"]
    assert await titles("sort=-amount&limit=2&offset=2") == ["Groceries", "Cinema 100%"]
    assert set(await titles("from=2024-03-01&to=2024-03-01")) == {"Groceries", "Rent"}
    assert await titles(f"category_id={categories['Food']}&sort=spent_on") == ["Bakery", "Groceries"]
    assert await titles("q=SHOP") == ["Groceries"]
    assert await titles("q=100%25") == ["Cinema 100%"]
    assert await titles("q=_") == ["Cinema 100%"]
    assert await titles("min_amount=12&max_amount=60&sort=amount") == ["Cinema 100%", "Groceries", "Bus pass"]
    page = (await client.get("/api/expenses?limit=2&offset=1", headers=user.headers)).json()
    assert page["total"] == 5
    assert page["limit"] == 2
    assert page["offset"] == 1
    assert len(page["items"]) == 2


async def test_stable_tiebreak_on_id(client: Client, user: Session) -> None:
    ids = [(await create(client, user, spent_on="2024-01-01", amount="1.00"))["id"] for _ in range(6)]
    seen = []
    for offset in range(0, 6, 2):
        page = await client.get(f"/api/expenses?limit=2&offset={offset}&sort=amount", headers=user.headers)
        seen += [item["id"] for item in page.json()["items"]]
    assert seen == sorted(ids, key=uuid.UUID)
    default = await client.get("/api/expenses?limit=6", headers=user.headers)
    assert [i["id"] for i in default.json()["items"]] == sorted(ids, key=uuid.UUID, reverse=True)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=201", "limit"),
        ("limit=0", "limit"),
        ("offset=-1", "offset"),
        ("sort=title", "sort"),
        ("from=2024-02-01&to=2024-01-01", "from"),
        ("from=yesterday", "from"),
        ("min_amount=abc", "min_amount"),
        ("min_amount=5&max_amount=1", "min_amount"),
        ("category_id=not-a-uuid", "category_id"),
    ],
)
async def test_bad_list_queries_are_400(client: Client, user: Session, query: str, field: str) -> None:
    response = await client.get(f"/api/expenses?{query}", headers=user.headers)
    assert response.status_code == 400, response.text
    assert field in {e["field"] for e in response.json()["errors"]}


async def test_category_must_belong_to_the_user(client: Client, user: Session, other_user: Session) -> None:
    theirs = (await client.get("/api/categories", headers=other_user.headers)).json()[0]["id"]
    response = await client.post(
        "/api/expenses", json={"title": "x", "amount": "1", "category_id": theirs}, headers=user.headers
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "category_id", "message": "is not one of your categories"}]
    mine = await create(client, user)
    patched = await client.patch(f"/api/expenses/{mine['id']}", json={"category_id": theirs}, headers=user.headers)
    assert patched.status_code == 400
    assert (await client.get(f"/api/expenses/{mine['id']}", headers=user.headers)).json()["category_id"] is None


async def test_cross_user_isolation_matrix(client: Client, user: Session, other_user: Session) -> None:
    """For every route taking an id, user B gets 404 for A's object, and A's object is unchanged afterwards."""
    expense = await create(client, user, title="A's secret", amount="42.00")
    category = (await client.get("/api/categories", headers=user.headers)).json()[0]
    other_category = (await client.get("/api/categories", headers=other_user.headers)).json()[0]
    attempts = [
        ("GET", f"/api/expenses/{expense['id']}", None),
        ("PATCH", f"/api/expenses/{expense['id']}", {"title": "hijacked"}),
        ("DELETE", f"/api/expenses/{expense['id']}", None),
        ("GET", f"/api/categories/{category['id']}", None),
        ("PATCH", f"/api/categories/{category['id']}", {"name": "hijacked"}),
        ("DELETE", f"/api/categories/{category['id']}", None),
        ("DELETE", f"/api/categories/{other_category['id']}?reassign_to={category['id']}", None),
    ]
    for method, url, body in attempts:
        response = await client.request(method, url, json=body, headers=other_user.headers)
        expected = 400 if "reassign_to" in url else 404
        assert response.status_code == expected, (method, url, response.text)
        assert "A's secret" not in response.text
    assert (await client.get(f"/api/expenses/{expense['id']}", headers=user.headers)).json() == expense
    assert (await client.get(f"/api/categories/{category['id']}", headers=user.headers)).json() == category
    listing = (await client.get("/api/expenses?q=secret", headers=other_user.headers)).json()
    assert listing["total"] == 0
    assert (await client.get(f"/api/expenses/{uuid.uuid4()}", headers=user.headers)).status_code == 404


async def test_routes_require_authentication(client: Client) -> None:
    for method, url in [
        ("GET", "/api/me"),
        ("GET", "/api/expenses"),
        ("POST", "/api/expenses"),
        ("GET", "/api/categories"),
        ("GET", "/api/reports/summary"),
        ("GET", "/api/settings"),
        ("GET", "/api/expenses/export.csv"),
    ]:
        response = await client.request(method, url)
        assert response.status_code == 401, (method, url)
        assert response.headers["content-type"].startswith("application/problem+json")
