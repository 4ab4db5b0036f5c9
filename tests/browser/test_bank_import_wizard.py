# ruff: noqa: RUF001 - the expenses list shows its range with an en dash, as the UI writes it
"""The bank-statement import wizard, as a person uses it in headless Chromium, with and without JavaScript.

Every expected value is a literal below, worked out by hand from the fixture files in tests/data/bank-statements/
(what each file looks like, which rows are money out, their sum): never read from the code under test.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import UI

pytestmark = pytest.mark.browser

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "bank-statements"


@dataclass(frozen=True)
class Statement:
    detected: dict[str, str]
    """The value each file-format select shows pre-selected (form values: encoding, delimiter, ... as posted)."""
    rows: int
    to_import: int
    skipped: int
    totals: str
    """The preview's "Total to import" line."""
    spent: dict[str, Decimal]
    """Per currency, the sum of the money-out rows: what the expenses list adds up to afterwards."""
    columns: dict[str, str] = field(default_factory=dict)
    """Columns the person corrects in step 3 (the rest of the guess is accepted)."""
    new_categories: str = ""
    """The result page's "New categories" list (categories come from the category column, when one is mapped)."""
    currency: str = ""
    """The currency the person types in step 3 for rows without one (blank: accept what is pre-filled)."""


STATEMENTS: dict[str, Statement] = {
    # 22 rows: 19 debits (sum 3010.35) and 3 credits (two payrolls, an Amazon refund).
    "us-chase-checking.csv": Statement(
        detected={
            "encoding": "utf-8",
            "delimiter": ",",
            "header_line": "1",
            "date_format": "%m/%d/%Y",
            "decimal": ".",
            "thousands": ",",
        },
        rows=22,
        to_import=19,
        skipped=3,
        totals="Total to import: $3,010.35 (19 rows)",
        spent={"USD": Decimal("3010.35")},
        columns={"category": "Type"},
        new_categories="ATM, DEBIT_CARD, ACH_DEBIT, ACCT_XFER, CHECK_PAID, QUICKPAY_DEBIT",
    ),
    # Windows-1252, three account lines and a blank line above the header; 16 "Paid out", 2 "Paid in".
    "uk-nationwide-flexaccount.csv": Statement(
        detected={
            "encoding": "cp1252",
            "delimiter": ",",
            "header_line": "5",
            "date_format": "%d %b %Y",
            "decimal": ".",
            "thousands": ",",
        },
        rows=18,
        to_import=16,
        skipped=2,
        totals="Total to import: £2,203.33 (16 rows)",
        spent={"GBP": Decimal("2203.33")},
    ),
    # No header row at all (header line 0) and no currency in the file: the person types GBP in step 3. 12 rows,
    # 10 negative (sum 1389.68), a salary and an ASOS refund positive.
    "uk-hsbc-no-header.csv": Statement(
        detected={
            "encoding": "utf-8",
            "delimiter": ",",
            "header_line": "0",
            "date_format": "%d/%m/%Y",
            "decimal": ".",
            "thousands": ",",
        },
        rows=12,
        to_import=10,
        skipped=2,
        totals="Total to import: £1,389.68 (10 rows)",
        spent={"GBP": Decimal("1389.68")},
        currency="GBP",
    ),
    # Latin-1, six lines above the header; 14 negative amounts, salary and a Zalando refund positive.
    "de-dkb-girokonto.csv": Statement(
        detected={
            "encoding": "latin-1",
            "delimiter": ";",
            "header_line": "7",
            "date_format": "%d.%m.%Y",
            "decimal": ",",
            "thousands": ".",
        },
        rows=16,
        to_import=14,
        skipped=2,
        totals="Total to import: €1,997.56 (14 rows)",
        spent={"EUR": Decimal("1997.56")},
    ),
    # UTF-8 with BOM, three lines above the header, a balance footer (not a row); 15 debits, 2 credits.
    "fr-credit-agricole-compte.csv": Statement(
        detected={
            "encoding": "utf-8-sig",
            "delimiter": ";",
            "header_line": "4",
            "date_format": "%d/%m/%Y",
            "decimal": ",",
            "thousands": " ",
        },
        rows=17,
        to_import=15,
        skipped=2,
        totals="Total to import: €1,587.83 (15 rows)",
        spent={"EUR": Decimal("1587.83")},
    ),
    # Three currencies; 14 negative rows (exchanges out count as money out), 5 positive (top-up, exchanges in,
    # salary, card refund).
    "neobank-revolut-account.csv": Statement(
        detected={
            "encoding": "utf-8",
            "delimiter": ",",
            "header_line": "1",
            "date_format": "%Y-%m-%d %H:%M:%S",
            "decimal": ".",
            "thousands": ",",
        },
        rows=19,
        to_import=14,
        skipped=5,
        totals="Total to import: €80.20 (3 rows), £1,089.14 (9 rows), $48.68 (2 rows)",
        spent={"GBP": Decimal("1089.14"), "EUR": Decimal("80.20"), "USD": Decimal("48.68")},
    ),
}

