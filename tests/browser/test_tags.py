"""Tags in the browser (issue 15): tag an expense in the form, filter the list by tags, rename and merge on /tags;
at desktop width and on a 375 px phone, with and without JavaScript. Screenshots: ``tags-*.png``."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.a11y import assert_accessible
from tests.browser.conftest import UI

pytestmark = pytest.mark.browser

VARIANTS = {
    "desktop-js": (True, (1280, 900)),
    "desktop-nojs": (False, (1280, 900)),
    "phone-js": (True, (375, 740)),
    "phone-nojs": (False, (375, 740)),
}


def row(ui: UI, title: str) -> Any:
    return ui.page.locator("table.expenses tbody tr", has_text=title)


def add_tagged(ui: UI, title: str, amount: str, tags: str) -> None:
    page = ui.page
    page.goto("/expenses/new")
    page.get_by_label("What").fill(title)
    page.get_by_label("Amount").fill(amount)
    page.get_by_label("Tags").fill(tags)
    page.get_by_role("button", name="Add expense").click()
    page.wait_for_url("**/expenses?msg=added")


def no_sideways_scroll(ui: UI, width: int) -> None:
    overflow = ui.page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{ui.page.url} overflows by {overflow}px at {width}px"


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_tag_filter_rename_and_merge(browser: Any, live_server: str, variant: str) -> None:
    javascript, viewport = VARIANTS[variant]
    ui = UI(browser, live_server, javascript=javascript, viewport=viewport)
    ui.sign_in()
    page = ui.page

    # Tag in the form: comma-separated, new tags created, the datalist suggests the existing ones.
    add_tagged(ui, "Louvre tickets", "34.00", "Holiday, Museum")
    page.goto("/expenses/new")
    expect(page.locator("datalist#tag-names option")).to_have_count(2)
    page.get_by_label("Tags").fill("holiday, x" + "y" * 60)  # one name too long: refused inline, what was typed kept
    page.get_by_label("What").fill("Crêpes")
    page.get_by_label("Amount").fill("6.50")
    page.get_by_role("button", name="Add expense").click()
    expect(page.locator("#f-e-tags")).to_contain_text(
        "Each tag must be 1 to 50 characters (not “xyyyyyyyyyyyyyyyyyyy…”)"
    )
    expect(page.get_by_label("Tags")).to_have_value("holiday, x" + "y" * 60)
    assert_accessible(page, f"expense form with a bad tag ({variant})")
    if viewport[0] == 375:
        ui.screenshot(f"tags-form-error-{variant}")
    page.get_by_label("Tags").fill("holiday, Food")
    page.get_by_role("button", name="Add expense").click()
    page.wait_for_url("**/expenses?msg=added")
    add_tagged(ui, "Groceries", "41.20", "food")
    add_tagged(ui, "Bus", "2.40", "")
    expect(row(ui, "Crêpes").locator("a.tag")).to_have_text(["Food", "Holiday"])  # the stored spellings
    ui.screenshot(f"tags-list-{variant}")
    no_sideways_scroll(ui, viewport[0])

    # Filter: any of two tags, then all of them; the choice survives in the form and in the export link.
    filters = page.get_by_role("search", name="Filter expenses")
    if viewport[0] == 375:
        filters.get_by_text("More filters").click()  # on phones the ui slice folds the tag filter with the others
    filters.get_by_label("Holiday").check()
    filters.get_by_label("Food").check()
    filters.get_by_role("button", name="Apply").click()
    expect(page.locator("table.expenses tbody tr[data-expense-id]")).to_have_count(3)
    expect(page.get_by_test_id("result-count")).to_contain_text("of 3 expenses")
    filters.get_by_label("Match").select_option("all")
    filters.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"tag=Food&tag=Holiday&tag_mode=all|tag=Holiday&tag=Food&tag_mode=all"))
    expect(page.locator("table.expenses tbody tr[data-expense-id]")).to_have_count(1)
    expect(row(ui, "Crêpes")).to_be_visible()
    expect(filters.get_by_label("Holiday")).to_be_checked()
    expect(page.get_by_role("link", name="Export CSV")).to_have_attribute("href", re.compile("tag_mode=all"))
    ui.screenshot(f"tags-filter-{variant}")
    # A tag chip filters by that tag alone.
    row(ui, "Crêpes").get_by_role("link", name="Food").click()
    expect(page.locator("table.expenses tbody tr[data-expense-id]")).to_have_count(2)

    # The tags page: counts, a rename clash shown inline, a rename, a merge.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Tags").click()
    expect(page.get_by_role("heading", name="Tags", level=1)).to_be_visible()
    food = page.locator("li[data-tag='Food']")
    expect(food.get_by_test_id("tag-count")).to_have_text("2 expenses")
    food.get_by_label("Name").fill("MUSEUM")
    food.get_by_role("button", name="Rename").click()
    expect(page.locator("li[data-tag='Food'] .error")).to_contain_text("already exists. Merge into it instead.")
    expect(page.locator("li[data-tag='Food']").get_by_label("Name")).to_have_value("MUSEUM")
    assert_accessible(page, f"tags page with a rename error ({variant})")
    ui.screenshot(f"tags-rename-error-{variant}")
    page.locator("li[data-tag='Museum']").get_by_label("Name").fill("Museums")
    page.locator("li[data-tag='Museum']").get_by_role("button", name="Rename").click()
    expect(page.get_by_role("status")).to_have_text("Tag renamed.")
    page.locator("li[data-tag='Food']").get_by_label("Merge into").select_option(label="Holiday")
    page.locator("li[data-tag='Food']").get_by_role("button", name="Merge").click()
    expect(page.get_by_role("status")).to_have_text("Tags merged.")
    expect(page.locator("li[data-tag='Food']")).to_have_count(0)
    expect(page.locator("li[data-tag='Holiday']").get_by_test_id("tag-count")).to_have_text("3 expenses")
    expect(page.locator("li[data-tag='Museums']").get_by_test_id("tag-count")).to_have_text("1 expense")
    no_sideways_scroll(ui, viewport[0])
    ui.screenshot(f"tags-{variant}")

    # Delete: with JavaScript a dialog asks first; the expense stays, without the tag.
    if javascript:
        page.once("dialog", lambda dialog: dialog.accept())
    page.locator("li[data-tag='Museums']").get_by_role("button", name="Delete").click()
    expect(page.get_by_role("status")).to_contain_text("Tag deleted")
    page.goto("/expenses")
    expect(row(ui, "Louvre tickets").locator("a.tag")).to_have_text(["Holiday"])

    # The report by tag, with its note on expenses counted under several tags.
    page.goto("/reports")
    expect(page.get_by_test_id("tag-note")).to_contain_text("counts once under each of them")
    expect(page.get_by_test_id("tag-table")).to_contain_text("Holiday")
    no_sideways_scroll(ui, viewport[0])
    if variant == "desktop-js":
        page.get_by_test_id("tag-table").scroll_into_view_if_needed()
        ui.screenshot("tags-report-desktop-js")
    csp = [m for m in ui.console if "Content Security Policy" in m]
    ui.close()
    assert csp == []
