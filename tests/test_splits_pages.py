"""The split payment pages (no JavaScript: plain form posts), in a German locale, on PostgreSQL and SQLite."""

from __future__ import annotations

import re
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from expense_tracker.constants import SESSION_COOKIE
from tests.conftest import HTML, Session
from tests.test_splits import categories, expenses

Client = AsyncTestClient[Litestar]
NBSP = "\xa0"


async def german(client: Client, user: Session) -> tuple[dict[str, str], str]:
    body = {"currency": "EUR", "theme": "system", "timezone": "UTC", "locale": "de_DE"}
    assert (await client.put("/api/settings", json=body, headers=user.headers)).status_code == 200
    cats = await categories(client, user, "Groceries", "Household")
    client.cookies.set(SESSION_COOKIE, user.token)
    page = await client.get("/splits/new", headers=HTML)
    assert page.status_code == 200, page.text
    token = client.cookies.get("et_csrftoken")
    assert token
    return cats, token


def form(token: str, cats: dict[str, str], **fields: str) -> dict[str, str]:
    return {
        "_csrf_token": token,
        "title": "Supermarkt",
        "amount": "42,50",
        "currency": "EUR",
        "spent_on": "2026-11-14",
        "rows": "3",
        "part-0-category_id": cats["Groceries"],
        "part-0-amount": "30,00",
        "part-0-notes": "Essen",
        "part-1-category_id": cats["Household"],
        "part-1-amount": "10,00",
        "part-1-notes": "",
        "part-2-category_id": "",
        "part-2-amount": "",
        "part-2-notes": "",
        "action": "save",
        **fields,
    }


async def test_the_form_names_the_difference_in_the_locale_then_saves(client: Client, user: Session) -> None:
    try:
        cats, token = await german(client, user)
        response = await client.post("/splits", data=form(token, cats), headers=HTML)
        assert response.status_code == 400
        page = response.text
        assert f"The parts add up to 40,00{NBSP}€, 2,50{NBSP}€ less than the total 42,50{NBSP}€." in page, page[
            page.find("error") : page.find("error") + 400
        ]
        assert 'value="Supermarkt"' in page
        assert 'value="10,00"' in page  # what was typed comes back as typed
        assert f'data-testid="split-remaining" data-split-remaining>2,50{NBSP}€</output>' in page
        assert await expenses(client, user) == []

        # A part's own problem is shown next to that part (part 2 is the form's second row).
        response = await client.post("/splits", data=form(token, cats, **{"part-1-amount": "12,505"}), headers=HTML)
        assert response.status_code == 400
        assert re.search(r'id="s-e-part-1-amount" class="error" role="alert">[^<]*EUR', response.text), response.text

        response = await client.post("/splits", data=form(token, cats, **{"part-1-amount": "12,50"}), headers=HTML)
        assert response.status_code == 303, response.text
        assert response.headers["location"] == "/expenses?msg=split-added"
        listed = await expenses(client, user)
        assert [(e["amount"], e["category_id"], e["notes"], e["title"]) for e in listed] == [
            ("30.00", cats["Groceries"], "Essen", "Supermarkt"),
            ("12.50", cats["Household"], "", "Supermarkt"),
        ]
        split_id = listed[0]["split_id"]
        assert split_id is not None
        assert listed[1]["split_id"] == split_id

        page = (await client.get("/expenses", headers=HTML)).text
        assert f"Split 1/2 of 42,50{NBSP}€" in page
        assert f"Split 2/2 of 42,50{NBSP}€" in page
        assert f'href="/splits/{split_id}/edit?next=/expenses"' in page
        assert f'action="/expenses/{listed[0]["id"]}"' not in page  # no inline editor for a part
    finally:
        client.cookies.clear()


async def test_add_a_part_without_javascript_and_a_refund(client: Client, user: Session) -> None:
    try:
        cats, token = await german(client, user)
        response = await client.post("/splits", data=form(token, cats, action="add"), headers=HTML)
        assert response.status_code == 200
        assert 'name="rows" value="4"' in response.text
        assert 'id="s-part-3-amount"' in response.text
        assert "Amount of part 4" in response.text
        assert await expenses(client, user) == []
        fields = {
            "rows": "4",
            "refund": "yes",
            "part-1-amount": "10,00",
            "part-3-category_id": cats["Household"],
            "part-3-amount": "2,50",
            "part-3-notes": "Tüte",
        }
        response = await client.post("/splits", data=form(token, cats, **fields), headers=HTML)
        assert response.status_code == 303, response.text
        listed = await expenses(client, user)
        assert [(e["amount"], e["notes"]) for e in listed] == [("-30.00", "Essen"), ("-10.00", ""), ("-2.50", "Tüte")]
        page = (await client.get("/expenses", headers=HTML)).text
        assert f"Split 3/3 of -42,50{NBSP}€" in page
    finally:
        client.cookies.clear()