# Every statement through every step, with JavaScript and without it (each step is a plain form).
RUNS = [
    pytest.param(name, javascript, id=f"{name.removesuffix('.csv')}-{'js' if javascript else 'nojs'}")
    for name in STATEMENTS
    for javascript in (True, False)
]


def person(browser: Any, live_server: str, *, javascript: bool = True, viewport: tuple[int, int] = (1280, 900)) -> UI:
    someone = UI(browser, live_server, javascript=javascript, viewport=viewport)
    someone.sign_in()
    return someone


def upload(ui: UI, name: str, profile: str | None = None) -> None:
    page = ui.page
    page.goto("/import/bank")
    expect(page.get_by_role("heading", name="1. Upload the CSV file from your bank")).to_be_visible()
    page.get_by_label(re.compile(r"^Statement file")).set_input_files(str(FIXTURES / name))
    if profile:
        page.get_by_label("Saved bank settings").select_option(label=profile)
    page.get_by_role("button", name="Upload and continue").click()
    expect(page.get_by_role("heading", name="2. File format")).to_be_visible()


def counts(ui: UI) -> tuple[str, ...]:
    """The preview's counts as shown: (will import, duplicates, skipped, problems)."""
    page = ui.page
    return tuple(
        page.get_by_test_id(f"bank-count-{key}").locator("strong").inner_text()
        for key in ("import", "duplicate", "skipped", "problem")
    )


def expenses(ui: UI) -> tuple[str, dict[str, Decimal]]:
    """The expenses list's count line, and the total per currency of the list's CSV export."""
    page = ui.page
    page.goto("/expenses")
    shown = page.get_by_test_id("result-count").inner_text().strip()
    href = page.get_by_role("link", name="Export CSV").get_attribute("href")
    assert href
    exported = page.request.get(href)
    assert exported.status == 200
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for item in csv.DictReader(io.StringIO(exported.text())):
        sums[item["currency"]] += Decimal(item["amount"])
    return shown, dict(sums)


def well_formed(ui: UI) -> None:
    """The page has no duplicate ids (labels and aria-describedby point at one element)."""
    ids = ui.page.locator("[id]").evaluate_all("els => els.map(e => e.id)")
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def finish(ui: UI) -> None:
    csp_violations = [m for m in ui.console if "Content Security Policy" in m]
    ui.close()
    assert csp_violations == []


def no_sideways_scroll(ui: UI, where: str) -> None:
    overflow = ui.page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{where} overflows by {overflow}px"


def import_with_guess(ui: UI, name: str) -> None:
    """Upload and accept every detected and guessed value up to the preview."""
    upload(ui, name)
    ui.page.get_by_role("button", name="Next: columns").click()
    ui.page.get_by_role("button", name="Next: preview").click()
    expect(ui.page.get_by_role("heading", name="4. Preview")).to_be_visible()


def confirm_import(ui: UI, result: str) -> None:
    page = ui.page
    page.get_by_test_id("bank-import-submit").click()
    expect(page.get_by_test_id("bank-import-result")).to_have_text(result)


