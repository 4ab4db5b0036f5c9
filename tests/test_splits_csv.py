"""Split payments in the CSV export and the exact-format import, on PostgreSQL and SQLite."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import Session, sign_in
from tests.test_csv import export, upload
from tests.test_splits import receipt

Client = AsyncTestClient[Litestar]


async def test_export_names_the_split_and_the_import_rebuilds_it(client: Client, user: Session) -> None:
    split = await receipt(client, user)
    await client.post(
        "/api/expenses", json={"title": "Bus", "amount": "2.80", "spent_on": "2026-11-14"}, headers=user.headers
    )
    rows = await export(client, user, "sort=created_at")
    assert [(r["title"], r["amount"], r["category"], r["split_id"]) for r in rows] == [
        ("Supermarket", "30.00", "Groceries", split["id"]),
        ("Supermarket", "12.50", "Household", split["id"]),
        ("Bus", "2.80", "", ""),
    ]
    text = (await client.get("/api/expenses/export.csv?sort=created_at", headers=user.headers)).text

    newcomer = await sign_in(client)
    result = await upload(client, newcomer, text)
    assert result.status_code == 201, result.text
    assert result.json() == {"imported": 3, "categories_created": ["Groceries", "Household"]}
    again = await export(client, newcomer, "sort=created_at")
    new_split = again[0]["split_id"]
    assert new_split
    assert new_split != split["id"]  # a new split: the file's value only groups the rows
    assert [r["split_id"] for r in again] == [new_split, new_split, ""]
    response = await client.get(f"/api/splits/{new_split}", headers=newcomer.headers)
    assert response.status_code == 200, response.text
    assert (response.json()["amount"], [p["amount"] for p in response.json()["parts"]]) == ("42.50", ["30.00", "12.50"])

    # The same file imported again by its owner makes a second split; the first keeps its two parts.
    assert (await upload(client, user, text)).status_code == 201
    assert len((await client.get(f"/api/splits/{split['id']}", headers=user.headers)).json()["parts"]) == 2
    rows = await export(client, user, "sort=created_at")
    assert len({r["split_id"] for r in rows if r["split_id"]}) == 2


async def test_hand_made_groups_and_files_without_the_column(client: Client, user: Session) -> None:
    content = (
        "title,amount,spent_on,category,split_id\n"
        "Market,30.00,2026-11-14,Groceries,a\n"
        "Fuel,50.00,2026-11-14,Car,\n"
        "Market,12.50,2026-11-14,Household,a\n"
    )
    result = await upload(client, user, content)
    assert result.status_code == 201, result.text
    rows = await export(client, user, "sort=created_at")
    assert [r["split_id"] != "" for r in rows] == [True, False, True]
    assert rows[0]["split_id"] == rows[2]["split_id"]
    # The exact-format import still takes files without the column (exports of earlier versions).
    result = await upload(client, user, "title,amount,spent_on\nOld,1.00,2020-01-01\n")
    assert result.status_code == 201, result.text


async def test_bad_groups_are_refused_row_by_row(client: Client, user: Session) -> None:
    content = (
        "title,amount,spent_on,currency,split_id\n"
        "Market,30.00,2026-11-14,USD,a\n"  # row 2
        "Market,12.50,2026-11-15,USD,a\n"  # row 3: another date
        "Other,5.00,2026-11-14,EUR,a\n"  # row 4: another title and currency
        "Back,-5.00,2026-11-14,USD,b\n"  # row 5
        "Back,5.00,2026-11-14,USD,b\n"  # row 6: another sign
        "Alone,5.00,2026-11-14,USD,c\n"  # row 7: a split of one
    )
    result = await upload(client, user, content)
    assert result.status_code == 400, result.text
    assert result.json()["errors"] == [
        {"row": 3, "field": "split_id", "message": "must have the same date as row 2, the split's first part"},
        {"row": 4, "field": "split_id", "message": "must have the same title as row 2, the split's first part"},
        {"row": 4, "field": "split_id", "message": "must have the same currency as row 2, the split's first part"},
        {
            "row": 6,
            "field": "split_id",
            "message": "must have the same sign (all spending or all refunds) as row 5, the split's first part",
        },
        {"row": 7, "field": "split_id", "message": "a split has at least 2 rows; no other has c"},
    ]
    assert await export(client, user) == []
