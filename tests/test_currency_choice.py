"""Currency choice (issue 14): active ISO 4217 codes only, the user's recent ones first, stored old codes kept, and a
default-currency change that is saved only after a confirmation step (without JavaScript).

Expected values are literals: which codes are in use (checked against what ISO 4217 says, not against Babel's own
list), the order of the "Recent" group, the words of the confirmation page.
"""

from __future__ import annotations

import datetime as dt
import re
from html import unescape
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from expense_tracker.constants import CSRF_COOKIE, SESSION_COOKIE
from tests.conftest import HTML, Session

Client = AsyncTestClient[Litestar]
INACTIVE_MESSAGE = "is not a currency in use today; choose an active ISO 4217 code such as USD or EUR"

# In use on 2026-12-05 (legal tender somewhere), and codes that are not: the test code, "no currency", fund and
# special drawing codes, and currencies withdrawn (Deutsche Mark 2002, French franc 2002, Croatian kuna 2023,
# Bulgarian lev 2026 when Bulgaria joined the euro, Netherlands Antillean guilder 2025).
ACTIVE = ["USD", "EUR", "JPY", "GBP", "CHF", "XAF", "XOF", "XCD", "XPF", "XCG", "SLE", "VES", "ZWG"]
NOT_ACTIVE = ["XTS", "XXX", "XDR", "XAU", "USN", "BOV", "DEM", "FRF", "HRK", "BGN", "ANG", "SLL", "ZWL", "CUC"]


def test_active_codes_on_a_fixed_day() -> None:
    from expense_tracker.lib.currencies import active_currency_codes

    codes = active_currency_codes(dt.date(2026, 12, 5))
    assert set(ACTIVE) <= codes
    assert not set(NOT_ACTIVE) & codes
    # The kuna was still Croatia's currency in 2022: "active" is a question about a day.
    assert "HRK" in active_currency_codes(dt.date(2022, 6, 1))


def _options(html: str, select_id: str) -> tuple[list[str], list[str], list[str]]:
    """(recent codes, all codes, selected codes) of the currency select with this id."""
    match = re.search(rf'<select id="{select_id}".*?</select>', html, re.DOTALL)
    assert match is not None, select_id
    select = match.group(0)
    recent_group = re.search(r'<optgroup label="Recent">(.*?)</optgroup>', select, re.DOTALL)
    recent = re.findall(r'<option value="([A-Z]{3})"', recent_group.group(1)) if recent_group else []
    everything = re.findall(r'<option value="([A-Z]{3})"', select)
    selected = re.findall(r'<option value="([A-Z]{3})"[^>]*\bselected\b', select)
    return recent, everything, selected


async def _page(client: Client, user: Session, path: str) -> str:
    client.cookies.set(SESSION_COOKIE, user.token)
    response = await client.get(path, headers=HTML)
    assert response.status_code == 200, response.text[:300]
    return response.text


async def _post_form(client: Client, user: Session, form_page: str, path: str, data: dict[str, str]) -> Any:
    client.cookies.set(SESSION_COOKIE, user.token)
    try:
        assert (await client.get(form_page, headers=HTML)).status_code == 200  # sets the CSRF cookie
        body = {**data, "_csrf_token": client.cookies.get(CSRF_COOKIE) or ""}
        return await client.post(path, data=body, headers=HTML)
    finally:
        client.cookies.clear()


async def _create(client: Client, user: Session, currency: str, title: str = "t") -> Any:
    return await client.post(
        "/api/expenses", json={"title": title, "amount": "5", "currency": currency}, headers=user.headers
    )


@pytest.mark.parametrize("code", ["XTS", "XXX", "DEM", "FRF", "HRK", "BGN"])
async def test_api_refuses_inactive_currencies(client: Client, user: Session, code: str) -> None:
    created = await _create(client, user, code)
    assert created.status_code == 400, created.text
    assert created.headers["content-type"].startswith("application/problem+json")
    assert created.json()["errors"] == [{"field": "currency", "message": INACTIVE_MESSAGE}]
    fine = await _create(client, user, "JPY")
    assert fine.status_code == 201
    changed = await client.patch(f"/api/expenses/{fine.json()['id']}", json={"currency": code}, headers=user.headers)
    assert changed.status_code == 400
    assert changed.json()["errors"] == [{"field": "currency", "message": INACTIVE_MESSAGE}]
    settings = {"currency": code, "theme": "dark", "timezone": "UTC"}
    refused = await client.put("/api/settings", json=settings, headers=user.headers)
    assert refused.status_code == 400
    assert refused.json()["errors"] == [{"field": "currency", "message": INACTIVE_MESSAGE}]
    assert (await client.get("/api/settings", headers=user.headers)).json()["currency"] == "USD"
    listing = (await client.get("/api/expenses", headers=user.headers)).json()
    assert [i["currency"] for i in listing["items"]] == ["JPY"]