@pytest.mark.parametrize(("name", "javascript"), RUNS)
def test_each_bank_statement_through_the_wizard(browser: Any, live_server: str, name: str, javascript: bool) -> None:
    expected = STATEMENTS[name]
    ui = person(browser, live_server, javascript=javascript)
    page = ui.page
    shots = name == "us-chase-checking.csv" and javascript
    if shots:
        page.goto("/import/bank")
        ui.screenshot("bank-import-1-upload")
    upload(ui, name)

    # Step 2: the detected format is pre-selected.
    shown = {key: page.get_by_test_id(f"bi-{key}").input_value() for key in expected.detected}
    assert shown == expected.detected
    well_formed(ui)
    if shots:
        ui.screenshot("bank-import-2-format")
    page.get_by_role("button", name="Next: columns").click()

    # Step 3: accept the guessed columns, correct some, and pick the sign convention.
    expect(page.get_by_role("heading", name="3. Columns")).to_be_visible()
    well_formed(ui)
    for role, column in expected.columns.items():
        page.get_by_test_id(f"bi-{role}").select_option(label=column)
    if page.get_by_test_id("bi-amount").input_value():
        sign = page.get_by_label("Sign of the amount column")
        sign.select_option(label="Negative amounts are money out (most banks)")
    else:  # a debit and a credit column: the sign does not matter, the column does
        expect(page.get_by_test_id("bi-debit")).not_to_have_value("")
        expect(page.get_by_test_id("bi-credit")).not_to_have_value("")
    if expected.currency:
        page.get_by_label("Currency of rows without one").fill(expected.currency)
    page.get_by_label("Money in (salary, top-ups, refunds)").select_option(label="Skip it")
    if shots:
        ui.screenshot("bank-import-3-columns")
    page.get_by_role("button", name="Next: preview").click()

    # Step 4: the preview's counts and total.
    expect(page.get_by_role("heading", name="4. Preview")).to_be_visible()
    assert counts(ui) == (str(expected.to_import), "0", str(expected.skipped), "0")
    well_formed(ui)
    expect(page.get_by_test_id("bank-totals")).to_have_text(expected.totals)
    rows = page.get_by_test_id("bank-row")
    expect(rows).to_have_count(expected.rows)
    expect(page.locator("[data-testid=bank-row][data-status=import]")).to_have_count(expected.to_import)
    expect(page.locator("[data-testid=bank-row][data-status=skipped]")).to_have_count(expected.skipped)
    expect(page.get_by_test_id("bank-import-submit")).to_have_text(f"Import {expected.to_import} expenses")
    if shots:
        ui.screenshot("bank-import-4-preview")

    # Step 5: import, and the expenses list has them.
    result = f"Imported {expected.to_import} expenses. {expected.skipped} skipped."
    if expected.new_categories:
        result += f" New categories: {expected.new_categories}."
    confirm_import(ui, result)
    if shots:
        ui.screenshot("bank-import-5-done")
    page.get_by_role("link", name="See your expenses").click()
    n = expected.to_import
    assert expenses(ui) == (f"Showing 1–{n} of {n} expenses", expected.spent)
    finish(ui)


def test_reimport_and_an_overlapping_statement_import_nothing_twice(browser: Any, live_server: str) -> None:
    ui = person(browser, live_server, javascript=False)
    page = ui.page
    import_with_guess(ui, "us-chase-checking.csv")
    confirm_import(ui, "Imported 19 expenses. 3 skipped.")

    import_with_guess(ui, "us-chase-checking.csv")  # the same file again
    assert counts(ui) == ("0", "19", "3", "0")
    expect(page.locator("[data-testid=bank-row][data-status=duplicate]")).to_have_count(19)
    expect(page.locator("[data-testid=bank-row][data-status=skipped]")).to_have_count(3)
    # The file's first row (line 2) is the 28 Nov ATM withdrawal.
    expect(page.locator("[data-testid=bank-row][data-line='2']")).to_contain_text(
        re.compile(r"already imported on \d{4}-\d{2}-\d{2} from us-chase-checking\.csv, row 2")
    )
    expect(page.get_by_test_id("bank-import-submit")).to_have_text("Import 0 expenses")
    confirm_import(ui, "Imported 0 expenses. 19 already imported before were left out. 3 skipped.")
    assert expenses(ui) == ("Showing 1–19 of 19 expenses", {"USD": Decimal("3010.35")})

    # The next statement repeats 27-28 Nov (3 money-out rows, 1 payroll) and adds 6 rows into December, one of them
    # money in: 5 new expenses, 104.22 + 129.00 + 58.14 + 1850.00 + 11.99 = 2153.35.
    import_with_guess(ui, "us-chase-checking-2.csv")
    assert counts(ui) == ("5", "3", "2", "0")
    expect(page.get_by_test_id("bank-totals")).to_have_text("Total to import: $2,153.35 (5 rows)")
    confirm_import(ui, "Imported 5 expenses. 3 already imported before were left out. 2 skipped.")
    assert expenses(ui) == ("Showing 1–24 of 24 expenses", {"USD": Decimal("5163.70")})
    finish(ui)


