"""The search box in Chromium: "joes" finds Trader Joe's, operators become removable chips, a bad one is shown inline.

Desktop and a 375 px phone, with and without JavaScript (the search is a plain GET form, the chips plain links).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.a11y import assert_accessible
from tests.browser.conftest import UI

pytestmark = pytest.mark.browser

VARIANTS = {
    "desktop-js": ((1280, 900), True),
    "desktop-nojs": ((1280, 900), False),
    "phone-js": ((375, 740), True),
    "phone-nojs": ((375, 740), False),
}


def titles(ui: UI) -> list[str]:
    cells = ui.page.locator("table.expenses tbody tr[data-expense-id] td[data-label='What']")
    return [text.split("\n")[0].strip() for text in cells.all_inner_texts()]


@pytest.mark.parametrize("variant", VARIANTS)
def test_search_finds_trader_joes_and_shows_operators_as_chips(browser: Any, live_server: str, variant: str) -> None:
    viewport, javascript = VARIANTS[variant]
    person = UI(browser, live_server, javascript=javascript, viewport=viewport)
    person.sign_in()
    page = person.page
    person.add_expense("Trader Joe's", "54.20", category="Food")
    person.add_expense("Café Central", "4.80", category="Food")
    person.add_expense("Groceries", "120.00", category="Food")
    person.add_expense("Taxi", "18.40", category="Transport")

    page.goto("/expenses")
    search = page.locator("#search")  # the id the "/" shortcut focuses
    expect(search).to_have_accessible_name("Search")
    search.fill("joes")
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"q=joes"))
    expect(page.get_by_test_id("result-count")).to_have_text("Showing 1–1 of 1 expense")  # noqa: RUF001
    assert titles(person) == ["Trader Joe's"]

    search = page.locator("#search")
    search.fill("cafe")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"q=cafe"))
    assert titles(person) == ["Café Central"]

    search = page.locator("#search")
    search.fill("grocereis category:food amount:>100")
    search.press("Enter")
    assert titles(person) == ["Groceries"]
    chips = page.get_by_test_id("search-chips")
    expect(chips.get_by_role("link")).to_have_count(2)
    expect(chips.get_by_role("link", name="Category: food (remove)")).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"/expenses with chips overflows by {overflow}px at {viewport[0]}px"
    person.screenshot(f"search-{variant}")

    chips.get_by_role("link", name="Amount > 100 (remove)").click()
    expect(page.locator("#search")).to_have_value("grocereis category:food")
    expect(page.get_by_test_id("search-chips").get_by_role("link")).to_have_count(1)
    assert titles(person) == ["Groceries"]

    search = page.locator("#search")
    search.fill("amount:>lots taxi")
    search.press("Enter")
    expect(search).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#e-search")).to_contain_text("Amount: takes a number")
    expect(page.locator("#search")).to_have_value("amount:>lots taxi")
    assert_accessible(page, f"search with a bad operator ({variant})")
    if variant == "phone-nojs":
        person.screenshot("search-error-phone")
    person.close()
