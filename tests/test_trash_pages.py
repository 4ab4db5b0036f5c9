"""The trash in the browser UI without a browser: the notice's "Undo" form after every delete and edit, the Trash
page's Restore / Delete forever / Empty trash (each with its confirmation step). SQLite and PostgreSQL."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from litestar import Litestar
from litestar.testing import AsyncTestClient

from expense_tracker.constants import CSRF_COOKIE, SESSION_COOKIE
from tests.conftest import HTML, Session

Client = AsyncTestClient[Litestar]


def text(html: str) -> str:
    return " ".join(html.split())


def plain(html: str) -> str:
    """What a person reads: the text without its tags."""
    return text(re.sub(r"<[^>]+>", "", html))


async def page(client: Client, user: Session, path: str, status: int = 200) -> str:
    client.cookies.set(SESSION_COOKIE, user.token)
    try:
        response = await client.get(path, headers=HTML)
    finally:
        client.cookies.clear()
    assert response.status_code == status, response.text[:500]
    return response.text


async def post(client: Client, user: Session, path: str, data: dict[str, str]) -> Any:
    client.cookies.set(SESSION_COOKIE, user.token)
    try:
        assert (await client.get("/trash", headers=HTML)).status_code == 200  # the CSRF cookie
        form = {**data, "_csrf_token": client.cookies.get(CSRF_COOKIE) or ""}
        return await client.post(path, data=form, headers=HTML)
    finally:
        client.cookies.clear()


def undo_form(html: str) -> tuple[str, str]:
    """The notice's Undo form: (action, next)."""
    notice = re.search(r'<div class="notice">(.*?)</div>', html, re.DOTALL)
    assert notice is not None, html[:2000]
    form = re.search(
        r'<form method="post" action="([^"]+)" class="undo">.*?name="next" value="([^"]*)"', notice[1], re.S
    )
    assert form is not None, notice[1]
    assert 'name="_csrf_token"' in notice[1]
    return form[1], form[2].replace("&amp;", "&")