def test_correcting_the_date_format_changes_the_preview(browser: Any, live_server: str) -> None:
    ui = person(browser, live_server)
    page = ui.page
    upload(ui, "us-chase-checking.csv")
    # Read as day/month, the 13 rows dated after the 12th of November have no such month; the 9 others move to
    # other days (11/12/2026 becomes 11 December).
    page.get_by_test_id("bi-date_format").select_option("%d/%m/%Y")
    # With JavaScript a changed select re-checks the format at once: the page comes back with the correction.
    expect(page).to_have_url(re.compile(r"/format\?.*date_format=%25d%2F%25m%2F%25Y"))
    expect(page.get_by_test_id("bi-date_format")).to_have_value("%d/%m/%Y")
    page.get_by_role("button", name="Next: columns").click()
    page.get_by_role("button", name="Next: preview").click()
    assert counts(ui) == ("9", "0", "0", "13")
    # PUGET SOUND ENERGY, 11/12/2026, is on line 16 (the row on lines 9-10 has a two-line description).
    twelfth = page.locator("[data-testid=bank-row][data-line='16']")
    expect(twelfth).to_contain_text("PUGET SOUND ENERGY")
    expect(twelfth).to_contain_text("Dec 11, 2026")  # shown in the browser's locale (en-US)
    expect(page.locator("[data-testid=bank-row][data-status=problem]")).to_have_count(13)

    page.get_by_role("link", name="file format").click()
    expect(page.get_by_test_id("bi-date_format")).to_have_value("%d/%m/%Y")
    page.get_by_test_id("bi-date_format").select_option("%m/%d/%Y")
    expect(page).to_have_url(re.compile(r"/format\?.*date_format=%25m%2F%25d%2F%25Y"))
    page.get_by_role("button", name="Next: columns").click()
    page.get_by_role("button", name="Next: preview").click()
    assert counts(ui) == ("19", "0", "3", "0")
    expect(page.locator("[data-testid=bank-row][data-line='16']")).to_contain_text("Nov 12, 2026")
    finish(ui)


def test_saved_bank_settings_prefill_the_next_upload(browser: Any, live_server: str) -> None:
    ui = person(browser, live_server, javascript=False)
    page = ui.page
    upload(ui, "uk-nationwide-flexaccount.csv")
    page.get_by_role("button", name="Next: columns").click()
    page.get_by_test_id("bi-category").select_option(label="Transaction type")
    page.get_by_role("button", name="Next: preview").click()
    page.get_by_label(re.compile(r"^Save these settings as")).fill("Nationwide")
    confirm_import(
        ui,
        "Imported 16 expenses. 2 skipped. New categories: Direct debit, Contactless payment, Visa purchase, "
        "Standing order, Transfer to, ATM Withdrawal. Settings saved as “Nationwide”.",
    )

    upload(ui, "uk-nationwide-flexaccount.csv", profile="Nationwide")
    expect(page.get_by_test_id("bi-encoding")).to_have_value("cp1252")
    expect(page.get_by_test_id("bi-header_line")).to_have_value("5")
    page.get_by_role("button", name="Next: columns").click()
    expect(page.get_by_test_id("bi-category").locator("option:checked")).to_have_text("Transaction type")
    expect(page.get_by_test_id("bi-debit").locator("option:checked")).to_have_text("Paid out")
    expect(page.get_by_test_id("bi-credit").locator("option:checked")).to_have_text("Paid in")
    page.get_by_role("button", name="Next: preview").click()
    assert counts(ui) == ("0", "16", "2", "0")
    expect(page.get_by_test_id("bi-save_as")).to_have_value("Nationwide")
    finish(ui)


def test_phone_width_wizard_never_scrolls_sideways(browser: Any, live_server: str) -> None:
    ui = person(browser, live_server, viewport=(375, 740))
    page = ui.page
    page.goto("/import/bank")
    no_sideways_scroll(ui, "upload")
    upload(ui, "de-dkb-girokonto.csv")
    no_sideways_scroll(ui, "file format")
    page.get_by_role("button", name="Next: columns").click()
    expect(page.get_by_role("heading", name="3. Columns")).to_be_visible()  # measure the new page, not the old
    no_sideways_scroll(ui, "columns")
    page.get_by_role("button", name="Next: preview").click()
    expect(page.get_by_role("heading", name="4. Preview")).to_be_visible()
    no_sideways_scroll(ui, "preview")
    ui.screenshot("bank-import-preview-phone")
    confirm_import(ui, "Imported 14 expenses. 2 skipped.")
    no_sideways_scroll(ui, "done")
    finish(ui)
