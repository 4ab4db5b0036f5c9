"""Issue 15's UI polish, each checked in Chromium at desktop width and on a 375 px phone, with and without JavaScript.

Screenshots: test-artifacts/screenshots/ui-*.png.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.a11y import duplicate_ids
from tests.browser.conftest import UI

pytestmark = pytest.mark.browser

DESKTOP = (1280, 900)
PHONE = (375, 740)
RUNS = [
    pytest.param(DESKTOP, True, id="desktop-js"),
    pytest.param(DESKTOP, False, id="desktop-nojs"),
    pytest.param(PHONE, True, id="phone-js"),
    pytest.param(PHONE, False, id="phone-nojs"),
]


def person(browser: Any, live_server: str, viewport: tuple[int, int], javascript: bool) -> UI:
    someone = UI(browser, live_server, viewport=viewport, javascript=javascript)
    someone.sign_in()
    return someone


def label(viewport: tuple[int, int], javascript: bool) -> str:
    return f"{'phone' if viewport == PHONE else 'desktop'}{'' if javascript else '-nojs'}"


def add(ui: UI, title: str, amount: str, *, category: str = "", notes: str = "") -> None:
    page = ui.page
    page.goto("/expenses/new")
    page.get_by_label("What").fill(title)
    page.get_by_label("Amount").fill(amount)
    if category:
        page.get_by_label("Category").select_option(label=category)
    if notes:
        page.get_by_label("Notes").fill(notes)
    page.get_by_role("button", name="Add expense").click()
    page.wait_for_url("**/expenses?msg=added")


def box(locator: Any) -> dict[str, float]:
    found = locator.bounding_box()
    assert found is not None
    return dict(found)


def no_sideways_scroll(ui: UI) -> None:
    overflow = ui.page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{ui.page.url} overflows by {overflow}px"


@pytest.mark.parametrize(("viewport", "javascript"), RUNS)
def test_delete_button_on_the_edit_page(
    browser: Any, live_server: str, viewport: tuple[int, int], javascript: bool
) -> None:
    ui = person(browser, live_server, viewport, javascript)
    try:
        page = ui.page
        add(ui, "Gym membership", "30.00")
        row = page.locator("table.expenses tbody tr", has_text="Gym membership")
        page.goto(f"/expenses/{row.get_attribute('data-expense-id')}/edit")
        expect(page.get_by_role("heading", name="Edit expense")).to_be_visible()
        delete = page.get_by_role("button", name="Delete expense")
        expect(delete).to_be_visible()
        ui.screenshot(f"ui-edit-delete-{label(viewport, javascript)}")
        if javascript:
            page.once("dialog", lambda dialog: dialog.accept())  # the confirmation dialog
            delete.click()
        else:
            delete.click()
            expect(page.get_by_role("heading", name="Delete this expense?")).to_be_visible()  # the server asks
            page.get_by_role("button", name="Delete").click()
        expect(page.get_by_role("status")).to_have_text("Expense deleted.")
        expect(page).to_have_url(re.compile(r"/expenses\?msg=deleted&undo=[0-9a-f-]{36}$"))
        expect(page.locator("table.expenses tbody tr", has_text="Gym membership")).to_have_count(0)
    finally:
        ui.close()


# Where an element's own text (not its children) is drawn.
TEXT_BOX = """el => {
  const text = [...el.childNodes].find(n => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
  const range = document.createRange();
  range.selectNodeContents(text);
  const r = range.getBoundingClientRect();
  return {text: text.textContent, x: r.x, y: r.y, height: r.height};
}"""


@pytest.mark.parametrize(("viewport", "javascript"), RUNS)
def test_expense_cards_and_the_filter_panel(
    browser: Any, live_server: str, viewport: tuple[int, int], javascript: bool
) -> None:
    ui = person(browser, live_server, viewport, javascript)
    try:
        page = ui.page
        add(ui, "Weekly groceries at the market", "42.10", category="Food", notes="Eggs, bread, apples")
        page.goto("/expenses")
        card = page.locator("table.expenses tbody tr", has_text="Weekly groceries")
        title, notes = card.locator(".c-title"), card.locator(".c-notes")
        # Notes on their own line, under the title, starting where the title starts.
        assert box(notes)["y"] >= box(title)["y"] + box(title)["height"] - 1
        assert abs(box(notes)["x"] - box(title)["x"]) <= 1
        # The swatch right beside its category's name, on the same line.
        swatch = card.locator(".c-category svg.swatch")
        name = card.locator(".c-swatched").evaluate(TEXT_BOX)
        assert name["text"].strip() == "Food"
        gap = name["x"] - (box(swatch)["x"] + box(swatch)["width"])
        assert 0 <= gap <= 8, gap
        assert abs((box(swatch)["y"] + 6) - (name["y"] + name["height"] / 2)) <= 6
        if viewport == PHONE:
            # A card: title and amount on the first line, date and category below, the field names not shown.
            amount = card.locator(".c-amount")
            assert abs(box(amount)["y"] - box(title)["y"]) <= 4
            assert box(card.locator(".c-date"))["y"] > box(title)["y"]
            shown = card.locator(".c-category").evaluate(
                "td => { const s = getComputedStyle(td, '::before'); return [s.content, s.position, s.width]; }"
            )
            assert shown == ['"Category"', "absolute", "1px"]  # read out, not shown
            no_sideways_scroll(ui)

        # The filter panel: search in view; the other filters folded on phones (a <details>, no JavaScript needed).
        filters = page.get_by_role("search", name="Filter expenses")
        expect(filters.get_by_label("Search")).to_be_visible()
        minimum = filters.get_by_label("Min amount")
        if viewport == PHONE:
            expect(minimum).to_be_hidden()
            ui.screenshot(f"ui-expenses-cards-{label(viewport, javascript)}")
            filters.get_by_text("More filters").click()
            expect(minimum).to_be_visible()
        else:
            expect(minimum).to_be_visible()
            expect(filters.get_by_text("More filters")).to_be_hidden()
            ui.screenshot(f"ui-expenses-{label(viewport, javascript)}")
        minimum.fill("40")
        filters.get_by_role("button", name="Apply").click()
        expect(page.get_by_test_id("result-count")).to_have_text(re.compile(r"of 1 expense$"))
        # A filter in use keeps the panel open after the reload, and says how many are in use.
        expect(minimum).to_be_visible()
        expect(minimum).to_have_value("40.00")
        if viewport == PHONE:
            expect(filters.get_by_text("More filters (1 in use)")).to_be_visible()
            ui.screenshot(f"ui-expenses-filters-open-{label(viewport, javascript)}")
    finally:
        ui.close()


@pytest.mark.parametrize(("viewport", "javascript"), [RUNS[0], RUNS[3]])
def test_categories_list_names_its_columns_once(
    browser: Any, live_server: str, viewport: tuple[int, int], javascript: bool
) -> None:
    ui = person(browser, live_server, viewport, javascript)
    try:
        page = ui.page
        page.goto("/categories")
        rows = page.locator("ul.category-list > li")
        assert rows.count() >= 5  # the default categories
        section = page.locator("section", has=page.get_by_role("heading", name="Your categories"))
        # "Monthly budget" is written once (the column name), not once per category...
        visible = section.get_by_text("Monthly budget", exact=True).evaluate_all(
            "els => els.filter(e => e.getBoundingClientRect().width > 1).length"
        )
        assert visible == 1
        # ...while every field still has its label for assistive technology, and the fields stay under their column.
        food = page.locator("li[data-category='Food']")
        expect(food.get_by_label("Name")).to_have_value("Food")
        head = box(section.locator(".category-head span", has_text="Monthly budget"))
        budget = box(food.get_by_label("Monthly budget"))
        assert abs(budget["x"] - head["x"]) <= 3
        food.get_by_label("Monthly budget").fill("250")
        food.get_by_role("button", name=re.compile("^Save")).click()
        expect(page.get_by_role("status")).to_have_text("Category saved.")
        expect(page.locator("li[data-category='Food']").get_by_label("Monthly budget")).to_have_value("250.00")
        no_sideways_scroll(ui)
        ui.screenshot(f"ui-categories-{label(viewport, javascript)}")
    finally:
        ui.close()


CHART_TEXT_SIZES = """svg => [...svg.querySelectorAll('text')].map(t => ({
  text: t.textContent,
  cls: t.getAttribute('class'),
  px: t.getScreenCTM().a * parseFloat(getComputedStyle(t).fontSize),
}))"""


@pytest.mark.parametrize(("viewport", "javascript"), [RUNS[0], RUNS[2], RUNS[3]])
def test_charts_are_readable_with_a_y_axis_and_years(
    browser: Any, live_server: str, viewport: tuple[int, int], javascript: bool
) -> None:
    ui = person(browser, live_server, viewport, javascript)
    try:
        page = ui.page
        today = dt.date.today()
        ui.add_expense("Rent", "900.00", category="Housing", day=today.replace(day=1).isoformat())
        page.goto("/reports")
        trend = page.locator("svg.chart[aria-labelledby$='-desc']:visible").first
        expect(trend.locator("title").first).to_have_text(re.compile("^Spending per month"))
        texts = trend.evaluate(CHART_TEXT_SIZES)
        small = [t for t in texts if t["px"] < 11]
        assert not small, small  # every label at least 11 CSS pixels, also on a 375 px phone
        # The y-axis: round values from 0 to above the largest month ($900).
        assert [t["text"] for t in texts if "y-tick" in (t["cls"] or "")] == ["$0", "$500", "$1K"]
        # The month labels carry their year: once under the first month, and again under each January.
        first = dt.date(today.year, today.month, 1)
        months = []
        for _ in range(12):
            months.append(first)
            first = (first - dt.timedelta(days=1)).replace(day=1)
        months.reverse()
        years = [str(m.year) for i, m in enumerate(months) if i == 0 or m.month == 1]
        assert [t["text"] for t in texts if "group" in (t["cls"] or "")] == years
        assert [t["text"] for t in texts if t["cls"] == "tick"][:12] == [m.strftime("%b") for m in months]
        split = page.locator("svg.chart[aria-labelledby^='by-category']:visible")
        expect(split).to_have_count(1)
        small = [t for t in split.evaluate(CHART_TEXT_SIZES) if t["px"] < 11]
        assert not small, small
        no_sideways_scroll(ui)
        ui.screenshot(f"ui-reports-{label(viewport, javascript)}")
    finally:
        ui.close()


# The contrast of what the page shows: computed colours (the stylesheet's custom properties as resolved), the input's
# border against the first opaque background behind it. Chromium reports color-mix() results as color(srgb r g b).
CONTRAST = """
(() => {
  function rgb(value) {
    let m = value.match(/^rgba?\\(([\\d.]+),\\s*([\\d.]+),\\s*([\\d.]+)(?:,\\s*([\\d.]+))?\\)$/);
    if (m) return {r: +m[1] / 255, g: +m[2] / 255, b: +m[3] / 255, a: m[4] === undefined ? 1 : +m[4]};
    m = value.match(/^color\\(srgb ([\\d.]+) ([\\d.]+) ([\\d.]+)(?: \\/ ([\\d.]+))?\\)$/);
    if (m) return {r: +m[1], g: +m[2], b: +m[3], a: m[4] === undefined ? 1 : +m[4]};
    throw new Error("unparsed colour " + value);
  }
  function luminance(c) {
    const f = v => v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  }
  function ratio(a, b) {
    const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05);
  }
  function behind(el) {
    for (let e = el.parentElement; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.a === 1) return c;
    }
    return rgb(getComputedStyle(document.documentElement).backgroundColor);
  }
  const visible = e => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden";
  const inputs = "input:not([type=hidden]):not([type=checkbox]):not([type=radio]), select, textarea";
  const fields = [...document.querySelectorAll(inputs)]
    .filter(visible)
    .map(e => ({what: e.id || e.name, ratio: ratio(rgb(getComputedStyle(e).borderTopColor), behind(e))}));
  const danger = [...document.querySelectorAll("button.danger:not(.link-button)")].filter(visible)
    .map(e => {
      const style = getComputedStyle(e);
      return {what: e.textContent.trim(), ratio: ratio(rgb(style.color), rgb(style.backgroundColor))};
    });
  return {fields, danger};
})()
"""


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize(("viewport", "javascript"), [RUNS[1], RUNS[2]])
def test_input_borders_and_danger_buttons_have_enough_contrast(
    browser: Any, live_server: str, viewport: tuple[int, int], javascript: bool, theme: str
) -> None:
    ui = person(browser, live_server, viewport, javascript)
    try:
        page = ui.page
        page.goto("/settings")
        page.get_by_label({"light": "Light", "dark": "Dark"}[theme]).check()
        page.get_by_role("button", name="Save settings").click()
        expect(page.locator("html")).to_have_attribute("data-theme", theme)
        add(ui, "Taxi", "18.40")
        expense_id = page.locator("table.expenses tbody tr[data-expense-id]").first.get_attribute("data-expense-id")
        seen_fields = seen_danger = 0
        for path in ("/", "/expenses", "/expenses/new", "/categories", "/rates", "/settings", "/import/bank",
                     f"/expenses/{expense_id}/delete", f"/expenses/{expense_id}/edit"):  # fmt: skip
            page.goto(path)
            found = page.evaluate(CONTRAST)
            low = [f for f in found["fields"] if f["ratio"] < 3]
            assert not low, f"{path} ({theme}): input borders under 3:1: {low}"
            low = [d for d in found["danger"] if d["ratio"] < 4.5]
            assert not low, f"{path} ({theme}): danger buttons under 4.5:1: {low}"
            seen_fields += len(found["fields"])
            seen_danger += len(found["danger"])
        assert seen_fields > 20
        assert seen_danger >= 2  # the delete confirmation's and the edit page's
        ui.screenshot(f"ui-delete-confirm-{theme}-{label(viewport, javascript)}")
    finally:
        ui.close()


@pytest.mark.parametrize(("viewport", "javascript"), RUNS)
def test_focus_moves_to_the_error_summary(
    browser: Any, live_server: str, viewport: tuple[int, int], javascript: bool
) -> None:
    ui = person(browser, live_server, viewport, javascript)
    try:
        page = ui.page
        page.goto("/expenses/new")
        page.get_by_label("What").fill("Concert")
        page.get_by_label("Amount").fill("12,5x")
        page.get_by_role("button", name="Add expense").click()
        summary = page.get_by_test_id("error-summary")
        expect(summary).to_be_focused()
        expect(summary).to_have_attribute("role", "alert")
        expect(summary).to_contain_text("Amount: Use the format 1,234.56")
        ui.screenshot(f"ui-error-summary-{label(viewport, javascript)}")
        summary.get_by_role("link", name=re.compile("^Amount")).click()  # each line leads to its field
        expect(page).to_have_url(re.compile("#f-amount$"))

        page.goto("/categories")
        add_form = page.locator("section", has=page.get_by_role("heading", name="Add a category"))
        add_form.get_by_label("Name").fill("Garden")
        add_form.get_by_label(re.compile("^Monthly budget")).fill("lots")
        add_form.get_by_role("button", name="Add category").click()
        expect(page.get_by_test_id("error-summary")).to_be_focused()
    finally:
        ui.close()


@pytest.mark.parametrize(("viewport", "javascript"), [RUNS[0], RUNS[3]])
def test_no_duplicate_ids(browser: Any, live_server: str, viewport: tuple[int, int], javascript: bool) -> None:
    ui = person(browser, live_server, viewport, javascript)
    try:
        page = ui.page
        for n in range(3):  # the list page then has an inline editor per row
            add(ui, f"Coffee {n}", "3.20", category="Food", notes="to go")
        for path in ("/", "/expenses", "/expenses/new", "/categories", "/reports", "/import", "/rates", "/settings"):
            page.goto(path)
            assert duplicate_ids(page) == [], path
    finally:
        ui.close()


def test_keyboard_shortcuts(browser: Any, live_server: str) -> None:
    for viewport in (DESKTOP, PHONE):
        ui = person(browser, live_server, viewport, True)
        try:
            page = ui.page
            help_text = page.locator("[data-shortcuts]")
            expect(help_text).to_be_visible()
            expect(help_text).to_have_text("Keyboard shortcuts: n new expense, / search expenses.")
            page.keyboard.press("n")
            expect(page).to_have_url(re.compile(r"/expenses/new$"))
            # While typing, "n" and "/" are just letters.
            page.get_by_label("What").focus()
            page.keyboard.type("n/a")
            expect(page.get_by_label("What")).to_have_value("n/a")
            expect(page).to_have_url(re.compile(r"/expenses/new$"))
            # "/" from another page opens the list with its search focused; on the list it focuses the search.
            page.locator("main").focus()
            page.keyboard.press("/")
            expect(page).to_have_url(re.compile(r"/expenses#search$"))
            expect(page.locator("#search")).to_be_focused()
            page.keyboard.type("n")
            expect(page.locator("#search")).to_have_value("n")
            page.locator("main").focus()
            page.keyboard.press("/")
            expect(page.locator("#search")).to_be_focused()
            ui.screenshot(f"ui-shortcuts-{'phone' if viewport == PHONE else 'desktop'}")
        finally:
            ui.close()
    # Without JavaScript the shortcuts do nothing, so they are not advertised.
    ui = person(browser, live_server, DESKTOP, False)
    try:
        expect(ui.page.locator("[data-shortcuts]")).to_be_hidden()
        ui.page.keyboard.press("n")
        expect(ui.page).to_have_url(f"{live_server}/")
    finally:
        ui.close()
