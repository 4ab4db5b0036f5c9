"""Split payments (issue 15, item 3) through the API, on PostgreSQL and SQLite: the rules of a split, its parts as
expenses, and a split of 42.50 = groceries 30.00 + household 12.50 counted in each category everywhere."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from expense_tracker.constants import SESSION_COOKIE
from tests.conftest import HTML, Session

Client = AsyncTestClient[Litestar]


async def categories(client: Client, user: Session, *names: str) -> dict[str, str]:
    ids = {}
    for name in names:
        response = await client.post("/api/categories", json={"name": name, "color": "#336699"}, headers=user.headers)
        assert response.status_code in (200, 201), response.text
        ids[name] = response.json()["id"]
    return ids


async def expenses(client: Client, user: Session) -> list[dict[str, Any]]:
    response = await client.get("/api/expenses?sort=created_at&limit=100", headers=user.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def receipt(client: Client, user: Session, **extra: Any) -> dict[str, Any]:
    cats = await categories(client, user, "Groceries", "Household")
    body = {
        "title": "Supermarket",
        "amount": "42.50",
        "spent_on": "2026-11-14",
        "parts": [
            {"category_id": cats["Groceries"], "amount": "30.00", "notes": "food"},
            {"category_id": cats["Household"], "amount": "12.50"},
        ],
        **extra,
    }
    response = await client.post("/api/splits", json=body, headers=user.headers)
    assert response.status_code == 201, response.text
    split: dict[str, Any] = response.json()
    split["cats"] = cats
    return split


async def test_a_split_is_stored_as_one_expense_per_part(client: Client, user: Session) -> None:
    split = await receipt(client, user)
    cats = split["cats"]
    assert (split["title"], split["amount"], split["currency"], split["spent_on"]) == (
        "Supermarket",
        "42.50",
        "USD",
        "2026-11-14",
    )
    assert [(p["category_id"], p["amount"], p["notes"], p["title"]) for p in split["parts"]] == [
        (cats["Groceries"], "30.00", "food", "Supermarket"),
        (cats["Household"], "12.50", "", "Supermarket"),
    ]
    assert {p["split_id"] for p in split["parts"]} == {split["id"]}
    listed = await expenses(client, user)
    assert [(e["amount"], e["split_id"], e["spent_on"]) for e in listed] == [
        ("30.00", split["id"], "2026-11-14"),
        ("12.50", split["id"], "2026-11-14"),
    ]
    single = await client.get(f"/api/expenses/{listed[0]['id']}", headers=user.headers)
    assert single.json()["split_id"] == split["id"]
    again = await client.get(f"/api/splits/{split['id']}", headers=user.headers)
    assert again.status_code == 200
    assert again.json() == {k: v for k, v in split.items() if k != "cats"}
    # An ordinary expense has no split.
    plain = await client.post("/api/expenses", json={"title": "Bus", "amount": "2.80"}, headers=user.headers)
    assert plain.json()["split_id"] is None


async def test_the_parts_must_add_up_to_the_amount_exactly(client: Client, user: Session) -> None:
    cats = await categories(client, user, "A", "B")
    body: dict[str, Any] = {
        "title": "Receipt",
        "amount": "42.50",
        "parts": [{"category_id": cats["A"], "amount": "30.00"}, {"category_id": cats["B"], "amount": "10.00"}],
    }
    response = await client.post("/api/splits", json=body, headers=user.headers)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"] == [
        {"field": "parts", "message": "the parts add up to 40.00 USD, 2.50 less than the amount 42.50 USD"}
    ]
    body["parts"][1]["amount"] = "12.51"
    response = await client.post("/api/splits", json=body, headers=user.headers)
    assert response.json()["errors"] == [
        {"field": "parts", "message": "the parts add up to 42.51 USD, 0.01 more than the amount 42.50 USD"}
    ]
    # Decimal, not floats: 0.10 + 0.20 is exactly 0.30.
    exact = {"title": "Tiny", "amount": "0.30", "parts": [{"amount": "0.10"}, {"amount": "0.20"}]}
    assert (await client.post("/api/splits", json=exact, headers=user.headers)).status_code == 201
    assert [e["amount"] for e in await expenses(client, user)] == ["0.10", "0.20"]


async def test_bad_splits_are_refused_and_store_nothing(client: Client, user: Session, other_user: Session) -> None:
    cats = await categories(client, user, "A")
    foreign = (await categories(client, other_user, "Theirs"))["Theirs"]
    cases: list[tuple[dict[str, Any], str, str]] = [
        (
            {"title": "x", "amount": "10.00", "parts": [{"amount": "10.00"}]},
            "parts",
            "a split has 2 to 50 parts, not 1",
        ),
        (
            {"title": "x", "amount": "10.00", "parts": [{"amount": "12.00"}, {"amount": "-2.00"}]},
            "parts",
            "part 2: amount must be positive, like the amount",
        ),
        (
            {"title": "x", "amount": "-10.00", "parts": [{"amount": "-12.00"}, {"amount": "2.00"}]},
            "parts",
            "part 2: amount must be negative, like the amount (a split refund)",
        ),
        (
            {"title": "x", "amount": "10", "currency": "JPY", "parts": [{"amount": "9.5"}, {"amount": "0.5"}]},
            "parts",
            "part 1: amount JPY amounts have no decimals (never rounded)",
        ),
        (
            {"title": "x", "amount": "10.00", "parts": [{"amount": "10.00", "category_id": foreign}, {"amount": "0"}]},
            "parts",
            "part 2: amount must not be 0 (a negative amount is a refund)",
        ),
        (
            {
                "title": "x",
                "amount": "10.00",
                "parts": [{"amount": "9.00", "category_id": foreign}, {"amount": "1.00"}],
            },
            "parts",
            "part 1: category is not one of yours",
        ),
        (
            {"title": "x", "amount": "10.00", "parts": [{"amount": "9.00", "category_id": cats["A"], "tip": "1"}]},
            "parts[0]",
            "Object contains unknown field `tip`",
        ),
        ({"title": " ", "amount": "10.00", "parts": [{"amount": "5.00"}, {"amount": "5.00"}]}, "title", ""),
        ({"title": "x", "amount": "1e3", "parts": [{"amount": "5.00"}, {"amount": "5.00"}]}, "amount", ""),
        ({"title": "x", "amount": "10.00", "parts": [{"amount": "5,00"}, {"amount": "5.00"}]}, "parts[0].amount", ""),
        (
            {"title": "x", "amount": "10.00", "currency": "XYZ", "parts": [{"amount": "5"}, {"amount": "5"}]},
            "currency",
            "",
        ),
    ]
    for body, field, message in cases:
        response = await client.post("/api/splits", json=body, headers=user.headers)
        assert response.status_code == 400, (body, response.text)
        errors = response.json()["errors"]
        assert field in {e["field"] for e in errors}, (body, errors)
        if message:
            assert {"field": field, "message": message} in errors, (body, errors)
    assert await expenses(client, user) == []


async def test_a_split_refund_has_negative_parts(client: Client, user: Session) -> None:
    body = {"title": "Returned", "amount": "-42.50", "parts": [{"amount": "-30.00"}, {"amount": "-12.50"}]}
    response = await client.post("/api/splits", json=body, headers=user.headers)
    assert response.status_code == 201, response.text
    assert response.json()["amount"] == "-42.50"


async def test_a_part_is_changed_only_through_its_split(client: Client, user: Session, other_user: Session) -> None:
    split = await receipt(client, user)
    part = split["parts"][0]["id"]
    for method, kwargs in (("patch", {"json": {"amount": "31.00"}}), ("delete", {})):
        response = await getattr(client, method)(f"/api/expenses/{part}", headers=user.headers, **kwargs)
        assert response.status_code == 409, response.text
        problem = response.json()
        assert problem["split"] == f"/api/splits/{split['id']}"
        assert problem["split_id"] == split["id"]
        assert f"/api/splits/{split['id']}" in problem["detail"]
    assert [e["amount"] for e in await expenses(client, user)] == ["30.00", "12.50"]
    # Another user's split is a missing one, whatever the method.
    path = f"/api/splits/{split['id']}"
    assert (await client.get(path, headers=other_user.headers)).status_code == 404
    body = {"title": "Mine now", "amount": "1.00", "parts": [{"amount": "0.50"}, {"amount": "0.50"}]}
    assert (await client.put(path, json=body, headers=other_user.headers)).status_code == 404
    assert (await client.delete(path, headers=other_user.headers)).status_code == 404
    assert (await client.delete(f"/api/expenses/{part}", headers=other_user.headers)).status_code == 404
    assert (await client.get(f"/api/splits/{uuid.uuid4()}", headers=user.headers)).status_code == 404
    assert len(await expenses(client, user)) == 2


async def test_replacing_a_split_keeps_the_ids_of_the_parts_it_keeps(client: Client, user: Session) -> None:
    split = await receipt(client, user)
    cats = split["cats"]
    groceries, household = split["parts"]
    body = {
        "title": "Supermarket (corrected)",
        "amount": "45.00",
        "spent_on": "2026-11-15",
        "parts": [
            # Unchanged but for the shared fields: found by its category, amount and notes, keeps its id.
            {"category_id": cats["Groceries"], "amount": "30.00", "notes": "food"},
            {"id": household["id"], "category_id": cats["Household"], "amount": "10.00", "notes": "soap"},
            {"amount": "5.00", "notes": "bag"},
        ],
    }
    response = await client.put(f"/api/splits/{split['id']}", json=body, headers=user.headers)
    assert response.status_code == 200, response.text
    new = response.json()
    assert (new["title"], new["amount"], new["spent_on"]) == ("Supermarket (corrected)", "45.00", "2026-11-15")
    assert [(p["id"], p["amount"], p["notes"], p["title"]) for p in new["parts"][:2]] == [
        (groceries["id"], "30.00", "food", "Supermarket (corrected)"),
        (household["id"], "10.00", "soap", "Supermarket (corrected)"),
    ]
    assert new["parts"][2]["id"] not in (groceries["id"], household["id"])
    assert (new["parts"][2]["amount"], new["parts"][2]["category_id"]) == ("5.00", None)

    # Down to two parts: the one left out is deleted; an old part's id reused for a changed part.
    body = {
        "title": "Supermarket",
        "amount": "20.00",
        "parts": [{"amount": "15.00", "category_id": cats["Groceries"]}, {"amount": "5.00", "notes": "bag"}],
    }
    response = await client.put(f"/api/splits/{split['id']}", json=body, headers=user.headers)
    assert response.status_code == 200, response.text
    parts = response.json()["parts"]
    assert [p["amount"] for p in parts] == ["15.00", "5.00"]
    assert parts[1]["id"] == new["parts"][2]["id"]
    assert parts[0]["id"] == groceries["id"]
    assert response.json()["spent_on"] == "2026-11-15"  # left out: kept
    assert [e["amount"] for e in await expenses(client, user)] == ["15.00", "5.00"]

    # Refused replacements change nothing.
    bad = {"title": "x", "amount": "20.00", "parts": [{"amount": "15.00"}, {"amount": "4.00"}]}
    assert (await client.put(f"/api/splits/{split['id']}", json=bad, headers=user.headers)).status_code == 400
    stranger = {
        "title": "x",
        "amount": "2.00",
        "parts": [{"id": str(uuid.uuid4()), "amount": "1.00"}, {"amount": "1.00"}],
    }
    response = await client.put(f"/api/splits/{split['id']}", json=stranger, headers=user.headers)
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "parts", "message": "part 1: id is not a part of this split"}]
    assert [e["amount"] for e in await expenses(client, user)] == ["15.00", "5.00"]

    assert (await client.delete(f"/api/splits/{split['id']}", headers=user.headers)).status_code == 204
    assert await expenses(client, user) == []
    assert (await client.delete(f"/api/splits/{split['id']}", headers=user.headers)).status_code == 404


async def test_each_part_counts_in_its_category_everywhere(client: Client, user: Session) -> None:
    """42.50 = groceries 30.00 + household 12.50: 30.00 in groceries and 12.50 in household in the category report,
    the budgets, the dashboard and the monthly totals (and nothing counted twice)."""
    today = dt.datetime.now(dt.UTC).date()  # the test user's time zone is UTC
    split = await receipt(client, user, spent_on=today.isoformat())
    cats = split["cats"]
    for name, budget in (("Groceries", "100.00"), ("Household", "20.00")):
        response = await client.patch(
            f"/api/categories/{cats[name]}", json={"monthly_budget": budget}, headers=user.headers
        )
        assert response.status_code == 200, response.text
    day = today.isoformat()

    async def get(path: str) -> Any:
        response = await client.get(path, headers=user.headers)
        assert response.status_code == 200, response.text
        return response.json()

    by_category = await get(f"/api/reports/by-category?from={day}&to={day}")
    assert by_category["total"] == "42.50"
    assert [(c["name"], c["total"], c["count"]) for c in by_category["categories"]] == [
        ("Groceries", "30.00", 1),
        ("Household", "12.50", 1),
    ]
    summary = await get(f"/api/reports/summary?from={day}&to={day}")
    assert [(c["total"], c["count"]) for c in summary["currencies"]] == [("42.50", 2)]
    monthly = await get("/api/reports/monthly?months=1")
    assert monthly["months"] == [{"month": f"{today:%Y-%m}", "total": "42.50", "count": 2}]
    budget = {line["name"]: line for line in (await get("/api/reports/budget"))["lines"]}
    assert (budget["Groceries"]["spent"], budget["Groceries"]["remaining"]) == ("30.00", "70.00")
    assert (budget["Household"]["spent"], budget["Household"]["remaining"]) == ("12.50", "7.50")
    totals = await get(f"/api/expenses/totals?category_id={cats['Household']}")
    assert [(c["total"], c["count"]) for c in totals["currencies"]] == [("12.50", 1)]

    client.cookies.set(SESSION_COOKIE, user.token)
    try:
        dashboard = (await client.get("/", headers=HTML)).text
        assert '<p class="big-number" data-testid="month-total">$42.50</p>' in dashboard
        assert "$30.00 of $100.00" in dashboard
        assert "$12.50 of $20.00" in dashboard
    finally:
        client.cookies.clear()

    # Moving money between the parts moves it between the categories, the total stays.
    body = {
        "title": "Supermarket",
        "amount": "42.50",
        "parts": [
            {"id": split["parts"][0]["id"], "category_id": cats["Groceries"], "amount": "22.50"},
            {"id": split["parts"][1]["id"], "category_id": cats["Household"], "amount": "20.00"},
        ],
    }
    assert (await client.put(f"/api/splits/{split['id']}", json=body, headers=user.headers)).status_code == 200
    by_category = await get(f"/api/reports/by-category?from={day}&to={day}")
    assert [(c["name"], c["total"]) for c in by_category["categories"]] == [
        ("Groceries", "22.50"),
        ("Household", "20.00"),
    ]
    assert by_category["total"] == "42.50"


async def test_an_existing_expense_is_split_up_in_place(client: Client, user: Session, other_user: Session) -> None:
    cats = await categories(client, user, "Groceries", "Household")
    body = {"title": "Market", "amount": "42.50", "spent_on": "2026-10-01", "category_id": cats["Groceries"]}
    expense = (await client.post("/api/expenses", json=body, headers=user.headers)).json()
    split = {
        "title": "Market",
        "amount": "42.50",
        "expense_id": expense["id"],
        "parts": [
            {"category_id": cats["Groceries"], "amount": "30.00"},
            {"category_id": cats["Household"], "amount": "12.50"},
        ],
    }
    # Another user's expense cannot be split by them.
    assert (await client.post("/api/splits", json=split, headers=other_user.headers)).status_code == 404
    response = await client.post("/api/splits", json=split, headers=user.headers)
    assert response.status_code == 201, response.text
    made = response.json()
    assert made["spent_on"] == "2026-10-01"  # the expense's date, as none was given
    assert [(p["id"] == expense["id"], p["amount"]) for p in made["parts"]] == [(True, "30.00"), (False, "12.50")]
    assert [e["amount"] for e in await expenses(client, user)] == ["30.00", "12.50"]
    # A part cannot be split again on its own, and a replacement cannot name an expense.
    response = await client.post("/api/splits", json=split, headers=user.headers)
    assert response.status_code == 409
    assert response.json()["split"] == f"/api/splits/{made['id']}"
    response = await client.put(f"/api/splits/{made['id']}", json=split, headers=user.headers)
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "expense_id", "message": "is only for splitting an expense up"}]
    assert len(await expenses(client, user)) == 2


async def test_splits_are_in_openapi(client: Client) -> None:
    schema = (await client.get("/api/openapi.json")).json()
    paths = schema["paths"]
    assert set(paths["/api/splits"]) >= {"post"}
    assert set(paths["/api/splits/{split_id}"]) >= {"get", "put", "delete"}
    components = schema["components"]["schemas"]
    assert "split_id" in components["ExpenseRead"]["properties"]
    create = next(v for k, v in components.items() if k.endswith("SplitCreate"))
    assert {"title", "amount", "currency", "spent_on", "parts", "expense_id"} <= set(create["properties"])
    part = next(v for k, v in components.items() if k.endswith("SplitPartUpdate"))
    assert {"id", "category_id", "amount", "notes"} <= set(part["properties"])


async def test_a_retried_create_with_the_same_idempotency_key_stores_one_split(client: Client, user: Session) -> None:
    body = {"title": "Receipt", "amount": "3.00", "parts": [{"amount": "1.00"}, {"amount": "2.00"}]}
    headers = {**user.headers, "Idempotency-Key": "split-retry-1"}
    first = await client.post("/api/splits", json=body, headers=headers)
    second = await client.post("/api/splits", json=body, headers=headers)
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json()
    assert second.headers.get("idempotent-replayed") == "true"
    assert [e["amount"] for e in await expenses(client, user)] == ["1.00", "2.00"]
