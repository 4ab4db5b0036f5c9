"""Recurring expenses in the browser without JavaScript (plain form posts): add, errors inline, edit, pause, delete,
the dashboard's Upcoming box and the nav link; amounts in the user's locale."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from expense_tracker.constants import SESSION_COOKIE
from tests.conftest import HTML, Session

Client = AsyncTestClient[Litestar]


async def open_page(client: Client, user: Session, path: str) -> tuple[str, str]:
    client.cookies.set(SESSION_COOKIE, user.token)
    response = await client.get(path, headers=HTML)
    assert response.status_code == 200, response.text[:500]
    return response.text, str(client.cookies.get("et_csrftoken"))


def form(token: str, **fields: str) -> dict[str, str]:
    base = {
        "title": "Rent",
        "amount": "950.00",
        "currency": "USD",
        "category_id": "",
        "unit": "month",
        "interval": "1",
        "day_of_month": "",
        "start_on": dt.datetime.now(dt.UTC).date().isoformat(),
        "end_on": "",
        "max_count": "",
        "tags": "",
        "notes": "",
    }
    return {**base, **fields, "_csrf_token": token}


async def schedules(client: Client, user: Session) -> list[dict[str, Any]]:
    return list((await client.get("/api/recurring", headers=user.headers)).json())


async def test_add_edit_pause_and_delete_without_javascript(client: Client, user: Session) -> None:
    html, token = await open_page(client, user, "/recurring")
    assert 'href="/recurring"' in html  # the nav link
    assert "No recurring expenses yet" in html
    today = dt.datetime.now(dt.UTC).date()
    added = await client.post(
        "/recurring", data=form(token, title="Gym", amount="$29.90", tags="sport, health"), headers=HTML
    )
    assert added.status_code == 303
    assert added.headers["location"] == "/recurring?msg=recurring-added"
    [gym] = await schedules(client, user)
    assert (gym["title"], gym["amount"], gym["currency"], gym["tags"]) == ("Gym", "29.90", "USD", ["sport", "health"])
    assert (gym["unit"], gym["interval"], gym["day_of_month"], gym["max_count"]) == ("month", 1, None, None)
    html, token = await open_page(client, user, "/recurring?msg=recurring-added")
    assert "Recurring expense added." in html
    assert re.search(r'data-schedule="Gym".*?\$29\.90.*?Every month on day', html, re.DOTALL)

    # The dashboard's Upcoming box shows today's date of the new schedule (created at the next run).
    dashboard, _ = await open_page(client, user, "/")
    upcoming = dashboard[dashboard.index('data-testid="upcoming"') :]
    assert "Gym" in upcoming[: upcoming.index("</section>")]

    edit, token = await open_page(client, user, f"/recurring/{gym['id']}/edit")
    assert 'value="29.90"' in edit
    assert 'value="sport, health"' in edit
    saved = await client.post(
        f"/recurring/{gym['id']}", data=form(token, title="Gym plus", amount="35", max_count="12"), headers=HTML
    )
    assert saved.status_code == 303
    [gym] = await schedules(client, user)
    assert (gym["title"], gym["amount"], gym["max_count"], gym["tags"]) == ("Gym plus", "35.00", 12, [])

    paused = await client.post(f"/recurring/{gym['id']}/pause", data={"_csrf_token": token}, headers=HTML)
    assert paused.headers["location"] == "/recurring?msg=recurring-paused"
    assert (await schedules(client, user))[0]["paused"] is True
    html, token = await open_page(client, user, "/recurring")
    assert "Paused" in html
    assert "Resume" in html
    dashboard, _ = await open_page(client, user, "/")
    assert "Nothing due in the next 14 days." in dashboard
    await client.post(f"/recurring/{gym['id']}/resume", data={"_csrf_token": token}, headers=HTML)
    assert (await schedules(client, user))[0]["paused"] is False

    # Without JavaScript the server asks first; confirmed, the schedule goes (its expenses would stay).
    asked = await client.post(f"/recurring/{gym['id']}/delete", data={"_csrf_token": token}, headers=HTML)
    assert asked.status_code == 200
    assert "Delete this recurring expense?" in asked.text
    assert await schedules(client, user) != []
    deleted = await client.post(
        f"/recurring/{gym['id']}/delete", data={"_csrf_token": token, "confirm": "yes"}, headers=HTML
    )
    # ... to the trash (issue 15 merge): the notice carries its "Undo".
    location = deleted.headers["location"]
    assert location.startswith("/recurring?msg=recurring-deleted&undo=")
    undo = location.rsplit("=", 1)[1]
    trash = (await client.get("/api/trash", headers=user.headers)).json()
    assert [(t["id"], t["kind"], t["label"]) for t in trash] == [(undo, "schedule", "Gym plus")]
    assert await schedules(client, user) == []
    assert today  # the start date the form posted
    client.cookies.clear()


async def test_errors_are_shown_inline_and_keep_what_was_typed(client: Client, user: Session) -> None:
    _, token = await open_page(client, user, "/recurring")
    for fields, field, message in [
        ({"amount": ""}, "amount", "Enter an amount"),
        ({"amount": "12.345"}, "amount", ""),
        ({"interval": "0"}, "interval", ""),
        ({"interval": "two"}, "interval", "Enter a whole number"),
        ({"day_of_month": "32"}, "day_of_month", ""),
        ({"unit": "hour"}, "unit", ""),
        ({"start_on": ""}, "start_on", ""),
        ({"end_on": "2000-01-01"}, "end_on", "must not be before"),
        ({"title": " "}, "title", ""),
        ({"tags": "x" * 51}, "tags", ""),
    ]:
        response = await client.post(
            "/recurring", data=form(token, title=fields.pop("title", "Typed title"), **fields), headers=HTML
        )
        assert response.status_code == 400, (fields, response.status_code)
        html = response.text
        assert f'id="r-e-{field}"' in html, (field, re.findall(r'class="error"[^>]*>[^<]*', html))
        assert message.lower() in html.lower(), (field, message)
        assert 'role="alert">Please correct the highlighted field.' in html
    assert await schedules(client, user) == []
    client.cookies.clear()


async def test_amounts_are_read_and_shown_in_the_users_locale(client: Client, user: Session) -> None:
    body = {"currency": "EUR", "theme": "light", "timezone": "Europe/Berlin", "locale": "de_DE"}
    assert (await client.put("/api/settings", json=body, headers=user.headers)).status_code == 200
    _, token = await open_page(client, user, "/recurring")
    refused = await client.post("/recurring", data=form(token, currency="EUR", amount="12.50"), headers=HTML)
    assert refused.status_code == 400
    assert "1.234,56" in refused.text  # the format expected
    added = await client.post("/recurring", data=form(token, currency="EUR", amount="1.234,50"), headers=HTML)
    assert added.status_code == 303
    [rent] = await schedules(client, user)
    assert (rent["amount"], rent["currency"]) == ("1234.50", "EUR")
    html, _ = await open_page(client, user, "/recurring")
    assert "1.234,50" in html
    edit, _ = await open_page(client, user, f"/recurring/{rent['id']}/edit")
    assert 'value="1234,50"' in edit
    client.cookies.clear()


async def test_another_users_schedule_is_a_404_page(client: Client, user: Session, other_user: Session) -> None:
    created = await client.post(
        "/api/recurring",
        json={"title": "Mine", "amount": "5", "unit": "week", "start_on": "2026-01-01"},
        headers=user.headers,
    )
    schedule_id = created.json()["id"]
    _, token = await open_page(client, other_user, "/recurring")
    for response in (
        await client.get(f"/recurring/{schedule_id}/edit", headers=HTML),
        await client.post(f"/recurring/{schedule_id}", data=form(token, title="Stolen"), headers=HTML),
        await client.post(f"/recurring/{schedule_id}/pause", data={"_csrf_token": token}, headers=HTML),
        await client.post(
            f"/recurring/{schedule_id}/delete", data={"_csrf_token": token, "confirm": "yes"}, headers=HTML
        ),
    ):
        assert response.status_code == 404
    client.cookies.clear()
    got = (await client.get(f"/api/recurring/{schedule_id}", headers=user.headers)).json()
    assert (got["title"], got["paused"]) == ("Mine", False)
