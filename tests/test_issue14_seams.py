"""Where the issue-14 slices meet: locale x rates, budget currency x decimals, refunds x conversion, a default
currency change after rates and budgets, the exact-format CSV round trip with refunds, JPY and a currency filter.

Expected values are written out by hand in the tests (comments show the sums).
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import Session
from tests.test_locale import page, post, set_locale

Client = AsyncTestClient[Litestar]


async def test_rates_page_reads_the_rate_in_the_users_locale(client: Client, user: Session) -> None:
    await set_locale(client, user, "de_DE")
    status, html = await post(client, user, "/rates", {"currency": "USD", "rate": "1,0850", "valid_from": "2024-01-01"})
    assert status == 303, html[:2000]
    rates = (await client.get("/api/rates", headers=user.headers)).json()
    assert [(r["currency"], Decimal(r["rate"])) for r in rates] == [("USD", Decimal("1.085"))]
    # Shown back in the locale too; the currency suggestions are the active ISO 4217 codes only.
    html = await page(client, user, "/rates")
    assert "1,085" in html
    assert '<option value="GBP">' in html
    assert '<option value="XTS">' not in html
    assert '<option value="DEM">' not in html
    # "1.0850" in de_DE is ambiguous (a thousands dot): refused inline with the expected format, never 1085.
    status, html = await post(client, user, "/rates", {"currency": "GBP", "rate": "1.0850", "valid_from": "2024-01-01"})
    assert status == 400
    client.cookies.clear()


async def test_budget_decimals_follow_the_budget_currency(client: Client, user: Session) -> None:
    # API: a JPY budget has no decimals (refused, not rounded), whatever the default currency (EUR here).
    body = {"name": "Japan", "color": "#336699", "monthly_budget": "1500.50", "budget_currency": "JPY"}
    response = await client.post("/api/categories", json=body, headers=user.headers)
    assert response.status_code == 400, response.text
    assert response.json()["errors"] == [
        {"field": "monthly_budget", "message": "JPY amounts have no decimals (never rounded)"}
    ]
    ok = await client.post("/api/categories", json={**body, "monthly_budget": "1500"}, headers=user.headers)
    assert ok.status_code == 201, ok.text
    assert (ok.json()["monthly_budget"], ok.json()["budget_currency"]) in {("1500", "JPY"), ("1500.00", "JPY")}
    # Page: a JPY user typing a USD budget with cents in de_DE.
    await set_locale(client, user, "de_DE", currency="JPY")
    status, html = await post(
        client,
        user,
        "/categories",
        {"name": "Reise", "color": "#336699", "monthly_budget": "12,50", "budget_currency": "USD"},
    )
    assert status == 303, html[:3000]
    status, html = await post(
        client,
        user,
        "/categories",
        {"name": "Tokio", "color": "#336699", "monthly_budget": "12,50", "budget_currency": "JPY"},
    )
    assert status == 400
    assert "JPY amounts have no decimals (never rounded)" in html
    client.cookies.clear()


async def test_wizard_preview_shows_dates_and_refunds_in_the_users_locale(client: Client, user: Session) -> None:
    from tests.test_bank_import_pages import Browser, upload

    await set_locale(client, user, "de_DE")
    browser = Browser(client, user)
    page = await browser.follow(await upload(browser, "de-dkb-girokonto.csv"))
    page = await browser.follow(await browser.submit(page, "bank-format-form"))
    # Money in (the Zalando return, the salary) imported as money back rather than skipped.
    page = await browser.follow(await browser.submit(page, "bank-columns-form", {"skip_money_in": "false"}))
    row = page.split('data-line="9"')[1].split("</tr>")[0]  # "28.11.2026";...;"Zalando SE";...;"39,95"
    assert "28.11.2026" in row, row
    assert "2026-11-28" not in row
    assert "-39,95\xa0€" in row, row
    page = await browser.follow(await browser.submit(page, "bank-import-form", {"save_as": ""}))
    assert "Imported 16 expenses." in page
    listed = (await client.get("/api/expenses", params={"limit": 200}, headers=user.headers)).json()["items"]
    assert {(e["spent_on"], e["amount"]) for e in listed if e["amount"].startswith("-")} == {
        ("2026-11-28", "-39.95"),
        ("2026-11-27", "-3412.87"),
    }
    client.cookies.clear()


async def test_changing_the_default_currency_drops_no_currency_anywhere(client: Client, user: Session) -> None:
    import datetime as dt

    today = dt.datetime.now(dt.UTC).date()
    first = today.replace(day=1)
    h = user.headers
    settings = (await client.get("/api/settings", headers=h)).json()
    assert (await client.put("/api/settings", json={**settings, "currency": "EUR"}, headers=h)).status_code == 200
    rate = {"currency": "USD", "rate": "0.9", "valid_from": "2020-01-01"}
    assert (await client.post("/api/rates", json=rate, headers=h)).status_code == 201
    food = (
        await client.post(
            "/api/categories", json={"name": "Eating out", "color": "#336699", "monthly_budget": "100"}, headers=h
        )
    ).json()
    assert "id" in food, food
    for amount, currency in [("50.00", "EUR"), ("20.00", "USD"), ("-5.00", "USD"), ("1000", "JPY")]:
        body = {
            "title": "x",
            "amount": amount,
            "currency": currency,
            "spent_on": first.isoformat(),
            "category_id": food["id"],
        }
        assert (await client.post("/api/expenses", json=body, headers=h)).status_code == 201
    settings = (await client.get("/api/settings", headers=h)).json()
    assert (await client.put("/api/settings", json={**settings, "currency": "USD"}, headers=h)).status_code == 200
    period = f"from={first.isoformat()}&to={today.isoformat()}"
    every = {("EUR", "50.00", 1), ("JPY", "1000.00", 1), ("USD", "15.00", 2)}  # 20.00 - 5.00 USD (a refund)

    async def get(path: str) -> Any:
        response = await client.get(path, headers=h)
        assert response.status_code == 200, response.text
        return response.json()

    summary = await get(f"/api/reports/summary?{period}&convert=true")
    assert {(c["currency"], c["total"], c["count"]) for c in summary["currencies"]} == every
    # The EUR-based rate is not used for USD; EUR and JPY are listed as not converted, never dropped.
    not_converted = {("EUR", "50.00", 1), ("JPY", "1000.00", 1)}
    assert (summary["converted"]["total"], summary["converted"]["count"]) == ("15.00", 2)
    assert {(c["currency"], c["total"], c["count"]) for c in summary["converted"]["not_converted"]} == not_converted
    for report in ("by-category", "monthly"):
        query = f"{period}" if report == "by-category" else "months=2"
        plain = await get(f"/api/reports/{report}?{query}")
        assert plain["currency"] == "USD"
        assert {(c["currency"], c["total"], c["count"]) for c in plain["other_currencies"]} == not_converted
        converted = (await get(f"/api/reports/{report}?{query}&convert=true"))["converted"]
        assert {(c["currency"], c["total"], c["count"]) for c in converted["not_converted"]} == not_converted
    # The budget keeps its amount and currency; USD and JPY spending is listed beside it.
    line = next(x for x in (await get("/api/reports/budget"))["lines"] if x["name"] == "Eating out")
    assert (line["budget"], line["budget_currency"], line["spent"]) == ("100.00", "EUR", "50.00")
    assert {(c["currency"], c["total"], c["count"]) for c in line["not_converted"]} == {
        ("JPY", "1000.00", 1),
        ("USD", "15.00", 2),
    }
    totals = await get(f"/api/expenses/totals?{period}")
    assert {(c["currency"], c["total"], c["count"]) for c in totals["currencies"]} == every
    # The pages say the same.
    for path in ("/", "/reports", "/expenses"):
        html = await page(client, user, path)
        for shown in ("€50.00", "¥1,000", "$15.00"):
            assert shown in html, (path, shown)
    client.cookies.clear()


async def add_expenses(client: Client, user: Session, rows: list[tuple[str, str, str]]) -> None:
    for title, amount, currency in rows:
        body = {"title": title, "amount": amount, "currency": currency, "spent_on": "2024-03-05"}
        response = await client.post("/api/expenses", json=body, headers=user.headers)
        assert response.status_code == 201, response.text


async def test_amount_sort_pages_through_refunds_within_each_currency(client: Client, user: Session) -> None:
    await add_expenses(
        client,
        user,
        [
            ("a", "5.00", "EUR"),
            ("b", "-3.00", "EUR"),
            ("c", "10.00", "EUR"),
            ("d", "-0.50", "EUR"),
            ("e", "7.00", "USD"),
            ("f", "-2.00", "USD"),
            ("g", "100", "JPY"),
            ("h", "-100", "JPY"),
        ],
    )
    # Currencies in code order (EUR, JPY, USD); within one, refunds (negative) first when ascending.
    expected = {
        "amount": ["b", "d", "a", "c", "h", "g", "f", "e"],
        "-amount": ["e", "f", "g", "h", "c", "a", "d", "b"],  # the whole order reversed
    }
    for sort, titles in expected.items():
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"sort": sort, "limit": 3, **({"cursor": cursor} if cursor else {})}
            body = (await client.get("/api/expenses", params=params, headers=user.headers)).json()
            seen += [e["title"] for e in body["items"]]
            cursor = body["next_cursor"]
            if not cursor:
                break
        assert seen == titles, (sort, seen)
    # Filtered to one currency, the totals line is that currency's signed sum: 5 - 3 + 10 - 0.50 = 11.50.
    totals = (await client.get("/api/expenses/totals?currency=EUR", headers=user.headers)).json()
    assert [(c["currency"], c["total"], c["count"]) for c in totals["currencies"]] == [("EUR", "11.50", 4)]


async def test_exact_csv_round_trip_with_refunds_jpy_and_a_currency_filter(
    client: Client, user: Session, other_user: Session
) -> None:
    await add_expenses(
        client, user, [("Ramen", "1200", "JPY"), ("Ramen back", "-1200", "JPY"), ("Tea", "-3.50", "EUR")]
    )
    exported = (await client.get("/api/expenses/export.csv?currency=JPY&sort=amount", headers=user.headers)).text
    response = await client.post(
        "/api/expenses/import",
        files={"file": ("e.csv", exported.encode(), "text/csv")},
        headers=other_user.headers,
    )
    assert response.status_code == 201, response.text
    items = (await client.get("/api/expenses?sort=amount", headers=other_user.headers)).json()["items"]
    assert [(e["title"], e["amount"], e["currency"]) for e in items] == [
        ("Ramen back", "-1200.00", "JPY"),
        ("Ramen", "1200.00", "JPY"),
    ]
    again = (await client.get("/api/expenses/export.csv?sort=amount", headers=other_user.headers)).text

    def fields(csv_text: str) -> list[dict[str, str]]:  # without the id and timestamps, which are the new rows' own
        own = ("id", "created_at", "updated_at")
        return [{k: v for k, v in row.items() if k not in own} for row in csv.DictReader(io.StringIO(csv_text))]

    assert fields(again) == fields(exported)


async def test_budget_spending_converts_refunds_in_another_currency(client: Client, user: Session) -> None:
    import datetime as dt

    h = user.headers
    first = dt.datetime.now(dt.UTC).date().replace(day=1).isoformat()
    settings = (await client.get("/api/settings", headers=h)).json()
    assert (await client.put("/api/settings", json={**settings, "currency": "EUR"}, headers=h)).status_code == 200
    assert (
        await client.post("/api/rates", json={"currency": "USD", "rate": "0.9", "valid_from": "2020-01-01"}, headers=h)
    ).status_code == 201
    trip = (
        await client.post(
            "/api/categories",
            json={"name": "Trip", "color": "#336699", "monthly_budget": "100", "budget_currency": "EUR"},
            headers=h,
        )
    ).json()
    for amount, currency in [("50.00", "EUR"), ("30.00", "USD"), ("-10.00", "USD"), ("-5.00", "EUR")]:
        body = {"title": "x", "amount": amount, "currency": currency, "spent_on": first, "category_id": trip["id"]}
        assert (await client.post("/api/expenses", json=body, headers=h)).status_code == 201
    budget = (await client.get("/api/reports/budget?convert=true", headers=h)).json()
    line = next(x for x in budget["lines"] if x["name"] == "Trip")
    # EUR 50 - 5 = 45; USD 30 - 10 = 20 at 0.9 = 18 EUR; spent 63.00 of 100.00, 37.00 left.
    assert (line["spent"], line["remaining"], line["budget_currency"], line["not_converted"]) == (
        "63.00",
        "37.00",
        "EUR",
        [],
    )
    by_category = (await client.get(f"/api/reports/by-category?from={first}&convert=true", headers=h)).json()
    assert [(c["name"], c["total"], c["count"]) for c in by_category["categories"]] == [("Trip", "63.00", 4)]


async def test_report_shares_and_budget_use_in_the_users_locale(client: Client, user: Session) -> None:
    import datetime as dt

    await set_locale(client, user, "de_DE")
    h = user.headers
    first = dt.datetime.now(dt.UTC).date().replace(day=1).isoformat()
    ids = []
    for name, budget in [("Alpha", None), ("Beta", "1000")]:
        body = {"name": name, "color": "#336699", "monthly_budget": budget}
        ids.append((await client.post("/api/categories", json=body, headers=h)).json()["id"])
    # 41.15 of 123.45 EUR is 33.33 %, 82.30 is 66.67 % (of Beta's 1000 EUR budget: 8.23 % used).
    for amount, category in [("41.15", ids[0]), ("82.30", ids[1])]:
        body = {"title": "x", "amount": amount, "currency": "EUR", "spent_on": first, "category_id": category}
        assert (await client.post("/api/expenses", json=body, headers=h)).status_code == 201
    html = await page(client, user, "/reports")
    assert "33,33%" in html
    assert "66,67%" in html
    assert "8,23% used" in html
    assert "33.33%" not in html
    # The chart's title names the period in the locale too (not ISO dates).
    assert f"Spending by category, {dt.date.fromisoformat(first):%d.%m.%Y} to" in html
    client.cookies.clear()


async def test_currency_change_confirmation_says_the_old_rates_stop_applying(client: Client, user: Session) -> None:
    from tests.test_currency_choice import _post_form

    for currency in ("EUR", "GBP"):
        body = {"currency": currency, "rate": "1.1", "valid_from": "2024-01-01"}
        assert (await client.post("/api/rates", json=body, headers=user.headers)).status_code == 201
    asked = await _post_form(
        client, user, "/settings", "/settings", {"currency": "EUR", "theme": "system", "timezone": "UTC"}
    )
    assert asked.status_code == 200
    text = " ".join(asked.text.split())
    assert (
        "Your 2 exchange rates into USD are kept but not used while your currency is EUR: converting into EUR needs "
        '<a href="/rates">rates into EUR</a>.'
    ) in text
    client.cookies.clear()


async def test_a_new_budget_currency_must_be_in_use_today(client: Client, user: Session) -> None:
    base = {"name": "Old money", "color": "#336699", "monthly_budget": "100"}
    for code in ("XTS", "DEM"):
        response = await client.post("/api/categories", json={**base, "budget_currency": code}, headers=user.headers)
        assert response.status_code == 400, response.text
        assert response.json()["errors"] == [
            {
                "field": "budget_currency",
                "message": "is not a currency in use today; choose an active ISO 4217 code such as USD or EUR",
            }
        ]
    created = await client.post("/api/categories", json={**base, "budget_currency": "CHF"}, headers=user.headers)
    assert created.status_code == 201, created.text
    patched = await client.patch(
        f"/api/categories/{created.json()['id']}", json={"budget_currency": "XTS"}, headers=user.headers
    )
    assert patched.status_code == 400, patched.text


async def test_openapi_has_every_issue_14_operation_under_plain_unique_names(client: Client) -> None:
    import re

    spec = (await client.get("/api/openapi.json")).json()
    names = list(spec["components"]["schemas"])
    assert [n for n in names if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", n)] == []  # no module-prefixed names
    operations = [op["operationId"] for path in spec["paths"].values() for op in path.values() if "operationId" in op]
    assert len(operations) == len(set(operations))
    for needed in (
        "listRates",
        "createRate",
        "importRates",
        "exportRates",
        "expenseTotals",
        "uploadStatement",
        "previewStatement",
        "commitStatement",
        "listImportProfiles",
        "reportBudget",
    ):
        assert needed in operations, needed
    fields = {
        ("ExpenseRead", "amount"),
        ("CategoryRead", "budget_currency"),
        ("UserSettings", "locale"),
        ("UserSettings", "convert_totals"),
        ("Summary", "converted"),
        ("BudgetLine", "not_converted"),
    }
    for schema, field in fields:
        assert field in spec["components"]["schemas"][schema]["properties"], (schema, field)


async def test_a_statements_fixed_currency_must_be_in_use_today(client: Client, user: Session) -> None:
    from tests.test_bank_import import preview, settings, uploaded

    up = await uploaded(client, user, "us-chase-checking.csv")
    for code in ("XTS", "DEM", "ZZZ"):
        response = await preview(client, user, settings(up, currency=code))
        assert response.status_code == 400, (code, response.text[:300])
    assert (await preview(client, user, settings(up, currency="CAD"))).status_code == 200


async def test_a_jpy_budget_converts_spending_to_whole_yen(client: Client, user: Session) -> None:
    import datetime as dt

    h = user.headers
    first = dt.datetime.now(dt.UTC).date().replace(day=1).isoformat()
    settings = (await client.get("/api/settings", headers=h)).json()
    assert (await client.put("/api/settings", json={**settings, "currency": "EUR"}, headers=h)).status_code == 200
    body = {"currency": "JPY", "rate": "0.0062", "valid_from": "2020-01-01"}
    assert (await client.post("/api/rates", json=body, headers=h)).status_code == 201
    body = {"name": "Japan", "color": "#336699", "monthly_budget": "50000", "budget_currency": "JPY"}
    japan = (await client.post("/api/categories", json=body, headers=h)).json()
    for amount, currency in [("10.00", "EUR"), ("1000", "JPY"), ("-3.33", "EUR")]:
        expense = {"title": "x", "amount": amount, "currency": currency, "spent_on": first, "category_id": japan["id"]}
        assert (await client.post("/api/expenses", json=expense, headers=h)).status_code == 201
    line = next(x for x in (await client.get("/api/reports/budget", headers=h)).json()["lines"] if x["name"] == "Japan")
    # 1000 JPY + (10.00 - 3.33 = 6.67 EUR) / 0.0062 = 1000 + 1075.806... = 2075.806... -> 2076 yen (JPY has no cents).
    assert (line["spent"], line["remaining"], line["percent"]) == ("2076.00", "47924.00", "4.15")
    # Into EUR (cents): 1000 * 0.0062 = 6.20 + 6.67 = 12.87.
    summary = (await client.get(f"/api/reports/summary?from={first}&convert=true", headers=h)).json()
    assert summary["converted"]["total"] == "12.87"


async def test_a_statement_imported_before_a_default_currency_change_is_still_recognised(
    client: Client, user: Session
) -> None:
    from tests.test_bank_import import commit, preview, settings, uploaded

    first = await uploaded(client, user, "us-chase-checking.csv")  # no currency in the file: the default (USD)
    done = await commit(client, user, {**settings(first), "save_profile_as": "Chase"})
    assert done.json()["imported"] == 19
    current = (await client.get("/api/settings", headers=user.headers)).json()
    changed = await client.put("/api/settings", json={**current, "currency": "EUR"}, headers=user.headers)
    assert changed.status_code == 200
    # The same file again, with the saved bank: still USD, so all 19 are recognised as imported.
    again = await uploaded(client, user, "us-chase-checking.csv", profile_id=done.json()["profile_id"])
    shown = (await preview(client, user, settings(again))).json()
    assert (shown["counts"]["to_import"], shown["counts"]["duplicates"]) == (0, 19)
