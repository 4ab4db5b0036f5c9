"""The bank-import wizard's pages, walked as a browser without JavaScript: each form submitted as rendered
(hidden fields, selected options), each POST answered 303 to the next step."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from expense_tracker.constants import SESSION_COOKIE
from tests.conftest import HTML, Session

Client = AsyncTestClient[Litestar]
FIXTURES = Path(__file__).parent / "data" / "bank-statements"


class FormReader(HTMLParser):
    """The fields a browser would submit for the form with ``data-testid=testid`` (no button value)."""

    def __init__(self, testid: str) -> None:
        super().__init__()
        self.testid = testid
        self.inside = False
        self.action = ""
        self.fields: dict[str, str] = {}
        self._select: str | None = None
        self._first: str | None = None
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "form" and a.get("data-testid") == self.testid:
            self.inside, self.action = True, a["action"]
        if not self.inside:
            return
        if tag == "input" and a.get("type") != "file" and "name" in a:
            self.fields[a["name"]] = a.get("value", "")
        elif tag == "select":
            self._select, self._first = a["name"], None
        elif tag == "option" and self._select is not None:
            if self._first is None:
                self._first = a.get("value", "")
                self.fields.setdefault(self._select, self._first)
            if "selected" in a:
                self.fields[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "form" and self.inside:
            self.inside = False


def read_form(page: str, testid: str) -> FormReader:
    reader = FormReader(testid)
    reader.feed(page)
    assert reader.action, f"no form {testid}"
    duplicated = {i for i in reader.ids if reader.ids.count(i) > 1}
    assert not duplicated, f"duplicate ids: {duplicated}"
    return reader


class Browser:
    def __init__(self, client: Client, user: Session) -> None:
        self.client = client
        self.token = user.token

    async def get(self, url: str, status: int = 200) -> str:
        self.client.cookies.set(SESSION_COOKIE, self.token)  # other fixtures' sign-ins clear the cookies
        response = await self.client.get(url, headers=HTML)
        assert response.status_code == status, response.text
        return response.text

    async def submit(self, page: str, testid: str, changes: dict[str, str] | None = None, **extra: Any) -> Any:
        form = read_form(page, testid)
        data = {**form.fields, **(changes or {}), "_csrf_token": self.client.cookies.get("et_csrftoken") or ""}
        return await self.client.post(form.action, data=data, headers=HTML, **extra)

    async def follow(self, response: Any) -> str:
        assert response.status_code == 303, response.text
        return await self.get(response.headers["location"])


@pytest.fixture
def browser(client: Client, user: Session) -> Any:
    yield Browser(client, user)
    client.cookies.clear()


async def upload(browser: Browser, name: str, profile: str = "") -> Any:
    page = await browser.get("/import/bank")
    data = (FIXTURES / name).read_bytes()
    return await browser.submit(
        page, "bank-upload-form", {"profile_id": profile}, files={"file": (name, data, "text/csv")}
    )


async def test_the_wizard_imports_a_statement_without_javascript(
    browser: Browser, client: Client, user: Session
) -> None:
    assert 'href="/import/bank"' in await browser.get("/import")
    response = await upload(browser, "de-dkb-girokonto.csv")
    assert "/format?" in response.headers["location"]
    page = await browser.follow(response)
    assert 'data-testid="bank-raw-lines"' in page
    assert "Buchungstag" in page
    fields = read_form(page, "bank-format-form").fields
    assert (fields["encoding"], fields["delimiter"], fields["header_line"], fields["decimal"]) == (
        "latin-1",
        ";",
        "7",
        ",",
    )
    page = await browser.follow(await browser.submit(page, "bank-format-form"))
    assert 'data-testid="bank-columns-form"' in page
    mapping = read_form(page, "bank-columns-form").fields
    assert (mapping["date"], mapping["amount"], mapping["currency"]) == ("Buchungstag", "Betrag (EUR)", "EUR")
    page = await browser.follow(await browser.submit(page, "bank-columns-form"))
    assert 'data-testid="bank-count-import"><strong>14</strong>' in page
    assert page.count('data-status="skipped"') == 2
    response = await browser.submit(page, "bank-import-form", {"save_as": "DKB"})
    page = await browser.follow(response)
    assert "Imported 14 expenses." in page
    assert "Settings saved as “DKB”." in page
    listed = (await client.get("/api/expenses", params={"limit": 200}, headers=user.headers)).json()
    assert listed["total"] == 14

    # The next statement with the saved bank: straight through, the overlap is recognised.
    profiles = (await client.get("/api/imports/profiles", headers=user.headers)).json()
    response = await upload(browser, "de-dkb-girokonto-2.csv", profiles[0]["id"])
    page = await browser.follow(response)
    page = await browser.follow(await browser.submit(page, "bank-format-form"))
    page = await browser.follow(await browser.submit(page, "bank-columns-form"))
    assert 'data-testid="bank-count-duplicate"><strong>2</strong>' in page
    assert "already imported on" in page
    assert read_form(page, "bank-import-form").fields["save_as"] == "DKB"
    page = await browser.follow(await browser.submit(page, "bank-import-form", {"save_as": ""}))
    assert "Imported 3 expenses. 2 already imported before were left out." in page


async def test_a_corrected_value_is_kept_and_a_bad_one_shown_inline(browser: Browser) -> None:
    page = await browser.follow(await upload(browser, "us-chase-checking.csv"))
    # "Check these settings" stays on the step with the new value applied.
    response = await browser.submit(page, "bank-format-form", {"date_format": "%d/%m/%Y", "action": "check"})
    assert "/format?" in response.headers["location"]
    page = await browser.follow(response)
    assert read_form(page, "bank-format-form").fields["date_format"] == "%d/%m/%Y"
    bad = await browser.submit(page, "bank-format-form", {"header_line": "9999"})
    assert bad.status_code == 400
    assert 'data-testid="error-summary"' in bad.text
    assert 'aria-invalid="true" aria-describedby="bi-e-header_line"' in bad.text
    page = await browser.follow(await browser.submit(page, "bank-format-form"))
    # The day-first date format leaves 13 of the 22 rows without a date: the import is refused, inline.
    page = await browser.follow(await browser.submit(page, "bank-columns-form"))
    assert 'data-testid="bank-count-problem"><strong>13</strong>' in page
    refused = await browser.submit(page, "bank-import-form")
    assert refused.status_code == 422
    assert 'data-testid="bank-row-errors"' in refused.text


async def test_a_column_choice_that_cannot_work_is_refused_inline(browser: Browser) -> None:
    page = await browser.follow(await upload(browser, "fr-credit-agricole-compte.csv"))
    page = await browser.follow(await browser.submit(page, "bank-format-form"))
    fields = read_form(page, "bank-columns-form").fields
    assert (fields["debit"], fields["credit"], fields["amount"]) == ("Débit euros", "Crédit euros", "")
    response = await browser.submit(page, "bank-columns-form", {"amount": "Débit euros"})
    assert response.status_code == 400
    assert 'id="bi-e-amount"' in response.text


async def test_upload_errors_are_shown_on_the_form(browser: Browser) -> None:
    page = await browser.get("/import/bank")
    response = await browser.submit(
        page, "bank-upload-form", files={"file": ("x.png", b"\x89PNG\x00\x00", "image/png")}
    )
    assert response.status_code == 400
    assert "not a CSV text file" in response.text
    assert 'aria-describedby="bi-e-file"' in response.text


async def test_another_users_upload_is_not_found(browser: Browser, client: Client, other_user: Session) -> None:
    location = (await upload(browser, "us-chase-checking.csv")).headers["location"]
    client.cookies.set(SESSION_COOKIE, other_user.token)
    response = await client.get(location, headers=HTML)
    assert response.status_code == 404
    path = urlsplit(location).path.replace("/format", "/import")
    data = dict(parse_qsl(urlsplit(location).query)) | {"_csrf_token": client.cookies.get("et_csrftoken") or ""}
    assert (await client.post(path, data=data, headers=HTML)).status_code in {403, 404}