async def new_expense(client: Client, user: Session, title: str, amount: str, **extra: Any) -> str:
    body = {"title": title, "amount": amount, "spent_on": "2026-05-02", **extra}
    response = await client.post("/api/expenses", json=body, headers=user.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_delete_then_undo_from_the_notice(client: Client, user: Session) -> None:
    expense = await new_expense(client, user, "Umbrella", "18.00")
    confirm = plain(await page(client, user, f"/expenses/{expense}/delete?next=/expenses?q=Umb"))
    assert "This cannot be undone." not in confirm
    assert "It goes to the trash: you can undo it right away or restore it there for 30 days." in confirm
    deleted = await post(client, user, f"/expenses/{expense}/delete", {"confirm": "yes", "next": "/expenses?q=Umb"})
    assert deleted.status_code == 303
    location = deleted.headers["location"]
    query = parse_qs(urlsplit(location).query)
    assert (urlsplit(location).path, query["q"], query["msg"]) == ("/expenses", ["Umb"], ["deleted"])
    item = query["undo"][0]
    html = await page(client, user, location)
    assert "Expense deleted." in html
    action, back = undo_form(html)
    assert (action, back) == (f"/trash/{item}/restore", "/expenses?q=Umb")
    assert "Umbrella" not in text(html).split("Expense deleted.")[1]

    undone = await post(client, user, action, {"next": back})
    assert undone.status_code == 303
    assert undone.headers["location"] == "/expenses?q=Umb&msg=expense-restored"
    after = await page(client, user, undone.headers["location"])
    assert "Expense restored." in after
    assert "Umbrella" in after
    assert 'class="undo"' not in after  # nothing left to undo
    # The same Undo again (a second tab, a double click): the item is gone, a 404 page, nothing changes.
    assert (await post(client, user, action, {"next": back})).status_code == 404
    assert (await client.get(f"/api/expenses/{expense}", headers=user.headers)).json()["title"] == "Umbrella"


async def test_edit_then_undo_from_the_notice(client: Client, user: Session) -> None:
    expense = await new_expense(client, user, "Coffee", "3.50", notes="flat white")
    form = {"title": "Tea", "amount": "2.10", "currency": "USD", "spent_on": "2026-05-03", "notes": "", "next": "/"}
    saved = await post(client, user, f"/expenses/{expense}", form)
    assert saved.status_code == 303
    html = await page(client, user, saved.headers["location"])
    assert "Changes saved." in html
    action, back = undo_form(html)
    assert back == "/"
    assert (await post(client, user, action, {"next": back})).headers["location"] == "/?msg=undone"
    restored = (await client.get(f"/api/expenses/{expense}", headers=user.headers)).json()
    assert (restored["title"], restored["amount"], restored["spent_on"], restored["notes"]) == (
        "Coffee",
        "3.50",
        "2026-05-02",
        "flat white",
    )
    # A form with an error saves nothing and keeps no undo.
    bad = await post(client, user, f"/expenses/{expense}", {**form, "amount": "abc"})
    assert bad.status_code == 400
    assert 'class="undo"' not in bad.text


async def test_category_delete_and_edit_carry_undo(client: Client, user: Session) -> None:
    made = await client.post("/api/categories", json={"name": "Hobby", "color": "#123456"}, headers=user.headers)
    hobby = made.json()["id"]
    others = (await client.get("/api/categories", headers=user.headers)).json()
    target = next(c["id"] for c in others if c["name"] != "Hobby")
    expense = await new_expense(client, user, "Paint", "9.00", category_id=hobby)
    confirm = plain(await page(client, user, f"/categories/{hobby}/delete"))
    assert "It goes to the trash: restoring it moves these expenses back." in confirm
    deleted = await post(client, user, f"/categories/{hobby}/delete", {"reassign_to": target})
    assert deleted.status_code == 303
    html = await page(client, user, deleted.headers["location"])
    assert "Category deleted." in html
    action, back = undo_form(html)
    assert back == "/categories"
    restored = await post(client, user, action, {"next": back})
    assert restored.headers["location"] == "/categories?msg=category-restored"
    assert (await client.get(f"/api/expenses/{expense}", headers=user.headers)).json()["category_id"] == hobby

    saved = await post(client, user, f"/categories/{hobby}", {"name": "Crafts", "color": "#654321"})
    action, _ = undo_form(await page(client, user, saved.headers["location"]))
    await post(client, user, action, {"next": "/categories"})
    category = (await client.get(f"/api/categories/{hobby}", headers=user.headers)).json()
    assert (category["name"], category["color"]) == ("Hobby", "#123456")


async def test_trash_page_restores_deletes_forever_and_empties(client: Client, user: Session) -> None:
    assert "The trash is empty." in await page(client, user, "/trash")
    ids = {}
    for title in ("Lamp", "Rug", "Vase"):
        expense = await new_expense(client, user, title, "5.00")
        ids[title] = (await client.delete(f"/api/expenses/{expense}", headers=user.headers)).headers["X-Trash-Item"]
    html = text(await page(client, user, "/trash"))
    assert html.index("Vase (5.00 USD, 2026-05-02)") < html.index("Rug") < html.index("Lamp")  # newest first
    assert "Expense · deleted" in html
    assert '<a href="/trash" aria-current="page">Trash</a>' in html

    restored = await post(client, user, f"/trash/{ids['Lamp']}/restore", {"next": "/trash"})
    assert restored.headers["location"] == "/trash?msg=expense-restored"
    confirm = text(await page(client, user, f"/trash/{ids['Rug']}/delete"))
    assert "Delete “Rug (5.00 USD, 2026-05-02)” forever?" in confirm
    unconfirmed = await post(client, user, f"/trash/{ids['Rug']}/delete", {})
    assert unconfirmed.status_code == 200  # the confirmation again, nothing deleted
    gone = await post(client, user, f"/trash/{ids['Rug']}/delete", {"confirm": "yes"})
    assert gone.headers["location"] == "/trash?msg=trash-deleted"
    html = text(await page(client, user, "/trash"))
    assert ("Lamp" in html, "Rug" in html, "Vase" in html) == (False, False, True)

    assert "1 item will be deleted forever" in text(await page(client, user, "/trash/empty"))
    emptied = await post(client, user, "/trash/empty", {"confirm": "yes"})
    assert emptied.headers["location"] == "/trash?msg=trash-emptied"
    assert "The trash is empty." in await page(client, user, "/trash")
    titles = [e["title"] for e in (await client.get("/api/expenses", headers=user.headers)).json()["items"]]
    assert titles == ["Lamp"]


async def test_a_hand_edited_undo_is_ignored(client: Client, user: Session) -> None:
    html = await page(client, user, "/expenses?msg=deleted&undo=not-a-uuid")
    assert "Expense deleted." in html
    assert 'class="undo"' not in html
    assert 'class="undo"' not in await page(client, user, "/expenses?undo=01a24917-574f-70d4-8bed-4882186016e9")
