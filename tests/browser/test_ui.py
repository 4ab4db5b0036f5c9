# ruff: noqa: RUF001 - the UI shows ranges with an en dash, as in "1 to 25" written typographically
"""What a person does in the browser, end to end, in headless Chromium against the real server and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import UI

pytestmark = pytest.mark.browser

PAGES = ["/", "/expenses", "/expenses/new", "/categories", "/reports", "/import", "/settings"]


def row(ui: UI, title: str) -> Any:
    return ui.page.locator("table.expenses tbody tr", has_text=title)


def test_sign_in_page_offers_dev_login_and_redirects_back(browser: Any, live_server: str) -> None:
    person = UI(browser, live_server)
    page = person.page
    page.goto("/reports")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Freports$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("link", name="Continue with Google")).to_be_visible()
    expect(page.get_by_role("link", name="Continue with Keycloak")).to_be_visible()
    person.screenshot("login-light")
    page.get_by_label("Email").fill("not-an-email")
    page.get_by_label("Email").evaluate("el => el.type = 'text'")  # let the server validate it
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".error")).to_contain_text("Is not in the expected format")
    page.get_by_label("Email").fill(person.email)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server}/reports")
    person.close()


def test_add_edit_delete_with_javascript(ui: UI) -> None:
    page = ui.page
    page.get_by_label("What").fill("Farmers market")
    page.get_by_label("Amount").fill("23.45")
    page.get_by_label("Category").select_option(label="Food")
    page.get_by_role("button", name="Add expense").click()
    expect(page.get_by_role("status")).to_have_text("Expense added.")
    expect(page.get_by_test_id("month-total")).to_have_text("$23.45")
    expect(page.locator("table").first).to_contain_text("Farmers market")

    page.goto("/")  # the quick-add form now defaults to the last used category
    expect(page.get_by_label("Category")).to_have_value(re.compile(r"[0-9a-f-]{36}"))
    expect(page.get_by_label("Category").locator("option:checked")).to_have_text("Food")

    page.goto("/expenses")
    target = row(ui, "Farmers market")
    target.get_by_text("Edit").click()
    target.get_by_label("Amount").fill("30")
    target.get_by_label("What").fill("Farmers market (veg)")
    target.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Changes saved.")
    expect(row(ui, "Farmers market (veg)")).to_contain_text("$30.00")

    page.once("dialog", lambda dialog: dialog.accept())
    row(ui, "Farmers market (veg)").get_by_role("button", name="Delete").click()
    expect(page.get_by_role("status")).to_have_text("Expense deleted.")
    expect(row(ui, "Farmers market")).to_have_count(0)


def test_validation_messages_keep_what_was_typed(ui: UI) -> None:
    page = ui.page
    page.goto("/expenses/new")
    page.get_by_label("What").fill("Concert tickets")
    page.get_by_label("Amount").fill("12,5x")
    page.get_by_label("Notes").fill("front row")
    page.get_by_role("button", name="Add expense").click()
    amount = page.get_by_label("Amount")
    expect(amount).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-e-amount")).to_have_text("Use the format 1,234.56")
    expect(page.get_by_label("What")).to_have_value("Concert tickets")
    expect(page.get_by_label("Notes")).to_have_value("front row")
    expect(amount).to_have_value("12,5x")
    ui.screenshot("expense-form-error-light")


def test_filter_sort_paginate_and_export(ui: UI, tmp_path: Any) -> None:
    page = ui.page
    lines = ["title,amount,spent_on,category"]
    lines += [f"Coffee {i:02d},{i}.25,2024-03-{(i % 28) + 1:02d},Food" for i in range(1, 31)]
    lines += ["Train ticket,55.00,2024-04-02,Transport", "Train snack,4.10,2024-04-02,Food"]
    upload = tmp_path / "expenses.csv"
    upload.write_text("\n".join(lines) + "\n")
    page.goto("/import")
    page.get_by_label("CSV file").set_input_files(str(upload))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_test_id("import-result")).to_contain_text("Imported 32 expenses.")

    page.goto("/expenses")
    expect(page.get_by_test_id("result-count")).to_have_text("Showing 1–25 of 32 expenses")
    page.get_by_role("link", name="Older →").click()
    expect(page.get_by_test_id("result-count")).to_have_text("Showing 26–32 of 32 expenses")
    expect(page.locator("table.expenses tbody tr")).to_have_count(7)

    page.goto("/expenses")
    page.get_by_label("Search").fill("train")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"q=train"))
    expect(page.get_by_test_id("result-count")).to_have_text("Showing 1–2 of 2 expenses")
    page.get_by_role("link", name=re.compile("^Amount")).click()  # sort by amount, largest first
    # Amounts are sorted within a currency, under a heading per currency.
    expect(page.locator("table.expenses tbody tr.group")).to_have_text(["USD — US Dollar"])
    first = page.locator("table.expenses tbody tr[data-expense-id]").first
    expect(first).to_contain_text("Train ticket")
    page.get_by_role("link", name=re.compile("^Amount")).click()  # and smallest first
    expect(page.locator("table.expenses tbody tr[data-expense-id]").first).to_contain_text("Train snack")

    shared = page.url  # filters live in the URL: the same view opens from a bookmark
    page.goto("/expenses")
    page.goto(shared)
    expect(page.get_by_test_id("result-count")).to_have_text("Showing 1–2 of 2 expenses")

    filters = page.get_by_role("search", name="Filter expenses")
    filters.get_by_label("Min amount").fill("10")
    filters.get_by_label("Category").select_option(label="Transport")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_test_id("result-count")).to_have_text("Showing 1–1 of 1 expense")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    exported = list(csv.DictReader(io.StringIO(download_info.value.path().read_text(encoding="utf-8"))))
    assert [(r["title"], r["amount"], r["category"]) for r in exported] == [("Train ticket", "55.00", "Transport")]
    ui.screenshot("expenses-light")


def test_import_refusal_lists_row_errors(ui: UI, tmp_path: Any) -> None:
    page = ui.page
    bad = tmp_path / "bad.csv"
    bad.write_text("title,amount,spent_on\nFine,1,2024-01-01\nBroken,0,2024-01-02\n,3,2024-13-01\n")
    page.goto("/import")
    page.get_by_label("CSV file").set_input_files(str(bad))
    page.get_by_role("button", name="Import").click()
    errors = page.get_by_test_id("import-errors")
    expect(errors).to_contain_text("must not be 0 (a negative amount is a refund)")
    expect(errors.locator("tbody tr")).to_have_count(3)
    expect(errors.locator("tbody tr").nth(0)).to_contain_text("3")
    expect(page.get_by_role("alert").first).to_contain_text("Nothing was imported: 3 problems found")
    ui.screenshot("import-errors-light")
    page.goto("/expenses")
    expect(page.get_by_test_id("result-count")).to_have_text("No expenses match.")


def test_categories_budgets_and_reassigning_delete(ui: UI) -> None:
    page = ui.page
    page.goto("/categories")
    add = page.locator("section", has=page.get_by_role("heading", name="Add a category"))
    add.get_by_label("Name").fill("Pets")
    add.get_by_label(re.compile(r"^Monthly budget")).fill("100")
    add.get_by_role("button", name="Add category").click()
    expect(page.get_by_role("status")).to_have_text("Category added.")
    pets = page.locator("li[data-category='Pets']")
    pets.get_by_label("Name").fill("Pet care")
    pets.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Category saved.")

    today = dt.date.today().isoformat()
    ui.add_expense("Vet visit", "85.00", category="Pet care", day=today)
    ui.add_expense("Food bowl", "25.00", category="Pet care", day=today)
    page.goto("/")
    budget = page.locator(".budget", has_text="Pet care")
    expect(budget).to_contain_text("$110.00 of $100.00")
    expect(budget).to_contain_text("Over budget")
    expect(budget).to_have_class(re.compile("budget-over"))
    ui.screenshot("dashboard-light")

    page.goto("/categories")
    page.locator("li[data-category='Pet care']").get_by_role("link", name="Delete").click()
    expect(page.get_by_role("heading")).to_contain_text("Delete “Pet care”?")
    expect(page.get_by_text("2 expenses use this category")).to_be_visible()
    page.get_by_label("New category").select_option(label="Other")
    page.get_by_role("button", name="Delete category").click()
    expect(page.get_by_role("status")).to_have_text("Category deleted.")
    page.goto("/expenses?q=Vet")
    expect(row(ui, "Vet visit")).to_contain_text("Other")
    ui.screenshot("categories-light")


def test_reports_render_svg_with_the_right_totals(ui: UI) -> None:
    page = ui.page
    this_month = dt.date.today().replace(day=1)
    ui.add_expense("Rent", "900.00", category="Housing", day=this_month.isoformat())
    ui.add_expense("Groceries", "120.40", category="Food", day=this_month.isoformat())
    ui.add_expense("More groceries", "79.60", category="Food", day=this_month.isoformat())
    page.goto("/reports")
    trend = page.locator("svg[aria-labelledby='trend-title trend-desc']")
    expect(trend.locator("title").first).to_have_text(re.compile("Spending per month, last 12 months"))
    expect(trend.locator("desc")).to_have_text("Total over the 12 months: $1,100.00.")
    expect(trend.locator("rect")).to_have_count(12)
    split = page.locator("svg[aria-labelledby='by-category-title by-category-desc']")
    expect(split.locator("desc")).to_have_text("Total: $1,100.00.")
    expect(page.get_by_test_id("period-total")).to_have_text("$1,100.00")
    table = page.get_by_test_id("category-table")
    expect(table.locator("tbody tr").nth(0)).to_contain_text("Housing")
    expect(table.locator("tbody tr").nth(0)).to_contain_text("$900.00")
    expect(table.locator("tbody tr").nth(1)).to_contain_text("$200.00")
    expect(table.locator("tbody tr").nth(1)).to_contain_text("18.18%")
    ui.screenshot("reports-light")


def test_settings_theme_switch_is_visible(ui: UI) -> None:
    page = ui.page
    page.goto("/settings")
    light_background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    page.get_by_label("Dark").check()
    page.get_by_label("Default currency").select_option("EUR")
    page.get_by_label("Time zone").select_option("Europe/Berlin")
    page.get_by_role("button", name="Save settings").click()
    # A new default currency is confirmed on a page of its own first (nothing is saved before).
    expect(page.get_by_role("heading", name="Change your default currency from USD to EUR?")).to_be_visible()
    expect(page.get_by_test_id("currency-change-effects")).to_contain_text("Budgets keep their own currency")
    page.get_by_role("button", name="Change to EUR").click()
    expect(page.get_by_role("status")).to_have_text("Settings saved.")
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    dark_background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert dark_background != light_background
    assert dark_background == "rgb(17, 21, 28)"
    page.goto("/settings")
    # The choice offers only valid zones: a forged value (as a script could post) is still refused inline.
    page.eval_on_selector("#timezone", "s => { s.add(new Option('Mars/Base', 'Mars/Base')); s.value = 'Mars/Base'; }")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#e-timezone")).to_contain_text("IANA time zone")
    page.goto("/")
    page.get_by_label("What").fill("Croissant")
    page.get_by_label("Amount").fill("2.5")
    page.get_by_role("button", name="Add expense").click()
    expect(page.get_by_test_id("month-total")).to_have_text("€2.50")
    for path in PAGES:
        page.goto(path)
        ui.screenshot(f"{path.strip('/').replace('/', '-') or 'dashboard'}-dark")


def test_sign_out_ends_the_session(ui: UI) -> None:
    page = ui.page
    cookie = next(c for c in ui.context.cookies() if c["name"] == "et_session")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    page.get_by_role("button", name=re.compile("^Sign out")).click()
    expect(page).to_have_url(re.compile(r"/login\?msg=signed-out$"))
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    page.goto("/expenses")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fexpenses$"))
    # The old token is revoked server-side, not merely forgotten by the browser.
    response = page.request.get("/api/me", headers={"Authorization": f"Bearer {cookie['value']}"})
    assert response.status == 401


def test_everything_works_without_javascript(browser: Any, live_server: str) -> None:
    person = UI(browser, live_server, javascript=False)
    person.sign_in()
    page = person.page
    person.add_expense("No-JS lunch", "11.00", category="Food")
    expect(row(person, "No-JS lunch")).to_contain_text("$11.00")
    row(person, "No-JS lunch").get_by_text("Edit").click()  # <details> opens without JavaScript
    row(person, "No-JS lunch").get_by_label("Amount").fill("12.00")
    row(person, "No-JS lunch").get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Changes saved.")
    expect(row(person, "No-JS lunch")).to_contain_text("$12.00")
    row(person, "No-JS lunch").get_by_role("button", name="Delete").click()
    expect(page.get_by_role("heading", name="Delete this expense?")).to_be_visible()  # the server asks instead
    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("status")).to_have_text("Expense deleted.")
    expect(row(person, "No-JS lunch")).to_have_count(0)
    person.close()


def test_phone_width_never_scrolls_sideways(browser: Any, live_server: str) -> None:
    person = UI(browser, live_server, viewport=(360, 740))
    person.sign_in()
    person.add_expense("A rather long expense title that has to wrap on a small phone screen", "1234567.89")
    for path in PAGES:
        person.page.goto(path)
        overflow = person.page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{path} overflows by {overflow}px at 360px"
        person.screenshot(f"{path.strip('/').replace('/', '-') or 'dashboard'}-phone")
    person.close()


def demo_month_csv(today: dt.date) -> str:
    """About three months of plausible spending, ending today, for screenshots that show the app in use."""
    items = [
        ("Rent", "1250.00", "Housing", 1),
        ("Electricity", "64.20", "Utilities", 4),
        ("Internet", "39.99", "Utilities", 6),
        ("Supermarket", "86.45", "Food", 2),
        ("Bakery", "7.80", "Food", 3),
        ("Supermarket", "112.30", "Food", 9),
        ("Farmers market", "23.10", "Food", 13),
        ("Supermarket", "94.75", "Food", 18),
        ("Lunch with Sam", "31.50", "Food", 20),
        ("Metro pass", "49.00", "Transport", 1),
        ("Taxi", "18.40", "Transport", 15),
        ("Cinema", "24.00", "Entertainment", 8),
        ("Concert", "85.00", "Entertainment", 16),
        ("Pharmacy", "12.90", "Health", 11),
        ("Running shoes", "119.00", "Shopping", 12),
    ]
    rows = ["title,amount,spent_on,category"]
    for months_back in range(3):
        first = (today.replace(day=1) - dt.timedelta(days=months_back * 31)).replace(day=1)
        for title, amount, category, day in items:
            spent = first.replace(day=min(day, 28))
            if spent <= today:
                rows.append(f"{title},{amount},{spent.isoformat()},{category}")
    return "\n".join(rows) + "\n"


def test_screenshots_of_every_page_in_use(ui: UI, tmp_path: Any) -> None:
    page = ui.page
    data = tmp_path / "demo.csv"
    data.write_text(demo_month_csv(dt.date.today()))
    page.goto("/import")
    page.get_by_label("CSV file").set_input_files(str(data))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_test_id("import-result")).to_contain_text("Imported")
    for name, budget in (("Food", "300"), ("Entertainment", "100"), ("Transport", "80")):
        page.goto("/categories")
        row = page.locator(f"li[data-category='{name}']")
        row.get_by_label(re.compile("^Monthly budget")).fill(budget)
        row.get_by_role("button", name="Save").click()
        expect(page.get_by_role("status")).to_have_text("Category saved.")
    for path in PAGES:
        page.goto(path)
        expect(page.locator("main h1")).to_be_visible()
        ui.screenshot(f"{path.strip('/').replace('/', '-') or 'dashboard'}-light")
    page.set_viewport_size({"width": 360, "height": 740})
    for path in ("/", "/expenses"):
        page.goto(path)
        ui.screenshot(f"{path.strip('/') or 'dashboard'}-phone")


def test_german_browser_types_and_reads_amounts_in_german(browser: Any, live_server: str) -> None:
    """Without JavaScript, as the forms must work: the browser's language decides the format until one is chosen."""
    person = UI(browser, live_server, javascript=False, locale="de-DE")
    try:
        person.sign_in()
        page = person.page
        page.goto("/expenses/new")
        page.get_by_label("What").fill("Jacke")
        page.get_by_label("Amount").fill("12.50")
        page.get_by_role("button", name="Add expense").click()
        expect(page.locator("#f-e-amount")).to_have_text("Use the format 1.234,56")
        expect(page.get_by_label("Amount")).to_have_value("12.50")
        page.get_by_label("Amount").fill("1.234,50")
        page.get_by_role("button", name="Add expense").click()
        page.wait_for_url("**/expenses?msg=added")
        page.goto("/expenses/new")
        page.get_by_label("What").fill("Jacke zurück")
        page.get_by_label("Amount").fill("1.234,50")
        page.get_by_label("This is a refund (money back)").check()
        page.get_by_role("button", name="Add expense").click()
        page.wait_for_url("**/expenses?msg=added")
        expect(page.get_by_role("row").filter(has_text="Jacke zurück")).to_contain_text("Refund")
        expect(page.get_by_role("row").filter(has_text="Jacke zurück")).to_contain_text("-1.234,50\u00a0$")
        person.screenshot("refund-de-light")
    finally:
        person.close()