async def test_the_expense_forms_split_button_carries_what_was_typed(client: Client, user: Session) -> None:
    try:
        cats, token = await german(client, user)
        data = {
            "_csrf_token": token,
            "title": "Markt",
            "amount": "42,50",
            "currency": "EUR",
            "category_id": cats["Groceries"],
            "spent_on": "2026-11-14",
            "notes": "",
            "next": "/expenses",
            "action": "split",
        }
        response = await client.post("/expenses", data=data, headers=HTML)
        assert response.status_code == 303
        location = response.headers["location"]
        assert location.startswith("/splits/new?")
        page = (await client.get(location, headers=HTML)).text
        assert 'value="Markt"' in page
        assert 'value="42,50"' in page
        assert re.search(rf'<option value="{cats["Groceries"]}" selected>Groceries</option>', page)
        assert await expenses(client, user) == []
        assert "Split across categories" in (await client.get("/expenses/new", headers=HTML)).text
    finally:
        client.cookies.clear()


async def test_edit_and_delete_a_split_through_its_pages(client: Client, user: Session, other_user: Session) -> None:
    try:
        cats, token = await german(client, user)
        assert (
            await client.post("/splits", data=form(token, cats, **{"part-1-amount": "12,50"}), headers=HTML)
        ).status_code == 303
        listed = await expenses(client, user)
        split_id, part = listed[0]["split_id"], listed[1]["id"]

        # A part's own edit and delete pages lead to its split.
        response = await client.get(f"/expenses/{part}/edit", headers=HTML)
        assert (response.status_code, response.headers["location"]) == (303, f"/splits/{split_id}/edit")
        response = await client.get(f"/expenses/{part}/delete", headers=HTML)
        assert (response.status_code, response.headers["location"]) == (303, f"/splits/{split_id}/delete")

        page = (await client.get(f"/splits/{split_id}/edit", headers=HTML)).text
        assert 'value="42,50"' in page
        assert 'value="12,50"' in page
        assert f'value="{part}"' in page  # the part's id travels with its row, so saving keeps it
        edited: dict[str, Any] = form(
            token,
            cats,
            **{"part-0-id": listed[0]["id"], "part-1-id": part, "amount": "45,00", "part-1-amount": "15,00"},
        )
        response = await client.post(f"/splits/{split_id}", data=edited, headers=HTML)
        assert response.status_code == 303, response.text
        after = await expenses(client, user)
        assert [(e["id"], e["amount"]) for e in after] == [(listed[0]["id"], "30.00"), (part, "15.00")]

        # Another user sees no such split.
        client.cookies.set(SESSION_COOKIE, other_user.token)
        await client.get("/expenses", headers=HTML)
        other_token = client.cookies.get("et_csrftoken")
        assert (await client.get(f"/splits/{split_id}/edit", headers=HTML)).status_code == 404
        response = await client.post(f"/splits/{split_id}", data={**edited, "_csrf_token": other_token}, headers=HTML)
        assert response.status_code == 404
        response = await client.post(
            f"/splits/{split_id}/delete", data={"confirm": "yes", "_csrf_token": other_token}, headers=HTML
        )
        assert response.status_code == 404
        client.cookies.set(SESSION_COOKIE, user.token)
        token = client.cookies.get("et_csrftoken") or token

        page = (await client.get(f"/splits/{split_id}/delete", headers=HTML)).text
        assert "Delete this split payment?" in page
        assert f"45,00{NBSP}€" in page
        response = await client.post(
            f"/splits/{split_id}/delete",
            data={"confirm": "yes", "_csrf_token": token, "next": "/expenses"},
            headers=HTML,
        )
        assert (response.status_code, response.headers["location"]) == (303, "/expenses?msg=split-deleted")
        assert await expenses(client, user) == []
    finally:
        client.cookies.clear()


async def test_the_edit_forms_split_button_splits_that_expense_up(client: Client, user: Session) -> None:
    try:
        cats, token = await german(client, user)
        body = {"title": "Markt", "amount": "42.50", "spent_on": "2026-10-01", "category_id": cats["Groceries"]}
        expense = (await client.post("/api/expenses", json=body, headers=user.headers)).json()
        data = {
            "_csrf_token": token,
            "title": "Markt",
            "amount": "42,50",
            "currency": "EUR",
            "category_id": cats["Groceries"],
            "spent_on": "2026-10-01",
            "notes": "Wochenmarkt",
            "next": "/expenses",
            "action": "split",
        }
        response = await client.post(f"/expenses/{expense['id']}", data=data, headers=HTML)
        assert response.status_code == 303
        page = (await client.get(response.headers["location"], headers=HTML)).text
        assert f'name="expense_id" value="{expense["id"]}"' in page
        assert 'value="Wochenmarkt"' in page  # the notes start as the first part's
        fields = {"expense_id": expense["id"], "spent_on": "2026-10-01", "part-1-amount": "12,50"}
        response = await client.post("/splits", data=form(token, cats, **fields), headers=HTML)
        assert response.status_code == 303, response.text
        listed = await expenses(client, user)
        assert [(e["id"] == expense["id"], e["amount"], e["split_id"] is not None) for e in listed] == [
            (True, "30.00", True),
            (False, "12.50", True),
        ]
    finally:
        client.cookies.clear()
