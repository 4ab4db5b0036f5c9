"""Trash and undo in Chromium: delete, then "Undo" from the notice, with and without JavaScript, at desktop width and
at 375 px; the Trash page restores. Screenshots: trash-*.png."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.a11y import assert_accessible
from tests.browser.conftest import UI

PHONE = (375, 812)


def row(ui: UI, title: str) -> Any:
    return ui.page.locator("table.expenses tbody tr", has_text=title)


def no_sideways_scroll(ui: UI) -> None:
    overflow = ui.page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{ui.page.url} overflows by {overflow}px"


@pytest.mark.parametrize(
    ("javascript", "viewport", "name"),
    [
        (True, (1280, 900), "desktop"),
        (False, (1280, 900), "desktop-nojs"),
        (True, PHONE, "phone"),
        (False, PHONE, "phone-nojs"),
    ],
)
def test_delete_then_undo_from_the_notice(
    browser: Any, live_server: str, javascript: bool, viewport: tuple[int, int], name: str
) -> None:
    person = UI(browser, live_server, javascript=javascript, viewport=viewport)
    person.sign_in()
    page = person.page
    person.add_expense("Birthday flowers", "24.90", category="Shopping")
    if javascript:
        page.once("dialog", lambda dialog: dialog.accept())
        row(person, "Birthday flowers").get_by_role("button", name="Delete").click()
    else:
        row(person, "Birthday flowers").get_by_role("button", name="Delete").click()
        expect(page.get_by_role("heading", name="Delete this expense?")).to_be_visible()  # the server asks
        expect(page.get_by_text("you can undo it right away or restore it there for 30 days")).to_be_visible()
        page.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("status")).to_have_text("Expense deleted.")
    expect(row(person, "Birthday flowers")).to_have_count(0)
    undo = page.locator(".notice").get_by_role("button", name="Undo")
    expect(undo).to_be_visible()
    no_sideways_scroll(person)
    assert_accessible(page, f"expenses with the Undo notice ({name})")
    person.screenshot(f"trash-undo-{name}")

    undo.click()
    expect(page.get_by_role("status")).to_have_text("Expense restored.")
    expect(row(person, "Birthday flowers")).to_contain_text("$24.90")
    expect(row(person, "Birthday flowers")).to_contain_text("Shopping")
    expect(page.locator(".notice").get_by_role("button", name="Undo")).to_have_count(0)
    person.close()


def test_edit_then_undo(ui: UI) -> None:
    page = ui.page
    ui.add_expense("Gym", "40.00")
    target = row(ui, "Gym")
    target.get_by_text("Edit").click()
    target.get_by_label("Amount").fill("45")
    target.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Changes saved.")
    expect(row(ui, "Gym")).to_contain_text("$45.00")
    page.locator(".notice").get_by_role("button", name="Undo").click()
    expect(page.get_by_role("status")).to_have_text("Change undone.")
    expect(row(ui, "Gym")).to_contain_text("$40.00")


@pytest.mark.parametrize(("viewport", "name"), [((1280, 900), "desktop"), (PHONE, "phone")])
def test_trash_page_restores_and_empties(browser: Any, live_server: str, viewport: tuple[int, int], name: str) -> None:
    person = UI(browser, live_server, viewport=viewport)
    person.sign_in()
    page = person.page
    for title in ("Old lamp", "Broken chair"):
        person.add_expense(title, "15.00")
        page.once("dialog", lambda dialog: dialog.accept())
        row(person, title).get_by_role("button", name="Delete").click()
        expect(page.get_by_role("status")).to_have_text("Expense deleted.")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Trash").click()
    expect(page.get_by_role("heading", name="Trash")).to_be_visible()
    items = page.locator(".trash-list li")
    expect(items).to_have_count(2)
    expect(items.first).to_contain_text("Broken chair")  # newest first
    expect(items.first).to_contain_text("Expense · deleted")
    no_sideways_scroll(person)
    person.screenshot(f"trash-page-{name}")

    items.filter(has_text="Old lamp").get_by_role("button", name="Restore").click()
    expect(page.get_by_role("status")).to_have_text("Expense restored.")
    expect(items).to_have_count(1)
    page.goto("/expenses")
    expect(row(person, "Old lamp")).to_have_count(1)

    page.goto("/trash")
    page.get_by_role("link", name="Empty trash").click()
    expect(page.get_by_role("heading", name="Empty the trash?")).to_be_visible()
    person.screenshot(f"trash-empty-confirm-{name}")
    page.get_by_role("button", name="Empty trash").click()
    expect(page.get_by_role("status")).to_have_text("Trash emptied.")
    expect(page.get_by_text("The trash is empty.")).to_be_visible()
    person.close()
