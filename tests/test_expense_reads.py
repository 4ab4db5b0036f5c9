"""The API's expense reads (Core rows straight into the response struct) answer exactly what the ORM path did."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import Session

Client = AsyncTestClient[Litestar]


async def test_get_and_list_answer_what_create_answered(client: Client, user: Session) -> None:
    category = (await client.get("/api/categories", headers=user.headers)).json()[0]  # a default one
    body = {
        "title": "Lunch",
        "amount": "12.5",
        "currency": "EUR",
        "category_id": category["id"],
        "spent_on": "2024-02-29",
        "notes": 'with "quotes" and ünïcode',
    }
    created = await client.post("/api/expenses", json=body, headers=user.headers)
    assert created.status_code == 201
    plain = await client.post("/api/expenses", json={"title": "Bus", "amount": "2"}, headers=user.headers)
    expected = created.json()
    assert expected["amount"] == "12.50"
    assert expected["spent_on"] == "2024-02-29"
    got = await client.get(f"/api/expenses/{expected['id']}", headers=user.headers)
    assert got.status_code == 200
    assert got.json() == expected  # the create path still goes through the ORM and to_schema
    assert got.content == created.content  # byte for byte: key order, number and date formats
    listing = await client.get("/api/expenses?sort=spent_on", headers=user.headers)
    assert listing.json()["items"] == [expected, plain.json()]
    assert listing.json()["total"] == 2
    assert plain.json()["category_id"] is None


async def test_foreign_and_missing_expenses_are_404(client: Client, user: Session, other_user: Session) -> None:
    theirs = await client.post("/api/expenses", json={"title": "Theirs", "amount": "1"}, headers=other_user.headers)
    foreign = await client.get(f"/api/expenses/{theirs.json()['id']}", headers=user.headers)
    missing = await client.get("/api/expenses/01a23627-6aca-701f-b1d2-cc0000000000", headers=user.headers)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.headers["content-type"].startswith("application/problem+json")
    assert foreign.json()["detail"] == missing.json()["detail"].replace("cc0000000000", theirs.json()["id"][-12:])
