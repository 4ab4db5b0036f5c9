"""Exchange rates API: CRUD, validation, conflicts, CSV import (all or nothing) and export; PostgreSQL and SQLite."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import Session, sign_in

Client = AsyncTestClient[Litestar]


async def test_rates_crud(client: Client, user: Session) -> None:
    body = {"currency": "eur", "rate": "1.0825", "valid_from": "2026-11-01"}
    created = await client.post("/api/rates", json=body, headers=user.headers)
    assert created.status_code == 201, created.text
    rate = created.json()
    assert (rate["base"], rate["currency"], rate["valid_from"]) == ("USD", "EUR", "2026-11-01")
    assert rate["rate"] == "1.08250000", rate

    again = await client.post("/api/rates", json=body, headers=user.headers)
    assert again.status_code == 409
    listed = (await client.get("/api/rates", headers=user.headers)).json()
    assert [r["id"] for r in listed] == [rate["id"]]

    changed = await client.patch(f"/api/rates/{rate['id']}", json={"rate": "1.1"}, headers=user.headers)
    assert changed.status_code == 200
    assert changed.json()["rate"] == "1.10000000"
    assert (await client.delete(f"/api/rates/{rate['id']}", headers=user.headers)).status_code == 204
    assert (await client.get(f"/api/rates/{rate['id']}", headers=user.headers)).status_code == 404


async def test_other_users_rates_are_invisible(client: Client, user: Session, other_user: Session) -> None:
    body = {"currency": "GBP", "rate": "1.27", "valid_from": "2026-01-01"}
    rate = (await client.post("/api/rates", json=body, headers=user.headers)).json()
    assert (await client.get(f"/api/rates/{rate['id']}", headers=other_user.headers)).status_code == 404
    assert (await client.delete(f"/api/rates/{rate['id']}", headers=other_user.headers)).status_code == 404
    assert (await client.get("/api/rates", headers=other_user.headers)).json() == []


async def test_invalid_rates_are_refused_with_the_field(client: Client, user: Session) -> None:
    cases = [
        ({"currency": "EUR", "rate": "0", "valid_from": "2026-01-01"}, "rate"),
        ({"currency": "EUR", "rate": "-1.2", "valid_from": "2026-01-01"}, "rate"),
        ({"currency": "EUR", "rate": "1.123456789", "valid_from": "2026-01-01"}, "rate"),
        ({"currency": "EUR", "rate": "1e3", "valid_from": "2026-01-01"}, "rate"),
        ({"currency": "EUR", "rate": "99999999999", "valid_from": "2026-01-01"}, "rate"),
        ({"currency": "USD", "rate": "1.5", "valid_from": "2026-01-01"}, "currency"),
        ({"currency": "XXQ", "rate": "1.5", "valid_from": "2026-01-01"}, "currency"),
        ({"currency": "EUR", "rate": "1.5", "valid_from": "2026-13-01"}, "valid_from"),
    ]
    for body, field in cases:
        response = await client.post("/api/rates", json=body, headers=user.headers)
        assert response.status_code == 400, (body, response.text)
        assert field in {e["field"] for e in response.json()["errors"]}, (body, response.json())
    assert (await client.get("/api/rates", headers=user.headers)).json() == []


async def test_rates_csv_import_and_export_round_trip(client: Client, user: Session) -> None:
    csv_text = "currency,rate,valid_from\r\nEUR,1.08,2026-10-01\r\nEUR,1.1,2026-11-01\r\ngbp,1.27,2026-11-01\r\n"
    files = {"file": ("rates.csv", csv_text.encode(), "text/csv")}
    response = await client.post("/api/rates/import", files=files, headers=user.headers)
    assert response.status_code == 201, response.text
    assert response.json() == {"imported": 3}
    exported = await client.get("/api/rates/export.csv", headers=user.headers)
    assert exported.status_code == 200
    assert (
        exported.text
        == "currency,rate,valid_from\r\nEUR,1.1,2026-11-01\r\nEUR,1.08,2026-10-01\r\nGBP,1.27,2026-11-01\r\n"
    )
    # Importing the export again replaces each rate by itself: nothing doubles.
    again = await client.post(
        "/api/rates/import", files={"file": ("x.csv", exported.content, "text/csv")}, headers=user.headers
    )
    assert again.status_code == 201
    assert len((await client.get("/api/rates", headers=user.headers)).json()) == 3


async def test_rates_csv_import_is_all_or_nothing_with_row_errors(client: Client, user: Session) -> None:
    csv_text = (
        "currency,rate,valid_from\n"
        "EUR,1.08,2026-10-01\n"  # fine
        "EUR,abc,2026-10-02\n"  # row 3: rate
        "USD,1.0,2026-10-02\n"  # row 4: the default currency
        "GBP,1.27,01/11/2026\n"  # row 5: date
        "EUR,1.09,2026-10-01\n"  # row 6: repeats row 2
    )
    files = {"file": ("rates.csv", csv_text.encode(), "text/csv")}
    response = await client.post("/api/rates/import", files=files, headers=user.headers)
    assert response.status_code == 400, response.text
    errors = {(e["row"], e["field"]) for e in response.json()["errors"]}
    assert errors == {(3, "rate"), (4, "currency"), (5, "valid_from"), (6, "valid_from")}
    assert (await client.get("/api/rates", headers=user.headers)).json() == []

    missing = {"file": ("rates.csv", b"currency,rate\nEUR,1.1\n", "text/csv")}
    response = await client.post("/api/rates/import", files=missing, headers=user.headers)
    assert response.status_code == 400
    assert "valid_from" in response.json()["errors"][0]["message"]


async def test_migration_0006_down_and_up_keeps_expenses_and_gives_budgets_the_owners_currency(
    client: Client, database_url: str
) -> None:
    import asyncio

    from sqlalchemy import inspect
    from sqlalchemy.ext.asyncio import create_async_engine

    from tests.test_aggregates import run_migration

    user = await sign_in(client)
    settings = (await client.get("/api/settings", headers=user.headers)).json()
    await client.put("/api/settings", json={**settings, "currency": "EUR"}, headers=user.headers)
    budgeted = await client.post(
        "/api/categories", json={"name": "Rent", "monthly_budget": "800"}, headers=user.headers
    )
    free = await client.post("/api/categories", json={"name": "Fun"}, headers=user.headers)
    for amount, currency in (("12.34", "EUR"), ("56.78", "USD"), ("9.99", "GBP")):
        body = {"title": "x", "amount": amount, "currency": currency, "spent_on": "2026-05-05"}
        assert (await client.post("/api/expenses", json=body, headers=user.headers)).status_code == 201
    await client.post(
        "/api/rates", json={"currency": "USD", "rate": "0.9", "valid_from": "2026-01-01"}, headers=user.headers
    )
    before = sorted(
        (e["id"], e["amount"], e["currency"])
        for e in (await client.get("/api/expenses", headers=user.headers)).json()["items"]
    )

    await asyncio.to_thread(run_migration, database_url, "downgrade", "0005")
    engine = create_async_engine(database_url)
    async with engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        columns = await connection.run_sync(lambda sync: [c["name"] for c in inspect(sync).get_columns("category")])
    await engine.dispose()
    assert "exchange_rate" not in tables
    assert "budget_currency" not in columns
    await asyncio.to_thread(run_migration, database_url, "upgrade")

    after = sorted(
        (e["id"], e["amount"], e["currency"])
        for e in (await client.get("/api/expenses", headers=user.headers)).json()["items"]
    )
    assert after == before
    assert len(after) == 3
    rent = (await client.get(f"/api/categories/{budgeted.json()['id']}", headers=user.headers)).json()
    assert (rent["monthly_budget"], rent["budget_currency"]) == ("800.00", "EUR")
    fun = (await client.get(f"/api/categories/{free.json()['id']}", headers=user.headers)).json()
    assert fun["budget_currency"] is None
    assert (await client.get("/api/settings", headers=user.headers)).json()["convert_totals"] is False


async def test_a_rates_file_that_is_not_text_is_a_400_naming_the_file(client: Client, user: Session) -> None:
    files = {"file": ("rates.png", b"\x89PNG\r\n\x1a\n\x00\xff\xfe", "image/png")}
    response = await client.post("/api/rates/import", files=files, headers=user.headers)
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "file", "message": "must be UTF-8 text"}]


async def test_a_rates_file_over_the_limit_is_a_413(client: Client, user: Session) -> None:
    big = b"currency,rate,valid_from\n" + b"EUR,1.1,2026-01-01\n" * 60_000  # about 1.1 MiB
    response = await client.post("/api/rates/import", files={"file": ("r.csv", big, "text/csv")}, headers=user.headers)
    assert response.status_code == 413
    assert (await client.get("/api/rates", headers=user.headers)).json() == []