async def test_a_stored_old_currency_is_kept_when_other_fields_change(client: Client, user: Session) -> None:
    # History in Deutsche Mark comes in through the CSV import (a file exported here imports unchanged).
    data = b"title,amount,spent_on,currency\nBrot,3.50,2001-05-02,DEM\n"
    imported = await client.post(
        "/api/expenses/import", files={"file": ("old.csv", data, "text/csv")}, headers=user.headers
    )
    assert imported.status_code == 201, imported.text
    expense = (await client.get("/api/expenses", headers=user.headers)).json()["items"][0]
    same = await client.patch(
        f"/api/expenses/{expense['id']}", json={"title": "Brötchen", "currency": "DEM"}, headers=user.headers
    )
    assert same.status_code == 200, same.text
    assert (same.json()["title"], same.json()["currency"]) == ("Brötchen", "DEM")
    # The edit page offers it as it is, selected, and saving the form keeps it.
    html = await _page(client, user, f"/expenses/{expense['id']}/edit")
    _, _, selected = _options(html, "f-currency")
    assert selected == ["DEM"]
    assert "DEM — German Mark (no longer in use)" in unescape(html)
    form = {"title": "Brezel", "amount": "3.50", "currency": "DEM", "spent_on": "2001-05-02", "next": "/expenses"}
    saved = await _post_form(client, user, f"/expenses/{expense['id']}/edit", f"/expenses/{expense['id']}", form)
    assert saved.status_code == 303, saved.text[:500]
    after = (await client.get(f"/api/expenses/{expense['id']}", headers=user.headers)).json()
    assert (after["title"], after["currency"]) == ("Brezel", "DEM")
    # Changing it to another old currency is a new choice: refused, inline on the form.
    form["currency"] = "FRF"
    refused = await _post_form(client, user, f"/expenses/{expense['id']}/edit", f"/expenses/{expense['id']}", form)
    assert refused.status_code == 400
    assert 'id="f-e-currency" class="error" role="alert">Is not a currency in use today' in refused.text
    assert (await client.get(f"/api/expenses/{expense['id']}", headers=user.headers)).json()["currency"] == "DEM"


async def test_currency_select_lists_active_codes_with_recent_ones_first(client: Client, user: Session) -> None:
    # Entered in this order: the most recently used comes first after the default (USD), each code once.
    for code in ["GBP", "JPY", "EUR", "JPY", "USD", "CHF"]:
        assert (await _create(client, user, code)).status_code == 201
    html = await _page(client, user, "/expenses/new")
    recent, everything, selected = _options(html, "f-currency")
    assert recent == ["USD", "CHF", "JPY", "EUR", "GBP"]
    assert selected == ["USD"]  # once, in the Recent group
    assert set(ACTIVE) <= set(everything)
    assert not set(NOT_ACTIVE) & set(everything)
    assert everything[len(recent) :] == sorted(everything[len(recent) :])  # then every active code, A to Z
    # The dashboard's quick add and the settings page use the same select.
    assert _options(await _page(client, user, "/"), "f-currency")[0] == recent
    assert _options(await _page(client, user, "/settings"), "s-currency")[0] == recent
    client.cookies.clear()


async def test_a_new_user_sees_the_default_alone_in_recent(client: Client, user: Session) -> None:
    recent, _, selected = _options(await _page(client, user, "/expenses/new"), "f-currency")
    assert (recent, selected) == (["USD"], ["USD"])
    client.cookies.clear()


async def test_expense_form_refuses_an_inactive_currency_inline(client: Client, user: Session) -> None:
    form = {"title": "Coins", "amount": "2", "currency": "XTS", "next": "/expenses"}
    response = await _post_form(client, user, "/expenses/new", "/expenses", form)
    assert response.status_code == 400
    assert 'aria-invalid="true" aria-describedby="f-e-currency"' in response.text
    assert "Is not a currency in use today" in response.text
    assert (await client.get("/api/expenses", headers=user.headers)).json()["total"] == 0


