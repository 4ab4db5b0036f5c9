"""A split payment in headless Chromium, as a person enters it: from the expense form's "Split" button, with a sum
that does not match (the difference named in the German locale), one more part, the list's badges and the edit page;
at desktop width and at 375 px, with and without JavaScript. Expected figures are literals worked out by hand."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from expense_tracker.constants import SESSION_COOKIE
from tests.browser.a11y import assert_accessible
from tests.browser.conftest import UI

pytestmark = pytest.mark.browser

RUNS = [
    pytest.param(javascript, viewport, id=f"{'js' if javascript else 'nojs'}-{name}")
    for javascript in (True, False)
    for name, viewport in (("desktop", (1280, 900)), ("phone", (375, 740)))
]


def well_formed(ui: UI, where: str) -> None:
    ids = ui.page.locator("[id]").evaluate_all("els => els.map(e => e.id)")
    assert len(ids) == len(set(ids)), (where, sorted(i for i in ids if ids.count(i) > 1))
    overflow = ui.page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{where} overflows by {overflow}px"


def shot(ui: UI, name: str) -> None:
    """A full-page screenshot, taken with no field focused: Chromium restores the scroll position when focus next
    moves after one, and a click started in a focused field would then land beside its target."""
    ui.page.evaluate("document.activeElement && document.activeElement.blur()")
    ui.screenshot(name)


@pytest.mark.parametrize(("javascript", "viewport"), RUNS)
def test_split_a_supermarket_receipt(
    browser: Any, live_server: str, javascript: bool, viewport: tuple[int, int]
) -> None:
    ui = UI(browser, live_server, javascript=javascript, viewport=viewport, locale="de-DE")
    variant = f"{'desktop' if viewport[0] > 600 else 'phone'}-{'js' if javascript else 'nojs'}"
    try:
        ui.sign_in()
        page = ui.page
        # Euros by default (the browser's de-DE already makes the pages German), set as an API client would.
        token = next(c["value"] for c in ui.context.cookies() if c["name"] == SESSION_COOKIE)
        settings = {"currency": "EUR", "theme": "light", "timezone": "Europe/Berlin", "locale": None}
        answer = page.request.put("/api/settings", data=settings, headers={"Authorization": f"Bearer {token}"})
        assert answer.status == 200, answer.text()
        page.goto("/expenses/new")
        page.get_by_label("What").fill("Supermarkt")
        page.get_by_label(re.compile(r"^Amount")).fill("42,50")
        page.get_by_role("button", name="Split across categories…").click()
        expect(page.get_by_role("heading", name="Split a payment")).to_be_visible()
        expect(page.get_by_label("What")).to_have_value("Supermarkt")
        expect(page.get_by_label("Total amount")).to_have_value("42,50")

        page.get_by_label("Category of part 1", exact=True).select_option(label="Food")
        page.get_by_label("Amount of part 1", exact=True).fill("30,00")
        page.get_by_label("Category of part 2", exact=True).select_option(label="Shopping")
        page.get_by_label("Amount of part 2", exact=True).fill("10,00")
        remaining = page.get_by_test_id("split-remaining")
        if javascript:
            expect(remaining).to_have_text(re.compile(r"^2,50\s€$"))  # kept up to date while typing
        page.get_by_role("button", name="Add split payment").click()

        error = page.get_by_test_id("split-sum-error")
        expect(error).to_have_text(re.compile(r"The parts add up to 40,00\s€, 2,50\s€ less than the total 42,50\s€\."))
        expect(remaining).to_have_text(re.compile(r"^2,50\s€$"))
        expect(page.get_by_label("Amount of part 2", exact=True)).to_have_value("10,00")
        well_formed(ui, "split form with an error")
        assert_accessible(page, f"split form with an error ({variant})")
        shot(ui, f"splits-error-{variant}")

        page.get_by_role("button", name="Add a part").click()
        expect(page.get_by_label("Amount of part 4", exact=True)).to_be_visible()
        page.get_by_label("Category of part 4", exact=True).select_option(label="Shopping")
        page.get_by_label("Amount of part 4", exact=True).fill("2,50")
        page.get_by_label("Note for part 4", exact=True).fill("Tüte")
        if javascript:
            expect(remaining).to_have_text(re.compile(r"^0,00\s€$"))
        well_formed(ui, "split form with four rows")
        shot(ui, f"splits-form-{variant}")
        page.get_by_role("button", name="Add split payment").click()
        page.wait_for_url("**/expenses?msg=split-added")
        expect(page.get_by_role("status")).to_have_text("Split payment added.")

        badges = page.get_by_test_id("split-badge")
        expect(badges).to_have_count(3)
        texts = sorted(re.sub(r"\s", " ", t) for t in badges.all_inner_texts())
        assert texts == ["Split 1/3 of 42,50 €", "Split 2/3 of 42,50 €", "Split 3/3 of 42,50 €"]
        expect(page.get_by_test_id("filtered-total")).to_contain_text(re.compile(r"42,50\s€"))
        well_formed(ui, "expense list with a split")
        shot(ui, f"splits-list-{variant}")

        page.get_by_role("link", name=re.compile(r"^Edit split Supermarkt, part 1")).click()
        expect(page.get_by_role("heading", name="Edit split payment")).to_be_visible()
        expect(page.get_by_label("Amount of part 1", exact=True)).to_have_value("30,00")
        expect(page.get_by_label("Amount of part 2", exact=True)).to_have_value("10,00")
        expect(page.get_by_label("Amount of part 3", exact=True)).to_have_value("2,50")
        expect(page.get_by_label("Note for part 3", exact=True)).to_have_value("Tüte")
        expect(remaining).to_have_text(re.compile(r"^0,00\s€$"))
        # Move 2,50 from the bag to household shopping: the parts still add up, the total stays.
        page.get_by_label("Amount of part 2", exact=True).fill("12,50")
        page.get_by_label("Amount of part 3", exact=True).fill("")
        page.get_by_label("Note for part 3", exact=True).fill("")
        well_formed(ui, "split edit page")
        shot(ui, f"splits-edit-{variant}")
        page.get_by_role("button", name="Save split").click()
        page.wait_for_url("**/expenses?msg=split-saved")
        texts = sorted(re.sub(r"\s", " ", t) for t in page.get_by_test_id("split-badge").all_inner_texts())
        assert texts == ["Split 1/2 of 42,50 €", "Split 2/2 of 42,50 €"]

        # The dashboard counts each part in its category and the payment once in the month.
        page.goto("/")
        expect(page.get_by_test_id("month-total")).to_have_text(re.compile(r"^42,50\s€$"))
    finally:
        csp_violations = [m for m in ui.console if "Content Security Policy" in m]
        ui.close()
    assert csp_violations == []
