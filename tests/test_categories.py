from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import Session

Client = AsyncTestClient[Litestar]


async def categories(client: Client, user: Session) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in (await client.get("/api/categories", headers=user.headers)).json()}


async def test_create_update_and_list(client: Client, user: Session) -> None:
    created = await client.post(
        "/api/categories",
        json={"name": "  Pets  ", "color": "#A1B2C3", "monthly_budget": "80.5"},
        headers=user.headers,
    )
    assert created.status_code == 201
    pets = created.json()
    assert pets["name"] == "Pets"
    assert pets["color"] == "#a1b2c3"
    assert pets["monthly_budget"] == "80.50"
    renamed = await client.patch(f"/api/categories/{pets['id']}", json={"name": "Animals"}, headers=user.headers)
    assert renamed.json() == {**pets, "name": "Animals"}
    cleared = await client.patch(f"/api/categories/{pets['id']}", json={"monthly_budget": None}, headers=user.headers)
    assert cleared.json()["monthly_budget"] is None
    names = list(await categories(client, user))
    assert names == sorted(names)
    assert "Animals" in names


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 51}, "name"),
        ({"name": "ok", "color": "red"}, "color"),
        ({"name": "ok", "monthly_budget": "-1"}, "monthly_budget"),
        ({"name": "ok", "monthly_budget": "lots"}, "monthly_budget"),
    ],
)
async def test_validation(client: Client, user: Session, body: dict[str, Any], field: str) -> None:
    response = await client.post("/api/categories", json=body, headers=user.headers)
    assert response.status_code == 400
    assert field in {e["field"] for e in response.json()["errors"]}


async def test_names_are_unique_per_user_case_insensitively(client: Client, user: Session, other_user: Session) -> None:
    duplicate = await client.post("/api/categories", json={"name": "food"}, headers=user.headers)
    assert duplicate.status_code == 409
    assert duplicate.headers["content-type"].startswith("application/problem+json")
    transport = (await categories(client, user))["Transport"]
    rename = await client.patch(f"/api/categories/{transport['id']}", json={"name": "FOOD"}, headers=user.headers)
    assert rename.status_code == 409
    same_name_elsewhere = await client.post("/api/categories", json={"name": "Pets"}, headers=other_user.headers)
    mine = await client.post("/api/categories", json={"name": "Pets"}, headers=user.headers)
    assert (same_name_elsewhere.status_code, mine.status_code) == (201, 201)


async def test_delete_in_use_needs_reassignment(client: Client, user: Session) -> None:
    cats = await categories(client, user)
    food, other = cats["Food"], cats["Other"]
    expense = (
        await client.post(
            "/api/expenses", json={"title": "Pizza", "amount": "9", "category_id": food["id"]}, headers=user.headers
        )
    ).json()
    refused = await client.delete(f"/api/categories/{food['id']}", headers=user.headers)
    assert refused.status_code == 409
    assert "reassign_to" in refused.json()["detail"]
    to_itself = await client.delete(f"/api/categories/{food['id']}?reassign_to={food['id']}", headers=user.headers)
    assert to_itself.status_code == 400
    moved = await client.delete(f"/api/categories/{food['id']}?reassign_to={other['id']}", headers=user.headers)
    assert moved.status_code == 204
    assert (await client.get(f"/api/expenses/{expense['id']}", headers=user.headers)).json()["category_id"] == other[
        "id"
    ]
    assert "Food" not in await categories(client, user)
    unused = cats["Health"]
    assert (await client.delete(f"/api/categories/{unused['id']}", headers=user.headers)).status_code == 204
