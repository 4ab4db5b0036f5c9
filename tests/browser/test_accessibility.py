"""axe-core (WCAG 2.1 AA) on every page of the app, at desktop and phone width, in the light and the dark theme.

Each page is visited as a person gets there (forms filled and sent, a bank statement uploaded step by step) and in
the states that add markup: a list with expenses, a form re-shown with its errors, a filter with a bad value, an
import refused with its rows, the error pages.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.a11y import assert_accessible
from tests.browser.conftest import UI

pytestmark = pytest.mark.browser

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "bank-statements"
DESKTOP = (1280, 900)
PHONE = (375, 740)


def set_theme(ui: UI, theme: str) -> None:
    page = ui.page
    page.goto("/settings")
    page.get_by_label({"light": "Light", "dark": "Dark"}[theme]).check()
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status")).to_have_text("Settings saved.")
    expect(page.locator("html")).to_have_attribute("data-theme", theme)


def seed(ui: UI, tmp_path: Path) -> None:
    """A category with a budget, an expense with notes, a refund, a rate: what makes every page show its full markup."""
    page = ui.page
    page.goto("/categories")
    add = page.locator("section", has=page.get_by_role("heading", name="Add a category"))
    add.get_by_label("Name").fill("Pets")
    add.get_by_label(re.compile(r"^Monthly budget")).fill("50")
    add.get_by_role("button", name="Add category").click()
    expect(page.get_by_role("status")).to_have_text("Category added.")
    ui.add_expense("Vet visit", "85.00", category="Pets")
    page.goto("/expenses/new")
    page.get_by_label("What").fill("Returned lead")
    page.get_by_label("Amount").fill("-12.00")
    page.get_by_label("Notes").fill("Wrong size, money back")
    page.get_by_label("Category").select_option(label="Pets")
    page.get_by_role("button", name="Add expense").click()
    page.wait_for_url("**/expenses?msg=added")
    page.goto("/rates")
    page.get_by_label("Currency").fill("EUR")
    page.get_by_label(re.compile("^Rate")).fill("1.1")
    page.get_by_label("Valid from").fill("2024-01-01")
    page.get_by_role("button", name="Add rate").click()
    expect(page.get_by_role("status")).to_have_text("Exchange rate added.")


def visit_every_page(ui: UI, tmp_path: Path, label: str) -> None:
    """Every page checked; the failures of all pages are reported together."""
    page = ui.page
    failures: list[str] = []

    def check(name: str) -> None:
        expect(page.locator("main h1")).to_be_visible()
        try:
            assert_accessible(page, f"{name} ({label})")
        except AssertionError as exc:
            failures.append(str(exc))

    pages = ("/", "/expenses", "/expenses/new", "/categories", "/reports", "/import", "/rates", "/settings")
    # Issue 15's pages: tags, split form, budgets (month and year), recurring, trash.
    pages += ("/tags", "/splits/new", "/budgets", "/budgets/year", "/recurring", "/trash")
    for path in pages:
        page.goto(path)
        check(path)

    # The edit page and the delete confirmations (the no-JavaScript step; with JavaScript a dialog asks).
    page.goto("/expenses?q=Vet")
    expense_id = page.locator("table.expenses tbody tr[data-expense-id]").first.get_attribute("data-expense-id")
    page.goto(f"/expenses/{expense_id}/edit")
    check("edit expense")
    page.goto(f"/expenses/{expense_id}/delete")
    check("delete expense")
    page.goto("/categories")
    page.locator("li[data-category='Pets']").get_by_role("link", name=re.compile("^Delete")).click()
    check("delete category")

    # States that add markup: errors next to their fields, a refused filter, a refused import, error pages.
    page.goto("/expenses/new")
    page.get_by_label("What").fill("Broken")
    page.get_by_label("Amount").fill("12,5x")
    page.get_by_role("button", name="Add expense").click()
    expect(page.get_by_label("Amount")).to_have_attribute("aria-invalid", "true")
    check("new expense with errors")
    page.goto("/expenses?min_amount=lots&from=2024-99-01")
    check("expenses with bad filters")
    page.goto("/reports?from=nope")
    check("reports with a bad date")
    bad = tmp_path / "bad.csv"
    bad.write_text("title,amount,spent_on\nBroken,0,2024-01-02\n")
    page.goto("/import")
    page.get_by_label(re.compile("^CSV file")).set_input_files(str(bad))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_test_id("import-errors")).to_be_visible()
    check("import refused")
    page.goto("/settings")
    page.get_by_label("Default currency").select_option("EUR")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("heading", name=re.compile("^Change your default currency"))).to_be_visible()
    check("settings confirm")
    page.goto(f"/expenses/{uuid.uuid4()}/edit")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    check("404 page")

    # The bank-statement wizard, every step.
    page.goto("/import/bank")
    check("bank import 1 upload")
    page.get_by_label(re.compile(r"^Statement file")).set_input_files(str(FIXTURES / "us-chase-checking.csv"))
    page.get_by_role("button", name="Upload and continue").click()
    expect(page.get_by_role("heading", name="2. File format")).to_be_visible()
    check("bank import 2 format")
    page.get_by_role("button", name="Next: columns").click()
    expect(page.get_by_role("heading", name="3. Columns")).to_be_visible()
    check("bank import 3 columns")
    page.get_by_role("button", name="Next: preview").click()
    expect(page.get_by_role("heading", name="4. Preview")).to_be_visible()
    check("bank import 4 preview")
    page.get_by_test_id("bank-import-submit").click()
    expect(page.get_by_test_id("bank-import-result")).to_be_visible()
    check("bank import 5 done")
    page.goto("/expenses")  # now a full page of expenses
    check("expenses, full page")
    page.goto("/reports")
    check("reports with data")
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize(
    ("viewport", "theme", "javascript"),
    [
        pytest.param(DESKTOP, "light", True, id="desktop-light"),
        pytest.param(DESKTOP, "dark", True, id="desktop-dark"),
        pytest.param(PHONE, "light", True, id="phone-light"),
        pytest.param(PHONE, "dark", True, id="phone-dark"),
        pytest.param(PHONE, "light", False, id="phone-light-nojs"),
    ],
)
def test_every_page_passes_axe(
    browser: Any, live_server: str, tmp_path: Path, viewport: tuple[int, int], theme: str, javascript: bool
) -> None:
    ui = UI(browser, live_server, viewport=viewport, javascript=javascript)
    try:
        ui.sign_in()
        set_theme(ui, theme)
        seed(ui, tmp_path)
        visit_every_page(ui, tmp_path, f"{viewport[0]}px {theme}{'' if javascript else ' no JS'}")
    finally:
        ui.close()


def test_sign_in_page_passes_axe(browser: Any, live_server: str) -> None:
    for viewport in (DESKTOP, PHONE):
        ui = UI(browser, live_server, viewport=viewport)
        try:
            page = ui.page
            page.goto("/login")
            assert_accessible(page, f"sign-in {viewport[0]}px")
            page.get_by_label("Email").fill("not-an-email")
            page.get_by_label("Email").evaluate("el => el.type = 'text'")  # let the server validate it
            page.get_by_role("button", name="Sign in").click()
            expect(page.locator(".error")).to_be_visible()
            assert_accessible(page, f"sign-in with an error {viewport[0]}px")
            page.goto("/no-such-page")
            assert_accessible(page, f"404 signed out {viewport[0]}px")
        finally:
            ui.close()
