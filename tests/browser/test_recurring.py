"""Recurring expenses in Chromium: create one at desktop and phone width, with and without JavaScript, fix an error
shown inline, see it on the dashboard's Upcoming box, pause it and delete it (a dialog with JavaScript, the server's
confirmation page without). Screenshots: recurring-*.png."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.a11y import assert_accessible
from tests.browser.conftest import UI

pytestmark = pytest.mark.browser

DESKTOP = (1280, 900)
PHONE = (375, 740)


@pytest.mark.parametrize(
    ("javascript", "viewport", "name"),
    [
        (True, DESKTOP, "desktop"),
        (False, DESKTOP, "desktop-nojs"),
        (True, PHONE, "phone"),
        (False, PHONE, "phone-nojs"),
    ],
)
def test_create_a_schedule_and_see_it_on_the_dashboard(
    browser: Any, live_server: str, javascript: bool, viewport: tuple[int, int], name: str
) -> None:
    person = UI(browser, live_server, javascript=javascript, viewport=viewport)
    person.sign_in()
    page = person.page
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Recurring").click()
    expect(page.get_by_role("heading", name="Recurring expenses", exact=True)).to_be_visible()
    title = f"Streaming {name}"
    page.get_by_label("What").fill(title)
    page.get_by_label("Amount").fill("12.345")  # too many decimals for USD: refused, shown next to the field
    page.get_by_label("Every").fill("1")
    page.get_by_label("Unit").select_option("week")
    page.get_by_label("Tags").fill("tv, monthly")
    page.get_by_role("button", name="Add recurring expense").click()
    expect(page.locator("#r-e-amount")).to_be_visible()
    expect(page.get_by_label("What")).to_have_value(title)  # what was typed is kept
    assert_accessible(page, f"recurring form with an error ({name})")
    page.get_by_label("Amount").fill("$9.99")
    page.get_by_role("button", name="Add recurring expense").click()
    expect(page.get_by_role("status")).to_have_text("Recurring expense added.")
    schedule = page.locator("tr", has_text=title)
    expect(schedule).to_contain_text("$9.99")
    expect(schedule).to_contain_text("Every week")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"/recurring overflows by {overflow}px at {viewport[0]}px"
    person.screenshot(f"recurring-{name}")

    page.get_by_role("link", name="Dashboard").click()
    upcoming = page.get_by_test_id("upcoming")
    expect(upcoming.get_by_role("heading", name="Upcoming")).to_be_visible()
    expect(upcoming.get_by_role("listitem").filter(has_text=title)).to_have_count(3)  # today, +7 and +14 days
    expect(upcoming).to_contain_text("$9.99")
    person.screenshot(f"recurring-dashboard-{name}")

    page.goto("/recurring")
    page.locator("tr", has_text=title).get_by_role("button", name="Pause").click()
    expect(page.get_by_role("status")).to_contain_text("paused")
    expect(page.locator("tr", has_text=title)).to_contain_text("Paused")
    if javascript:
        page.once("dialog", lambda dialog: dialog.accept())
        page.locator("tr", has_text=title).get_by_role("button", name="Delete").click()
    else:
        page.locator("tr", has_text=title).get_by_role("button", name="Delete").click()
        expect(page.get_by_role("heading", name="Delete this recurring expense?")).to_be_visible()
        page.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("status")).to_have_text(
        "Recurring expense moved to the trash. The expenses it created are kept."
    )
    expect(page.locator("tr", has_text=title)).to_have_count(0)
    person.close()


def test_edit_page_at_phone_width(browser: Any, live_server: str) -> None:
    person = UI(browser, live_server, viewport=PHONE)
    person.sign_in()
    page = person.page
    page.goto("/recurring")
    page.get_by_label("What").fill("Rent")
    page.get_by_label("Amount").fill("950")
    page.get_by_label("Day of the month").fill("31")
    page.get_by_role("button", name="Add recurring expense").click()
    expect(page.get_by_role("status")).to_have_text("Recurring expense added.")
    expect(page.locator("tr", has_text="Rent")).to_contain_text("Every month on day 31 (or the month's last day)")
    page.locator("tr", has_text="Rent").get_by_role("link", name="Edit").click()
    expect(page.get_by_role("heading", name="Edit recurring expense")).to_be_visible()
    expect(page.get_by_label("Amount")).to_have_value("950.00")
    page.get_by_label("Amount").fill("975")
    person.screenshot("recurring-edit-phone")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status")).to_contain_text("future expenses only")
    expect(page.locator("tr", has_text="Rent")).to_contain_text("$975.00")
    person.close()
