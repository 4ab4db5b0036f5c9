"""The bank-statement import over HTTP (API): upload -> preview -> commit, duplicates, profiles, bad input.

Expected counts and totals are literal: summed by hand from the fixture files (tests/data/bank-statements), not
computed by the code under test.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine

from expense_tracker.constants import IMPORT_FILE_MAX_BYTES
from tests.conftest import Session, sign_in

Client = AsyncTestClient[Litestar]
FIXTURES = Path(__file__).parent / "data" / "bank-statements"


# file -> (rows imported, money-in rows skipped, {currency: total of the imported rows}) with the detected settings.
EXPECTED: dict[str, tuple[int, int, dict[str, Decimal]]] = {
    "us-chase-checking.csv": (19, 3, {"USD": Decimal("3010.35")}),
    "uk-nationwide-flexaccount.csv": (16, 2, {"GBP": Decimal("2203.33")}),
    # No header row and no currency anywhere in the file: the user's own currency (USD for the test users).
    "uk-hsbc-no-header.csv": (10, 2, {"USD": Decimal("1389.68")}),
    "de-dkb-girokonto.csv": (14, 2, {"EUR": Decimal("1997.56")}),
    "de-sparkasse-camt.csv": (8, 2, {"EUR": Decimal("1560.49")}),
    "fr-credit-agricole-compte.csv": (15, 2, {"EUR": Decimal("1587.83")}),
    "neobank-revolut-account.csv": (
        14,
        5,
        {"GBP": Decimal("1089.14"), "EUR": Decimal("80.20"), "USD": Decimal("48.68")},
    ),
}


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


async def upload(
    client: Client, user: Session, name: str, data: bytes | None = None, profile_id: str | None = None
) -> Any:
    form = {"profile_id": profile_id} if profile_id else None
    return await client.post(
        "/api/imports/uploads",
        files={"file": (name, fixture(name) if data is None else data, "text/csv")},
        data=form,
        headers=user.headers,
    )


async def uploaded(client: Client, user: Session, name: str, profile_id: str | None = None) -> dict[str, Any]:
    response = await upload(client, user, name, profile_id=profile_id)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def settings(up: dict[str, Any], dialect: dict[str, Any] | None = None, **mapping: Any) -> dict[str, Any]:
    return {
        "upload_id": up["upload_id"],
        "dialect": {**up["dialect"], **(dialect or {})},
        "mapping": {**up["mapping"], **mapping},
    }


async def preview(client: Client, user: Session, body: dict[str, Any]) -> Any:
    return await client.post("/api/imports/preview", json=body, headers=user.headers)


async def commit(client: Client, user: Session, body: dict[str, Any]) -> Any:
    return await client.post("/api/imports/commit", json=body, headers=user.headers)


async def totals(client: Client, user: Session) -> tuple[int, dict[str, Decimal]]:
    """Every expense of the user, read back through the expenses API: (count, total per currency)."""
    response = await client.get("/api/expenses", params={"limit": 200}, headers=user.headers)
    items = response.json()["items"]
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for item in items:
        sums[item["currency"]] += Decimal(item["amount"])
    return len(items), dict(sums)


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_each_bank_statement_imports_end_to_end(client: Client, name: str) -> None:
    user = await sign_in(client)
    up = await uploaded(client, user, name)
    assert up["mapping_errors"] == {}
    count, skipped, expected = EXPECTED[name]
    body = settings(up)
    shown = (await preview(client, user, body)).json()
    assert shown["counts"] == {
        "rows": count + skipped,
        "to_import": count,
        "duplicates": 0,
        "skipped": skipped,
        "problems": 0,
        "possible_duplicates": 0,
    }
    assert {t["currency"]: Decimal(t["amount"]) for t in shown["totals"]} == expected
    result = await commit(client, user, body)
    assert result.status_code == 201, result.text
    assert result.json()["imported"] == count
    assert await totals(client, user) == (count, expected)


async def test_importing_the_same_file_again_imports_nothing(client: Client, user: Session) -> None:
    first = await uploaded(client, user, "us-chase-checking.csv")
    assert (await commit(client, user, settings(first))).json()["imported"] == 19
    again = await uploaded(client, user, "us-chase-checking.csv")
    shown = (await preview(client, user, settings(again))).json()
    assert shown["counts"]["to_import"] == 0
    assert shown["counts"]["duplicates"] == 19
    assert shown["counts"]["possible_duplicates"] == 0  # imported expenses are not "entered by hand"
    today = dt.datetime.now(dt.UTC).date().isoformat()
    # Line 2 of the file is its first row (the ATM withdrawal).
    assert shown["rows"][0]["status"] == "duplicate"
    assert shown["rows"][0]["reason"] == f"already imported on {today} from us-chase-checking.csv, row 2"
    result = (await commit(client, user, settings(again))).json()
    assert (result["imported"], result["duplicates"]) == (0, 19)
    assert (await totals(client, user))[0] == 19


@pytest.mark.parametrize(
    ("first", "second", "new", "duplicates", "expected"),
    [
        # Chase: 3 money-out rows of 27-28 Nov repeated; 5 new ones (the 1 Dec rent is new: a different day).
        ("us-chase-checking.csv", "us-chase-checking-2.csv", 5, 3, {"USD": Decimal("3010.35") + Decimal("2153.35")}),
        # DKB: 2 money-out rows of 25-30 Nov repeated, 3 new December rows.
        ("de-dkb-girokonto.csv", "de-dkb-girokonto-2.csv", 3, 2, {"EUR": Decimal("1997.56") + Decimal("55.17")}),
    ],
)
async def test_an_overlapping_statement_imports_only_the_new_rows(
    client: Client, first: str, second: str, new: int, duplicates: int, expected: dict[str, Decimal]
) -> None:
    user = await sign_in(client)
    assert (await commit(client, user, settings(await uploaded(client, user, first)))).status_code == 201
    result = (await commit(client, user, settings(await uploaded(client, user, second)))).json()
    assert (result["imported"], result["duplicates"]) == (new, duplicates)
    assert (await totals(client, user))[1] == expected


async def test_a_double_submitted_commit_imports_once(client: Client, user: Session) -> None:
    body = settings(await uploaded(client, user, "fr-credit-agricole-compte.csv"))
    first = await commit(client, user, body)
    second = await commit(client, user, body)
    assert (first.json()["imported"], second.json()["imported"]) == (15, 0)
    assert second.json()["duplicates"] == 15
    assert (await totals(client, user))[0] == 15


async def test_two_identical_rows_of_one_day_are_both_imported_once(client: Client, user: Session) -> None:
    data = b"Date,Description,Amount\n2026-11-03,Coffee,-3.20\n2026-11-03,Coffee,-3.20\n2026-11-04,Bread,-2.10\n"
    up = (await upload(client, user, "coffee.csv", data)).json()
    assert (await commit(client, user, settings(up))).json()["imported"] == 3
    # The next statement repeats 4 Nov and adds a third coffee on 3 Nov: only that one is new.
    more = data + b"2026-11-03,Coffee,-3.20\n"
    up = (await upload(client, user, "coffee-2.csv", more)).json()
    result = (await commit(client, user, settings(up))).json()
    assert (result["imported"], result["duplicates"]) == (1, 3)


async def test_the_key_is_unique_in_the_database(client: Client, user: Session, database_url: str) -> None:
    up = await uploaded(client, user, "us-chase-checking.csv")
    assert (await commit(client, user, settings(up))).status_code == 201
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            row = (await connection.execute(text("SELECT * FROM imported_row LIMIT 1"))).mappings().one()
            copy = {**row, "id": row["id"][::-1] if isinstance(row["id"], bytes) else uuid.uuid4()}
            columns = ", ".join(copy)
            values = ", ".join(f":{k}" for k in copy)
            with pytest.raises(IntegrityError):
                await connection.execute(text(f"INSERT INTO imported_row ({columns}) VALUES ({values})"), copy)
    finally:
        await engine.dispose()


async def test_deleting_an_imported_expense_lets_the_statement_bring_it_back(client: Client, user: Session) -> None:
    assert (await commit(client, user, settings(await uploaded(client, user, "us-chase-checking.csv")))).is_success
    items = (await client.get("/api/expenses", params={"limit": 200}, headers=user.headers)).json()["items"]
    atm = next(i for i in items if i["title"].startswith("ATM WITHDRAWAL"))
    assert (await client.delete(f"/api/expenses/{atm['id']}", headers=user.headers)).status_code == 204
    again = (await commit(client, user, settings(await uploaded(client, user, "us-chase-checking.csv")))).json()
    assert (again["imported"], again["duplicates"]) == (1, 18)


async def test_a_row_matching_an_expense_entered_by_hand_is_flagged(client: Client, user: Session) -> None:
    by_hand = {"title": "Gas", "amount": "48.30", "spent_on": "2026-11-05"}
    assert (await client.post("/api/expenses", json=by_hand, headers=user.headers)).status_code == 201
    up = await uploaded(client, user, "us-chase-checking.csv")
    shown = (await preview(client, user, settings(up))).json()
    shell = next(r for r in shown["rows"] if r["title"].startswith("SHELL OIL"))
    assert shell["status"] == "import"
    assert shell["possible_duplicate"] == "possible duplicate of “Gas” entered by hand on 2026-11-05"
    assert shown["counts"]["possible_duplicates"] == 1
    skipping = {**settings(up), "skip_possible_duplicates": True}
    result = (await commit(client, user, skipping)).json()
    assert (result["imported"], result["skipped"]) == (18, 4)


async def test_money_in_is_imported_as_refunds_when_the_rule_is_off(client: Client, user: Session) -> None:
    up = await uploaded(client, user, "us-chase-checking.csv")
    result = (await commit(client, user, settings(up, skip_money_in=False))).json()
    assert (result["imported"], result["skipped"]) == (22, 0)
    # Two payrolls of 3,125.62 and a 36.18 refund come in as money back.
    expected = Decimal("3010.35") - Decimal("3125.62") * 2 - Decimal("36.18")
    assert await totals(client, user) == (22, {"USD": expected})


async def test_corrections_of_the_detected_values_change_the_result(client: Client, user: Session) -> None:
    chase = await uploaded(client, user, "us-chase-checking.csv")
    assert chase["dialect"]["date_format"] == "%m/%d/%Y"

    async def counts(body: dict[str, Any]) -> dict[str, Any]:
        response = await preview(client, user, body)
        assert response.status_code == 200, response.text
        return dict(response.json()["counts"]) | {"totals": response.json()["totals"]}

    # Day first: only the 9 dates whose second number is at most 12 (11/12, 11/10 ... 11/01) still read.
    assert (await counts(settings(chase, {"date_format": "%d/%m/%Y"})))["problems"] == 13
    # "Positive means money out": the 19 debits become money in (skipped), the 2 payrolls and the refund expenses.
    flipped = await counts(settings(chase, sign="positive_out"))
    assert (flipped["to_import"], flipped["skipped"]) == (3, 19)
    assert flipped["totals"] == [{"currency": "USD", "amount": "6287.42", "count": 3}]
    # A fixed currency for a file without a currency column.
    assert (await counts(settings(chase, currency="EUR")))["totals"] == [
        {"currency": "EUR", "amount": "3010.35", "count": 19}
    ]
    # Another delimiter: the header is one column, so the mapped columns do not exist.
    wrong = await preview(client, user, settings(chase, {"delimiter": ";"}))
    assert wrong.status_code == 400
    assert {e["field"] for e in wrong.json()["errors"]} >= {"mapping.date"}

    dkb = await uploaded(client, user, "de-dkb-girokonto.csv")
    assert (dkb["dialect"]["header_line"], dkb["dialect"]["decimal"], dkb["dialect"]["thousands"]) == (7, ",", ".")
    # The account line as the header: none of the mapped columns exist.
    assert (await preview(client, user, settings(dkb, {"header_line": 1}))).status_code == 400
    # No thousands separator: "-1.250,00" (rent) and "3.412,87" (salary) no longer read.
    assert (await counts(settings(dkb, {"thousands": ""})))["problems"] == 2
    # A decimal point: "-54,23" is no amount any more.
    assert (await counts(settings(dkb, {"decimal": ".", "thousands": ","})))["problems"] > 0

    uk = await uploaded(client, user, "uk-nationwide-flexaccount.csv")
    assert uk["dialect"]["encoding"] == "cp1252"

    async def sainsbury(encoding: str) -> str:
        rows = (await preview(client, user, settings(uk, {"encoding": encoding}))).json()["rows"]
        return str(rows[2]["title"])

    assert await sainsbury("cp1252") == "SAINSBURY\u2019S S/MKTS"
    assert await sainsbury("latin-1") == "SAINSBURY\x92S S/MKTS"


async def test_rows_with_problems_are_refused_whole_with_their_rows(client: Client, user: Session) -> None:
    data = b"Date,Description,Amount\n2026-11-03,Coffee,-3.20\n2026-13-40,Bad day,-1.00\n2026-11-04,,-2.10\n"
    up = (await upload(client, user, "bad.csv", data)).json()
    response = await commit(client, user, settings(up))
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["row"] for e in response.json()["errors"]] == [3, 4]
    assert (await totals(client, user))[0] == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "not a CSV"),
        (b"", "empty"),
        (b"just one line of text without any delimiter\n", "not a CSV"),
    ],
)
async def test_a_file_that_is_no_statement_is_refused(client: Client, user: Session, data: bytes, message: str) -> None:
    response = await upload(client, user, "x.csv", data)
    assert response.status_code == 400, response.text
    assert message in response.text


async def test_a_file_over_the_limit_is_refused(client: Client, user: Session) -> None:
    line = b"2026-11-03,Coffee,-3.20\n"
    data = b"Date,Description,Amount\n" + line * (IMPORT_FILE_MAX_BYTES // len(line) + 1)
    assert (await upload(client, user, "big.csv", data)).status_code == 413


async def test_unknown_expired_and_foreign_uploads_are_404(
    client: Client, user: Session, other_user: Session, database_url: str
) -> None:
    up = await uploaded(client, user, "us-chase-checking.csv")
    assert (await preview(client, other_user, settings(up))).status_code == 404
    assert (await commit(client, other_user, settings(up))).status_code == 404
    unknown = {**settings(up), "upload_id": str(uuid.uuid4())}
    assert (await preview(client, user, unknown)).status_code == 404
    from expense_tracker.db.models import ImportUpload

    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
            await connection.execute(
                update(ImportUpload).where(ImportUpload.id == uuid.UUID(up["upload_id"])).values(expires_at=past)
            )
    finally:
        await engine.dispose()
    assert (await preview(client, user, settings(up))).status_code == 404


async def test_bad_settings_are_400(client: Client, user: Session) -> None:
    up = await uploaded(client, user, "us-chase-checking.csv")
    for body, field in (
        (settings(up, {"encoding": "ebcdic"}), "dialect.encoding"),
        (settings(up, {"date_format": "%Q"}), "dialect.date_format"),
        (settings(up, amount="No such column"), "mapping.amount"),
        (settings(up, currency="XYZ"), "mapping.currency"),
    ):
        response = await preview(client, user, body)
        assert response.status_code == 400, (field, response.text)
        assert field in {e["field"] for e in response.json()["errors"]}


async def test_a_saved_profile_is_applied_to_the_next_upload(client: Client, user: Session) -> None:
    up = await uploaded(client, user, "us-chase-checking.csv")
    body = {**settings(up, skip_money_in=False, currency="CAD"), "save_profile_as": "  Chase   checking "}
    result = (await commit(client, user, body)).json()
    profiles = (await client.get("/api/imports/profiles", headers=user.headers)).json()
    assert [(p["name"], p["id"]) for p in profiles] == [("Chase checking", result["profile_id"])]
    assert profiles[0]["mapping"]["currency"] == "CAD"
    # The next statement, with the profile: its settings, not the detected ones (money in kept, CAD).
    second = await uploaded(client, user, "us-chase-checking-2.csv", profile_id=result["profile_id"])
    assert second["profile_id"] == result["profile_id"]
    assert (second["mapping"]["skip_money_in"], second["mapping"]["currency"]) == (False, "CAD")
    shown = (await preview(client, user, settings(second))).json()
    assert shown["counts"]["skipped"] == 0
    # Another user cannot use it.
    stranger = await sign_in(client)
    assert (await upload(client, stranger, "us-chase-checking.csv", profile_id=result["profile_id"])).status_code == 404


async def test_profiles_crud(client: Client, user: Session, other_user: Session) -> None:
    up = await uploaded(client, user, "de-dkb-girokonto.csv")
    body = {"name": "DKB", "dialect": up["dialect"], "mapping": up["mapping"]}
    created = await client.post("/api/imports/profiles", json=body, headers=user.headers)
    assert created.status_code == 201, created.text
    pid = created.json()["id"]
    assert (await client.post("/api/imports/profiles", json=body, headers=user.headers)).status_code == 409
    url = f"/api/imports/profiles/{pid}"
    assert (await client.get(url, headers=user.headers)).json()["dialect"]["delimiter"] == ";"
    renamed = await client.patch(url, json={"name": "DKB Giro"}, headers=user.headers)
    assert renamed.json()["name"] == "DKB Giro"
    bad = await client.patch(url, json={"dialect": {**up["dialect"], "decimal": "x"}}, headers=user.headers)
    assert bad.status_code == 400
    assert (await client.get(url, headers=other_user.headers)).status_code == 404
    assert (await client.delete(url, headers=other_user.headers)).status_code == 404
    assert (await client.delete(url, headers=user.headers)).status_code == 204
    assert (await client.get(url, headers=user.headers)).status_code == 404


async def test_the_api_is_in_openapi(client: Client) -> None:
    schema = (await client.get("/api/openapi.json")).json()
    for path in ("/api/imports/uploads", "/api/imports/preview", "/api/imports/commit", "/api/imports/profiles"):
        assert path in schema["paths"]
    assert "skip_money_in" in str(schema["components"]["schemas"])


async def test_the_migration_goes_down_and_up_with_data(
    client: Client, user: Session, database_url: str, backend: str
) -> None:
    """0009 is additive: down to 0008 drops only its tables (every expense stays as it was), up brings them back."""
    if backend != "postgresql":
        pytest.skip("migrations are tested on PostgreSQL (SQLite gets them through every test database)")
    from tests.test_aggregates import run_migration

    up = await uploaded(client, user, "us-chase-checking.csv")
    assert (await commit(client, user, settings(up, save_profile_as="Chase"))).status_code == 201
    before = await totals(client, user)
    assert before == (19, {"USD": Decimal("3010.35")})

    async def tables() -> set[str]:
        engine = create_async_engine(database_url)
        try:
            async with engine.connect() as connection:
                rows = await connection.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
                return {r[0] for r in rows}
        finally:
            await engine.dispose()

    async def stored_totals() -> tuple[int, dict[str, Decimal]]:
        """:func:`totals` read from the table itself: while 0009 is down, so are the migrations after it (0012 adds
        ``expense.split_id``, which every query of the app names), and the API cannot read the expenses."""
        engine = create_async_engine(database_url)
        statement = text(
            "SELECT e.currency, COUNT(*), SUM(e.amount) FROM expense e JOIN user_account u ON u.id = e.user_id "
            "WHERE u.email = :email GROUP BY e.currency"
        )
        try:
            async with engine.connect() as connection:
                rows = (await connection.execute(statement, {"email": user.email})).all()
        finally:
            await engine.dispose()
        return sum(int(n) for _, n, _ in rows), {c: Decimal(str(total)) for c, _, total in rows}

    # Down to its own predecessor only: the app's models need the columns 0006-0008 added, so below them a request
    # fails once the signed-in user is no longer served from the session cache (a slow machine got there).
    run_migration(database_url, "downgrade", "0008")
    try:
        assert not {"import_upload", "import_profile", "imported_row"} & await tables()
        assert await stored_totals() == before
    finally:
        run_migration(database_url, "upgrade")  # never leave the shared test database downgraded
    assert {"import_upload", "import_profile", "imported_row"} <= await tables()
    assert await totals(client, user) == before
    again = await uploaded(client, user, "de-dkb-girokonto.csv")
    assert (await commit(client, user, settings(again))).json()["imported"] == 14


async def test_two_racing_commits_store_each_row_once(client: Client, user: Session, backend: str) -> None:
    """Both requests see no keys yet; the unique (user, key) constraint lets one store the rows, the other none."""
    import asyncio

    body = settings(await uploaded(client, user, "us-chase-checking.csv"))
    results = await asyncio.gather(commit(client, user, body), commit(client, user, body))
    outcomes = sorted((r.status_code, r.json().get("imported")) for r in results)
    # Either the second ran after the first had committed (0 imported) or alongside it (409, nothing stored).
    assert outcomes in ([(201, 0), (201, 19)], [(201, 19), (409, None)]), outcomes
    assert (await totals(client, user))[0] == 19


async def test_a_category_column_creates_categories_like_the_exact_import(client: Client, user: Session) -> None:
    data = b"Date,Description,Amount,Category\n2026-11-03,Coffee,-3.20,Food\n2026-11-04,Ferry,-7.00,Boats\n"
    up = (await upload(client, user, "cats.csv", data)).json()
    assert up["mapping"]["category"] == "Category"
    result = (await commit(client, user, settings(up))).json()
    assert (result["imported"], result["categories_created"]) == (2, ["Boats"])  # "Food" is a default category
    names = {c["id"]: c["name"] for c in (await client.get("/api/categories", headers=user.headers)).json()}
    items = (await client.get("/api/expenses", headers=user.headers)).json()["items"]
    assert sorted((i["title"], names[i["category_id"]]) for i in items) == [("Coffee", "Food"), ("Ferry", "Boats")]
