"""Budgets over time in Chromium: change a budget from a month with rollover, month navigation on the budgets page, the
dashboard and reports, the year view; at desktop width with JavaScript and at 375 px without it."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from expense_tracker.lib.timezones import month_start
from tests.browser.a11y import assert_accessible
from tests.browser.conftest import UI

pytestmark = pytest.mark.browser

TODAY = dt.datetime.now(dt.UTC).date()  # the people below keep the default time zone, UTC
THIS_MONTH = month_start(TODAY)
LAST_MONTH = month_start(TODAY, 1)


def _add_category(ui: UI, name: str) -> None:
    page = ui.page
    page.goto("/categories")
    add = page.locator("section", has=page.get_by_role("heading", name="Add a category"))
    add.get_by_label("Name").fill(name)
    add.get_by_role("button", name="Add category").click()
    expect(page.get_by_role("status")).to_have_text("Category added.")


def _set_budget(ui: UI, name: str, amount: str, start: dt.date, *, rollover: bool) -> None:
    page = ui.page
    item = page.locator("section", has=page.get_by_role("heading", name="Change a budget")).locator("li", has_text=name)
    item.locator("summary").click()  # <details> opens without JavaScript too
    item.get_by_label("Amount").fill(amount)
    item.get_by_label("From").fill(f"{start:%Y-%m}")
    if rollover:
        item.get_by_label("Roll over what is left").check()
    item.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Budget saved.")


def _no_sideways_scroll(ui: UI, path: str) -> None:
    overflow = ui.page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{path} overflows by {overflow}px"


def _flow(ui: UI, name: str, suffix: str) -> None:
    page = ui.page
    _add_category(ui, name)
    ui.add_expense("Lessons", "60.00", category=name, day=LAST_MONTH.isoformat())
    ui.add_expense("Kit", "25.00", category=name, day=THIS_MONTH.isoformat())

    page.goto("/budgets")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Budgets, {THIS_MONTH:%B %Y}")
    _set_budget(ui, name, "100", LAST_MONTH, rollover=True)
    # Last month 100 - 60 = 40 carried in: 140 available, 25 spent, 115 left.
    line = page.locator(f"tr[data-category='{name}']")
    expect(line).to_contain_text("$40.00")
    expect(line).to_contain_text("$115.00")
    expect(line).to_contain_text("Rollover")
    expect(page.get_by_text("Rollover:")).to_be_visible()
    ui.screenshot(f"budgets-{suffix}")

    page.get_by_role("link", name=re.compile(f"← {LAST_MONTH:%B %Y}")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Budgets, {LAST_MONTH:%B %Y}")
    expect(page.locator(f"tr[data-category='{name}']")).to_contain_text("$40.00")  # left last month
    page.get_by_label("Month", exact=True).fill(f"{THIS_MONTH:%Y-%m}")
    page.get_by_role("button", name="Show month").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Budgets, {THIS_MONTH:%B %Y}")

    # A bad amount is shown next to the field, with what was typed.
    item = page.locator("section", has=page.get_by_role("heading", name="Change a budget")).locator("li", has_text=name)
    item.locator("summary").click()
    item.get_by_label("Amount").fill("12.345")
    item.get_by_role("button", name="Save").click()
    expect(page.locator("p.error[role=alert]")).to_be_visible()
    expect(page.get_by_label("Amount").and_(page.locator("[aria-invalid=true]"))).to_have_value("12.345")
    assert_accessible(page, f"budgets page with an error ({suffix})")
    ui.screenshot(f"budgets-error-{suffix}")

    page.goto(f"/budgets/year?year={TODAY.year}")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Budgets {TODAY.year}")
    expect(page.locator(f"tr[data-category='{name}']")).to_contain_text("$100.00")
    _no_sideways_scroll(ui, "/budgets/year")
    ui.screenshot(f"budgets-year-{suffix}")

    page.goto("/")
    budget = page.locator(".budget", has_text=name)
    expect(budget).to_contain_text("$25.00 of $140.00")
    page.get_by_role("link", name=re.compile(f"← {LAST_MONTH:%B %Y}")).click()
    expect(page.get_by_role("heading", name=f"{LAST_MONTH:%B %Y}", exact=True)).to_be_visible()
    expect(page.locator(".budget", has_text=name)).to_contain_text("$60.00 of $100.00")
    _no_sideways_scroll(ui, "/?month=")
    ui.screenshot(f"budgets-dashboard-{suffix}")

    page.goto(f"/reports?month={LAST_MONTH:%Y-%m}")
    expect(page.locator(f"tr[data-category='{name}']")).to_contain_text("$40.00")
    _no_sideways_scroll(ui, "/reports")
    for path in ("/budgets", f"/budgets?month={LAST_MONTH:%Y-%m}"):
        page.goto(path)
        _no_sideways_scroll(ui, path)


def test_budgets_at_desktop_width_with_javascript(ui: UI) -> None:
    _flow(ui, "Climbing", "desktop")


def test_budgets_on_a_375px_phone_without_javascript(browser: Any, live_server: str) -> None:
    person = UI(browser, live_server, javascript=False, viewport=(375, 740))
    person.sign_in()
    try:
        _flow(person, "Sailing", "phone")
    finally:
        person.close()