async def _settings(client: Client, user: Session) -> dict[str, str]:
    """The settings these tests change (locale and conversion have their own tests)."""
    found = (await client.get("/api/settings", headers=user.headers)).json()
    return {key: found[key] for key in ("currency", "theme", "timezone")}


async def test_changing_the_default_currency_asks_first(client: Client, user: Session) -> None:
    food = next(c for c in (await client.get("/api/categories", headers=user.headers)).json() if c["name"] == "Food")
    budget = await client.patch(f"/api/categories/{food['id']}", json={"monthly_budget": "1500"}, headers=user.headers)
    assert budget.status_code == 200
    change = {"currency": "EUR", "theme": "dark", "timezone": "Europe/Berlin"}

    # Step 1: nothing is saved (not even the theme); the page says exactly what will happen.
    asked = await _post_form(client, user, "/settings", "/settings", change)
    assert asked.status_code == 200
    page = unescape(asked.text)
    assert "Change your default currency from USD to EUR?" in page
    effects = re.sub(r"\s+", " ", page[page.index('data-testid="currency-change-effects"') :])
    assert "Budgets keep their own currency: the Food budget of $1,500.00 stays USD." in effects
    assert "Expenses keep their currencies: nothing is converted or relabelled." in effects
    assert "Totals in EUR will show other currencies separately, or converted with your exchange rates." in effects
    assert '<input type="hidden" name="confirm_currency" value="EUR">' in page
    assert '<a href="/settings">Keep USD</a>' in page
    assert await _settings(client, user) == {"currency": "USD", "theme": "system", "timezone": "UTC"}

    # A confirmation of another change does not count.
    stale = await _post_form(client, user, "/settings", "/settings", {**change, "confirm_currency": "GBP"})
    assert stale.status_code == 200
    assert "Change your default currency from USD to EUR?" in unescape(stale.text)
    assert (await _settings(client, user))["currency"] == "USD"

    # Step 2: confirmed, everything is saved; the budget keeps its amount.
    done = await _post_form(client, user, "/settings", "/settings", {**change, "confirm_currency": "EUR"})
    assert done.status_code == 303
    assert done.headers["location"] == "/settings?msg=settings-saved"
    assert await _settings(client, user) == change
    food_after = (await client.get(f"/api/categories/{food['id']}", headers=user.headers)).json()
    assert food_after["monthly_budget"] == "1500.00"


async def test_settings_without_a_currency_change_save_at_once(client: Client, user: Session) -> None:
    same = {"currency": "USD", "theme": "dark", "timezone": "Asia/Tokyo"}
    response = await _post_form(client, user, "/settings", "/settings", same)
    assert response.status_code == 303
    assert await _settings(client, user) == same


async def test_settings_page_refuses_an_inactive_currency_inline(client: Client, user: Session) -> None:
    response = await _post_form(
        client, user, "/settings", "/settings", {"currency": "HRK", "theme": "dark", "timezone": "UTC"}
    )
    assert response.status_code == 400
    assert 'aria-describedby="s-e-currency"' in response.text
    assert "Is not a currency in use today" in response.text
    assert (await _settings(client, user))["currency"] == "USD"


async def test_api_changes_the_default_currency_directly(client: Client, user: Session) -> None:
    body = {"currency": "JPY", "theme": "light", "timezone": "UTC"}
    response = await client.put("/api/settings", json=body, headers=user.headers)
    assert response.status_code == 200
    assert await _settings(client, user) == body


async def test_list_page_inline_editors_offer_recent_currencies_and_link_the_full_form(
    client: Client, user: Session
) -> None:
    for code in ["EUR", "JPY"]:
        assert (await _create(client, user, code)).status_code == 201
    html = await _page(client, user, "/expenses")
    client.cookies.clear()
    # Newest first: row 1 is the JPY expense. Its inline editor lists the recent currencies only (not ~150 options
    # per row), with its own selected; the full edit page, linked, has every active currency.
    recent, everything, selected = _options(html, "row1-currency")
    assert (recent, everything, selected) == (["USD", "JPY", "EUR"], ["USD", "JPY", "EUR"], ["JPY"])
    assert "Full form (any currency)" in html
    # The filter form's currency select has every active code, "All currencies" first and selected.
    assert '<option value="">All currencies</option>' in html
    _, filter_codes, filter_selected = _options(html, "flt-currency")
    assert set(ACTIVE) <= set(filter_codes)
    assert filter_selected == []
