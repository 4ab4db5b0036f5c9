"""Locales: amounts typed and shown in the user's locale (Babel), the locale setting, per-currency decimals."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from expense_tracker.constants import SESSION_COOKIE
from expense_tracker.lib import formatting
from expense_tracker.lib.locales import current_locale, negotiate, parse_local_amount
from expense_tracker.lib.timezones import timezone_groups
from tests.conftest import HTML, Session

Client = AsyncTestClient[Litestar]
NNBSP, NBSP = "\u202f", "\u00a0"

# (locale, currency, typed, amount) — what a person types and what it means, written out by hand.
ACCEPTED = [
    ("de_DE", "EUR", "12,50", "12.50"),
    ("de_DE", "EUR", "1.234,56", "1234.56"),
    ("de_DE", "EUR", "1234,56", "1234.56"),
    ("de_DE", "EUR", "1.234", "1234"),
    ("de_DE", "EUR", "1.234,56 €", "1234.56"),
    ("de_DE", "EUR", "-12,50", "-12.50"),
    ("de_DE", "EUR", "EUR 7", "7"),
    ("en_US", "USD", "1,234.56", "1234.56"),
    ("en_US", "USD", "12,345", "12345"),
    ("en_US", "USD", "$45", "45"),
    ("en_US", "USD", "45 $", "45"),
    ("en_US", "USD", "-$4.99", "-4.99"),
    ("en_US", "USD", "$-4.99", "-4.99"),
    ("en_US", "USD", " 12.5 ", "12.5"),
    ("en_US", "USD", "12.500", "12.500"),
    ("en_US", "JPY", "¥1,500", "1500"),
    ("fr_FR", "EUR", "1 234,56", "1234.56"),
    ("fr_FR", "EUR", f"1{NBSP}234,56", "1234.56"),
    ("fr_FR", "EUR", f"1{NNBSP}234,56 €", "1234.56"),
    ("fr_FR", "EUR", "12,5", "12.5"),
    ("en_GB", "GBP", "£1,234.56", "1234.56"),
    ("en_GB", "USD", "US$5", "5"),
    ("sv_SE", "SEK", "\u221212,50", "-12.50"),
]
# (locale, currency, typed, message)
REFUSED = [
    ("de_DE", "EUR", "12.50", "Use the format 1.234,56"),
    ("de_DE", "EUR", "1,234", "EUR amounts have at most 2 decimals (never rounded). Use the format 1.234,56"),
    ("de_DE", "EUR", "$45", "Use the format 1.234,56"),
    ("en_US", "USD", "12,50", "Use the format 1,234.56"),
    ("en_US", "USD", "1234,56", "Use the format 1,234.56"),
    ("en_US", "USD", "12.345", "USD amounts have at most 2 decimals (never rounded). Use the format 1,234.56"),
    ("en_US", "JPY", "5.5", "JPY amounts have no decimals (never rounded). Use the format 1,234.56"),
    (
        "en_US",
        "KWD",
        "1.234",
        "KWD has 3 decimals, but amounts are stored with 2: enter at most 2. Use the format 1,234.56",
    ),
    ("en_US", "USD", "€5", "Use the format 1,234.56"),
    ("en_US", "USD", "1e5", "Use the format 1,234.56"),
    ("en_US", "USD", "+5", "Use the format 1,234.56"),
    ("en_US", "USD", "1_000", "Use the format 1,234.56"),
    ("en_US", "USD", "NaN", "Use the format 1,234.56"),
    ("en_US", "USD", "\u0663", "Use the format 1,234.56"),
    ("en_US", "USD", ",5", "Use the format 1,234.56"),
    ("en_US", "USD", "", "Use the format 1,234.56"),
    ("en_US", "USD", "$", "Use the format 1,234.56"),
    ("fr_FR", "EUR", "1.234,56", f"Use the format 1{NNBSP}234,56"),
    ("en_GB", "GBP", "12,50", "Use the format 1,234.56"),
]


@pytest.mark.parametrize(("locale", "currency", "typed", "amount"), ACCEPTED)
def test_amounts_typed_in_a_locale(locale: str, currency: str, typed: str, amount: str) -> None:
    assert parse_local_amount(typed, currency, locale) == Decimal(amount)


@pytest.mark.parametrize(("locale", "currency", "typed", "message"), REFUSED)
def test_ambiguous_or_invalid_amounts_are_refused_with_the_expected_format(
    locale: str, currency: str, typed: str, message: str
) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        parse_local_amount(typed, currency, locale)


# (locale, money(1234.56 EUR), money(-4.99 USD), day(2024-03-05), month_label("2024-03"))
FORMATTED = [
    ("en_US", "€1,234.56", "-$4.99", "Mar 5, 2024", "Mar 2024"),
    ("de_DE", f"1.234,56{NBSP}€", f"-4,99{NBSP}$", "05.03.2024", "März 2024"),
    ("fr_FR", f"1{NNBSP}234,56{NBSP}€", f"-4,99{NBSP}$US", "5 mars 2024", "mars 2024"),
    ("en_GB", "€1,234.56", "-US$4.99", "5 Mar 2024", "Mar 2024"),
]


@pytest.mark.parametrize(("locale", "euros", "refund", "day", "month"), FORMATTED)
def test_formatting_follows_the_current_locale(locale: str, euros: str, refund: str, day: str, month: str) -> None:
    token = current_locale.set(locale)
    try:
        assert formatting.money(Decimal("1234.56"), "EUR") == euros
        assert formatting.money(Decimal("-4.99"), "USD") == refund
        assert formatting.day(dt.date(2024, 3, 5)) == day
        assert formatting.month_label("2024-03") == month
    finally:
        current_locale.reset(token)
    assert formatting.money(Decimal("1234.56"), "EUR") == "€1,234.56"  # outside a request: en_US, as before


@pytest.mark.parametrize(
    ("locale", "days", "day"),
    [
        ("en_US", "February 1 \u2013 5", "February 1"),
        ("de_DE", "1.\u20135. Februar", "1. Februar"),
        ("fr_FR", "1 \u2013 5 février", "1 février"),
    ],
)
def test_dashboard_period_labels(locale: str, days: str, day: str) -> None:
    token = current_locale.set(locale)
    try:
        assert formatting.day_range(dt.date(2024, 2, 1), dt.date(2024, 2, 5)).replace("\u2009", " ") == days
        assert formatting.day_range(dt.date(2024, 2, 1), dt.date(2024, 2, 1)) == day
    finally:
        current_locale.reset(token)


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        ("de-DE,de;q=0.9,en;q=0.8", "de_DE"),
        ("de-AT", "de_AT"),
        ("de-LU,en;q=0.5", "de_DE"),  # no de_LU here: its language, via CLDR's alias de -> de_DE, before English
        ("fr", "fr_FR"),
        ("en-GB,en;q=0.5", "en_GB"),
        ("de;q=0.1, fr-CA;q=0.9", "fr_CA"),
        ("xx-YY, *", "en_US"),
        ("", "en_US"),
        (None, "en_US"),
        ("de;q=abc, es-MX", "es_MX"),
    ],
)
def test_accept_language_picks_the_locale(header: str | None, locale: str) -> None:
    assert negotiate(header) == locale


def test_time_zones_are_grouped_by_region_without_oddities() -> None:
    groups = dict(timezone_groups())
    assert list(groups) == [
        "Africa",
        "America",
        "Antarctica",
        "Arctic",
        "Asia",
        "Atlantic",
        "Australia",
        "Europe",
        "Indian",
        "Pacific",
        "UTC",
    ]
    offered = {name for names in groups.values() for name in names}
    assert {"Europe/Berlin", "America/New_York", "Asia/Kolkata", "Europe/Kyiv", "UTC"} <= offered
    assert "Europe/Berlin" in groups["Europe"]
    for odd in ("Factory", "localtime", "posixrules", "Etc/GMT+5", "US/Eastern", "GB", "Asia/Calcutta", "Europe/Kiev"):
        assert odd not in offered, odd


# --- the locale setting ---------------------------------------------------------------------------------------------


async def test_locale_setting_round_trip_and_validation(client: Client, user: Session) -> None:
    body = {"currency": "EUR", "theme": "system", "timezone": "UTC", "locale": "de-DE"}
    saved = await client.put("/api/settings", json=body, headers=user.headers)
    assert saved.status_code == 200, saved.text
    assert saved.json()["locale"] == "de_DE"
    assert (await client.get("/api/me", headers=user.headers)).json()["locale"] == "de_DE"
    bad = await client.put("/api/settings", json={**body, "locale": "xx_XX"}, headers=user.headers)
    assert bad.status_code == 400
    assert bad.json()["errors"] == [
        {"field": "locale", "message": "must be one of the supported locales such as en_US or de_DE"}
    ]
    cleared = await client.put("/api/settings", json={**body, "locale": None}, headers=user.headers)
    assert cleared.json()["locale"] is None


async def page(client: Client, user: Session, path: str, **headers: str) -> str:
    client.cookies.set(SESSION_COOKIE, user.token)
    response = await client.get(path, headers={**HTML, **headers})
    assert response.status_code == 200, response.text[:500]
    return response.text


async def post(client: Client, user: Session, path: str, data: dict[str, str], **headers: str) -> tuple[int, str]:
    await page(client, user, "/settings", **headers)  # receives the CSRF cookie
    token = client.cookies.get("et_csrftoken") or ""
    response = await client.post(path, data={**data, "_csrf_token": token}, headers={**HTML, **headers})
    return response.status_code, response.text


async def amounts(client: Client, user: Session) -> list[tuple[str, str]]:
    items = (await client.get("/api/expenses?sort=created_at", headers=user.headers)).json()["items"]
    return [(e["amount"], e["currency"]) for e in items]


async def test_without_a_choice_pages_follow_the_browser(client: Client, user: Session) -> None:
    await client.post(
        "/api/expenses", json={"title": "Rent", "amount": "1234.56", "currency": "EUR"}, headers=user.headers
    )
    german = await page(client, user, "/expenses", **{"Accept-Language": "de-DE,de;q=0.9"})
    assert f"1.234,56{NBSP}€" in german
    settings = await page(client, user, "/settings", **{"Accept-Language": "de-DE,de;q=0.9"})
    assert '<option value="" selected>Same as my browser (Deutsch (Deutschland))</option>' in settings
    american = await page(client, user, "/expenses", **{"Accept-Language": "en-US"})
    assert "€1,234.56" in american
    client.cookies.clear()


async def test_saved_locale_wins_over_the_browser(client: Client, user: Session) -> None:
    status, _ = await post(
        client,
        user,
        "/settings",
        {"currency": "USD", "theme": "system", "timezone": "Europe/Berlin", "locale": "fr_FR"},
    )
    assert status == 303
    assert (await client.get("/api/settings", headers=user.headers)).json()["locale"] == "fr_FR"
    await client.post(
        "/api/expenses", json={"title": "Rent", "amount": "1234.56", "spent_on": "2024-03-05"}, headers=user.headers
    )
    html = await page(client, user, "/expenses", **{"Accept-Language": "de-DE"})
    assert f"1{NNBSP}234,56{NBSP}$US" in html
    assert "5 mars 2024" in html
    settings = await page(client, user, "/settings")
    assert '<option value="fr_FR" lang="fr-FR" selected>français (France)</option>' in settings
    assert '<optgroup label="Europe">' in settings
    assert '<option value="Europe/Berlin" selected>Europe/Berlin</option>' in settings
    assert 'value="Factory"' not in settings
    client.cookies.clear()


# --- forms and filters parse in the locale --------------------------------------------------------------------------


async def set_locale(client: Client, user: Session, locale: str, currency: str = "EUR") -> None:
    body = {"currency": currency, "theme": "system", "timezone": "UTC", "locale": locale}
    assert (await client.put("/api/settings", json=body, headers=user.headers)).status_code == 200


async def test_expense_form_reads_the_users_locale(client: Client, user: Session) -> None:
    await set_locale(client, user, "de_DE")
    base = {"title": "Miete", "currency": "EUR", "spent_on": "2024-03-05"}
    assert (await post(client, user, "/expenses", {**base, "amount": "1.234,56 €"}))[0] == 303
    assert (await post(client, user, "/expenses", {**base, "amount": "12,50", "refund": "yes"}))[0] == 303
    assert (await post(client, user, "/expenses", {**base, "amount": "-3,10"}))[0] == 303
    assert await amounts(client, user) == [("1234.56", "EUR"), ("-12.50", "EUR"), ("-3.10", "EUR")]
    # The ambiguous and the over-precise are refused inline, and the form shows what was typed.
    status, html = await post(client, user, "/expenses", {**base, "amount": "12.50"})
    assert status == 400
    assert '<p id="f-e-amount" class="error" role="alert">Use the format 1.234,56</p>' in html
    assert 'value="12.50"' in html
    status, html = await post(client, user, "/expenses", {**base, "amount": "5,5", "currency": "JPY"})
    assert status == 400
    assert "JPY amounts have no decimals (never rounded). Use the format 1.234,56" in html
    status, html = await post(client, user, "/expenses", {**base, "amount": "0"})
    assert status == 400
    assert "Must not be 0 (a negative amount is a refund)" in html
    assert len(await amounts(client, user)) == 3
    client.cookies.clear()


async def test_edit_form_shows_a_refund_in_the_locale_and_saves_it_back(client: Client, user: Session) -> None:
    await set_locale(client, user, "de_DE")
    created = await client.post("/api/expenses", json={"title": "Return", "amount": "-1234.50"}, headers=user.headers)
    expense_id = created.json()["id"]
    html = await page(client, user, f"/expenses/{expense_id}/edit")
    assert 'name="amount" type="text" value="1234,50"' in html
    assert re.search(r'name="refund" type="checkbox" value="yes"\s+checked', html)
    status, _ = await post(
        client,
        user,
        f"/expenses/{expense_id}",
        {"title": "Return", "amount": "1234,50", "refund": "yes", "currency": "EUR", "spent_on": "2024-03-05"},
    )
    assert status == 303
    assert await amounts(client, user) == [("-1234.50", "EUR")]
    client.cookies.clear()


async def test_en_us_form_takes_dollar_signs_and_thousands(client: Client, user: Session) -> None:
    await set_locale(client, user, "en_US", currency="USD")
    base = {"title": "Shoes", "spent_on": "2024-03-05"}
    assert (await post(client, user, "/expenses", {**base, "amount": "$45"}))[0] == 303
    assert (await post(client, user, "/expenses", {**base, "amount": "1,234.56 $"}))[0] == 303
    status, html = await post(client, user, "/expenses", {**base, "amount": "12.345"})
    assert status == 400
    assert "USD amounts have at most 2 decimals (never rounded). Use the format 1,234.56" in html
    assert await amounts(client, user) == [("45.00", "USD"), ("1234.56", "USD")]
    client.cookies.clear()


async def test_page_filters_parse_in_the_locale_and_may_be_negative(client: Client, user: Session) -> None:
    await set_locale(client, user, "de_DE")
    for title, amount in [("Kauf", "1500.00"), ("Erstattung", "-20.00"), ("Kaffee", "3.20")]:
        body = {"title": title, "amount": amount, "spent_on": "2024-03-05"}
        await client.post("/api/expenses", json=body, headers=user.headers)
    html = await page(client, user, "/expenses?min_amount=-25&max_amount=1.000,00")
    assert "Erstattung" in html
    assert "Kaffee" in html
    assert "Kauf" not in html
    assert 'value="-25,00"' in html
    assert 'value="1000,00"' in html
    assert 'href="/api/expenses/export.csv?min_amount=-25.00&amp;max_amount=1000.00"' in html  # API: machine format
    # The page's own links (sorting, paging) carry the bounds in the locale, so following one filters the same way.
    sort_link = re.search(r'href="(/expenses\?min_amount=-25%2C00&amp;max_amount=1000%2C00&amp;sort=[^"]+)"', html)
    assert sort_link
    sorted_page = await page(client, user, sort_link.group(1).replace("&amp;", "&"))
    assert "Erstattung" in sorted_page
    assert "Kauf" not in sorted_page
    refunds = await page(client, user, "/expenses?max_amount=-0,01")
    assert "Erstattung" in refunds
    assert "Kaffee" not in refunds
    assert '<span class="badge refund">Refund</span>' in refunds
    client.cookies.set(SESSION_COOKIE, user.token)
    bad = await client.get("/expenses?min_amount=1,234.5", headers=HTML)
    assert bad.status_code == 400
    assert "Use the format 1.234,56" in bad.text
    # The JSON API stays in the machine format whatever the locale.
    api = await client.get("/api/expenses?max_amount=-0.01", headers=user.headers)
    assert [e["title"] for e in api.json()["items"]] == ["Erstattung"]
    assert (await client.get("/api/expenses?max_amount=-0,01", headers=user.headers)).status_code == 400
    client.cookies.clear()


# --- decimals per currency in the API and the CSV import ------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "message"),
    [
        ("12.345", "USD", "must have at most 2 decimals (amounts are never rounded)"),
        ("5.5", "JPY", "JPY amounts have no decimals (never rounded)"),
        ("1.23", "KWD", None),
        ("1.234", "KWD", "must have at most 2 decimals (amounts are never rounded)"),
        ("0", "USD", "must not be 0 (a negative amount is a refund)"),
        ("-1000000000", "USD", "must be at least -999999999.99"),
    ],
)
async def test_api_refuses_extra_decimals(
    client: Client, user: Session, amount: str, currency: str, message: str | None
) -> None:
    response = await client.post(
        "/api/expenses", json={"title": "x", "amount": amount, "currency": currency}, headers=user.headers
    )
    if message is None:
        assert response.status_code == 201, response.text
        assert response.json()["amount"] == amount
        return
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "amount", "message": message}]
    assert await amounts(client, user) == []


async def test_api_refund_and_currency_change_keep_decimals_honest(client: Client, user: Session) -> None:
    created = await client.post("/api/expenses", json={"title": "Back", "amount": "-4.99"}, headers=user.headers)
    assert created.status_code == 201
    assert created.json()["amount"] == "-4.99"
    expense_id = created.json()["id"]
    to_yen = await client.patch(f"/api/expenses/{expense_id}", json={"currency": "JPY"}, headers=user.headers)
    assert to_yen.status_code == 400
    assert to_yen.json()["errors"] == [{"field": "amount", "message": "JPY amounts have no decimals (never rounded)"}]
    both = await client.patch(
        f"/api/expenses/{expense_id}", json={"currency": "JPY", "amount": "-500"}, headers=user.headers
    )
    assert both.status_code == 200
    assert await amounts(client, user) == [("-500.00", "JPY")]


async def upload(client: Client, user: Session, content: str) -> tuple[int, dict[str, object]]:
    response = await client.post(
        "/api/expenses/import", files={"file": ("e.csv", content, "text/csv")}, headers=user.headers
    )
    return response.status_code, response.json()


async def test_csv_import_refuses_extra_decimals_and_round_trips_refunds(client: Client, user: Session) -> None:
    status, problem = await upload(
        client,
        user,
        "title,amount,spent_on,currency\n"
        "Fine,1.00,2024-01-01,USD\n"
        "Precise,12.345,2024-01-02,USD\n"
        "Yen,5.5,2024-01-03,JPY\n"
        "Dinar,1.234,2024-01-04,KWD\n",
    )
    assert status == 400
    assert problem["errors"] == [
        {"row": 3, "field": "amount", "message": "must have at most 2 decimals (amounts are never rounded)"},
        {"row": 4, "field": "amount", "message": "JPY amounts have no decimals (never rounded)"},
        {"row": 5, "field": "amount", "message": "must have at most 2 decimals (amounts are never rounded)"},
    ]
    assert await amounts(client, user) == []
    status, _ = await upload(
        client,
        user,
        "title,amount,spent_on,currency\nShoes,59.90,2024-01-01,EUR\nReturned,-59.90,2024-01-09,EUR\nTea,500,2024-01-10,JPY\n",
    )
    assert status == 201
    exported = (await client.get("/api/expenses/export.csv?sort=spent_on", headers=user.headers)).text
    rows = [line.split(",")[2:5] for line in exported.strip().splitlines()[1:]]
    assert rows == [["Shoes", "59.90", "EUR"], ["Returned", "-59.90", "EUR"], ["Tea", "500.00", "JPY"]]
    # What was exported imports unchanged (the JPY amount's ".00" is not an extra decimal).
    status, result = await upload(client, user, exported)
    assert (status, result["imported"]) == (201, 3)


async def test_budget_form_reads_the_users_locale(client: Client, user: Session) -> None:
    await set_locale(client, user, "de_DE")
    status, _ = await post(
        client, user, "/categories", {"name": "Urlaub", "color": "#336699", "monthly_budget": "1.500,50"}
    )
    assert status == 303
    budgets = {
        c["name"]: c["monthly_budget"] for c in (await client.get("/api/categories", headers=user.headers)).json()
    }
    assert budgets["Urlaub"] == "1500.50"
    assert 'value="1500,50"' in await page(client, user, "/categories")
    status, html = await post(
        client, user, "/categories", {"name": "Neu", "color": "#336699", "monthly_budget": "12.50"}
    )
    assert status == 400
    assert "Use the format 1.234,56" in html
    status, html = await post(client, user, "/categories", {"name": "Neu", "color": "#336699", "monthly_budget": "-5"})
    assert status == 400
    assert "Must be greater than 0" in html
    client.cookies.clear()
