"""Where the issue-15 slices meet (recurring x trash, recurring x budgets, ...), on PostgreSQL and SQLite.

Each slice tested its own rules; these tests hold the seams that only exist once they are merged.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from expense_tracker.app import _sqlite_pragmas
from expense_tracker.db.models import RecurringOccurrence
from expense_tracker.domain.recurring import runner
from tests import test_trash_pages as trash_pages
from tests.conftest import Session, sign_in
from tests.test_csv import export as csv_export
from tests.test_csv import upload as csv_upload

Client = AsyncTestClient[Litestar]


def at(day: str, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=dt.UTC)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database_url)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    yield engine
    await engine.dispose()


async def _titles_and_dates(client: Client, user: Session) -> list[tuple[str, str]]:
    response = await client.get("/api/expenses?sort=spent_on&limit=200", headers=user.headers)
    assert response.status_code == 200
    return [(e["spent_on"], e["title"]) for e in response.json()["items"]]


async def test_a_deleted_schedule_goes_to_the_trash_and_comes_back_without_repeating_a_date(
    client: Client, user: Session, engine: AsyncEngine
) -> None:
    body = {"title": "Gym", "amount": "30.00", "unit": "month", "start_on": "2026-01-15"}
    created = await client.post("/api/recurring", json=body, headers=user.headers)
    assert created.status_code == 201, created.text
    schedule_id = created.json()["id"]
    await runner.run_job(engine, now=lambda: at("2026-03-20"))
    made = [("2026-01-15", "Gym"), ("2026-02-15", "Gym"), ("2026-03-15", "Gym")]
    assert await _titles_and_dates(client, user) == made

    deleted = await client.delete(f"/api/recurring/{schedule_id}", headers=user.headers)
    assert deleted.status_code == 204
    item_id = deleted.headers["X-Trash-Item"]
    assert deleted.headers["Link"] == f'</api/trash/{item_id}/restore>; rel="undo"'
    assert (await client.get(f"/api/recurring/{schedule_id}", headers=user.headers)).status_code == 404
    trash = (await client.get("/api/trash", headers=user.headers)).json()
    assert [(t["kind"], t["label"]) for t in trash] == [("schedule", "Gym")]
    # The expenses it created stay while the schedule is in the trash.
    assert await _titles_and_dates(client, user) == made

    restored = await client.post(f"/api/trash/{item_id}/restore", headers=user.headers)
    assert restored.status_code == 200, restored.text
    assert restored.json()["location"] == f"/api/recurring/{schedule_id}"
    again = await client.get(f"/api/recurring/{schedule_id}", headers=user.headers)
    assert again.status_code == 200
    assert again.json()["created_count"] == 3
    # Its occurrence rows came back with it: the next run creates April only, never January to March again.
    await runner.run_job(engine, now=lambda: at("2026-04-16"))
    assert await _titles_and_dates(client, user) == [*made, ("2026-04-15", "Gym")]


async def test_the_scheduled_run_purges_trash_past_its_30_days(
    client: Client, user: Session, engine: AsyncEngine
) -> None:
    made = await client.post("/api/expenses", json={"title": "Old", "amount": "5.00"}, headers=user.headers)
    assert made.status_code == 201
    deleted = await client.delete(f"/api/expenses/{made.json()['id']}", headers=user.headers)
    item_id = deleted.headers["X-Trash-Item"]
    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE trash_item SET deleted_at = :d, expires_at = :e"),
            {"d": at("2026-01-01"), "e": at("2026-01-31")},
        )
    await runner.run_job(engine, now=lambda: at("2026-01-31", 11))  # an hour before: kept
    assert (await client.get(f"/api/trash/{item_id}", headers=user.headers)).status_code == 200
    await runner.run_job(engine, now=lambda: at("2026-01-31", 13))
    assert (await client.get(f"/api/trash/{item_id}", headers=user.headers)).status_code == 404


async def test_a_schedules_tags_are_real_tags_on_every_expense_it_creates(
    client: Client, user: Session, engine: AsyncEngine
) -> None:
    made = await client.post(
        "/api/expenses", json={"title": "x", "amount": "1", "tags": ["Home"]}, headers=user.headers
    )
    assert made.status_code == 201
    body = {"title": "Rent", "amount": "900", "unit": "month", "start_on": "2026-05-01", "tags": ["home", "Fixed"]}
    assert (await client.post("/api/recurring", json=body, headers=user.headers)).status_code == 201
    await runner.run_job(engine, now=lambda: at("2026-06-02"))
    listed = await client.get("/api/expenses?tag=fixed&sort=spent_on", headers=user.headers)
    # "home" is the existing "Home" (names match ignoring case); "Fixed" was created on the fly.
    assert [(e["spent_on"], e["tags"]) for e in listed.json()["items"]] == [
        ("2026-05-01", ["Fixed", "Home"]),
        ("2026-06-01", ["Fixed", "Home"]),
    ]
    tags = {t["name"]: t for t in (await client.get("/api/tags", headers=user.headers)).json()}
    assert sorted(tags) == ["Fixed", "Home"]


async def test_search_finds_a_word_held_only_by_a_tag_name(client: Client, user: Session) -> None:
    for title, tags in (("Weekly shop", ["Groceries"]), ("Cinema", ["Fun"]), ("Groceries run", [])):
        made = await client.post(
            "/api/expenses", json={"title": title, "amount": "10", "tags": tags}, headers=user.headers
        )
        assert made.status_code == 201
    found = await client.get("/api/expenses", params={"q": "grocer", "sort": "spent_on"}, headers=user.headers)
    assert sorted(e["title"] for e in found.json()["items"]) == ["Groceries run", "Weekly shop"]
    # ``tag:`` is the tag filter (exact names, ignoring case), not a text match.
    tagged = await client.get("/api/expenses", params={"q": "tag:fun"}, headers=user.headers)
    assert [e["title"] for e in tagged.json()["items"]] == ["Cinema"]


async def test_a_split_payment_carries_its_tags_and_goes_to_the_trash_and_back_as_one(
    client: Client, user: Session
) -> None:
    cats = {}
    for name in ("Groceries", "Household"):
        made = await client.post("/api/categories", json={"name": name, "color": "#336699"}, headers=user.headers)
        assert made.status_code == 201, made.text
        cats[name] = made.json()["id"]
    body = {
        "title": "Supermarket",
        "amount": "42.50",
        "spent_on": "2026-03-14",
        "tags": ["weekly"],
        "parts": [
            {"amount": "30.00", "category_id": cats["Groceries"]},
            {"amount": "12.50", "category_id": cats["Household"], "notes": "soap"},
        ],
    }
    created = await client.post("/api/splits", json=body, headers=user.headers)
    assert created.status_code == 201, created.text
    split = created.json()
    assert split["tags"] == ["weekly"]
    assert [(p["amount"], p["tags"]) for p in split["parts"]] == [("30.00", ["weekly"]), ("12.50", ["weekly"])]
    tagged = await client.get("/api/expenses", params={"tag": "weekly"}, headers=user.headers)
    assert sorted(e["amount"] for e in tagged.json()["items"]) == ["12.50", "30.00"]

    deleted = await client.delete(f"/api/splits/{split['id']}", headers=user.headers)
    assert deleted.status_code == 204
    trash = (await client.get("/api/trash", headers=user.headers)).json()
    assert [(t["kind"], t["label"]) for t in trash] == [("expense", "Supermarket (split in 2)")]
    assert (await client.get(f"/api/splits/{split['id']}", headers=user.headers)).status_code == 404

    restored = await client.post(f"/api/trash/{deleted.headers['X-Trash-Item']}/restore", headers=user.headers)
    assert restored.status_code == 200, restored.text
    again = await client.get(f"/api/splits/{split['id']}", headers=user.headers)
    assert again.status_code == 200
    assert again.json() == split  # same ids, parts, categories, notes, tags and timestamps
    by_category = await client.get(
        "/api/reports/by-category", params={"from": "2026-03-01", "to": "2026-03-31"}, headers=user.headers
    )
    assert [(c["name"], c["total"]) for c in by_category.json()["categories"]] == [
        ("Groceries", "30.00"),
        ("Household", "12.50"),
    ]


async def _undo(client: Client, user: Session, item_id: str, status: int = 200) -> dict[str, object]:
    response = await client.post(f"/api/trash/{item_id}/restore", headers=user.headers)
    assert response.status_code == status, response.text
    return dict(response.json())


async def test_undoing_an_expense_edit_puts_its_tags_back(client: Client, user: Session) -> None:
    made = await client.post(
        "/api/expenses",
        json={"title": "Dinner", "amount": "40.00", "spent_on": "2026-04-02", "tags": ["Trip", "Work"]},
        headers=user.headers,
    )
    assert made.status_code == 201, made.text
    expense = made.json()["id"]
    before = (await client.get(f"/api/expenses/{expense}", headers=user.headers)).json()
    assert before["tags"] == ["Trip", "Work"]
    patched = await client.patch(
        f"/api/expenses/{expense}", json={"title": "Lunch", "tags": ["Food"]}, headers=user.headers
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["tags"] == ["Food"]
    result = await _undo(client, user, patched.headers["X-Trash-Item"])
    assert (result["restored"], result["notes"]) == ({"expense": 1, "expense_tag": 2}, [])
    assert (await client.get(f"/api/expenses/{expense}", headers=user.headers)).json() == before
    listed = await client.get("/api/expenses", params={"tag": "food"}, headers=user.headers)
    assert listed.json()["items"] == []

    # Tags alone changed twice: undoing the first would overwrite the second; refused, nothing changed.
    first = await client.patch(f"/api/expenses/{expense}", json={"tags": ["A"]}, headers=user.headers)
    second = await client.patch(f"/api/expenses/{expense}", json={"tags": ["B"]}, headers=user.headers)
    assert (first.status_code, second.status_code) == (200, 200)
    refused = await _undo(client, user, first.headers["X-Trash-Item"], 409)
    assert refused["detail"] == "It has been changed again since; undo would overwrite that change."
    assert (await client.get(f"/api/expenses/{expense}", headers=user.headers)).json()["tags"] == ["B"]
    # The latest one undoes; a tag deleted meanwhile is left off and said.
    tag_b = next(t for t in (await client.get("/api/tags", headers=user.headers)).json() if t["name"] == "A")
    assert (await client.delete(f"/api/tags/{tag_b['id']}", headers=user.headers)).status_code == 204
    result = await _undo(client, user, second.headers["X-Trash-Item"])
    assert (result["restored"], result["notes"]) == (
        {"expense": 1},
        ["1 of its tags had been deleted since; they were left off."],
    )
    assert (await client.get(f"/api/expenses/{expense}", headers=user.headers)).json()["tags"] == []

    # An edit that leaves the tags alone leaves them alone on undo too.
    retagged = await client.patch(f"/api/expenses/{expense}", json={"tags": ["Kept"]}, headers=user.headers)
    assert retagged.status_code == 200
    renamed = await client.patch(f"/api/expenses/{expense}", json={"title": "Brunch"}, headers=user.headers)
    result = await _undo(client, user, renamed.headers["X-Trash-Item"])
    assert result["restored"] == {"expense": 1}
    after = (await client.get(f"/api/expenses/{expense}", headers=user.headers)).json()
    assert (after["title"], after["tags"]) == ("Dinner", ["Kept"])


async def test_undoing_an_expense_edit_from_the_page_puts_its_tags_back(client: Client, user: Session) -> None:
    made = await client.post(
        "/api/expenses",
        json={"title": "Taxi", "amount": "12.00", "spent_on": "2026-04-02", "tags": ["Work"]},
        headers=user.headers,
    )
    expense = made.json()["id"]
    form = {"title": "Taxi", "amount": "12.00", "currency": "USD", "spent_on": "2026-04-02", "tags": "Trip, Fun"}
    saved = await trash_pages.post(client, user, f"/expenses/{expense}", {**form, "next": "/expenses"})
    assert saved.status_code == 303
    assert (await client.get(f"/api/expenses/{expense}", headers=user.headers)).json()["tags"] == ["Fun", "Trip"]
    action, back = trash_pages.undo_form(await trash_pages.page(client, user, saved.headers["location"]))
    undone = await trash_pages.post(client, user, action, {"next": back})
    assert undone.headers["location"] == "/expenses?msg=undone"
    assert (await client.get(f"/api/expenses/{expense}", headers=user.headers)).json()["tags"] == ["Work"]


async def test_undoing_a_category_budget_edit_puts_its_budget_history_back(client: Client, user: Session) -> None:
    made = await client.post(
        "/api/categories",
        json={"name": "Treats", "color": "#336699", "monthly_budget": "300.00", "budget_from": "2026-01"},
        headers=user.headers,
    )
    assert made.status_code == 201, made.text
    food = made.json()["id"]

    async def history() -> list[tuple[str, str | None, bool]]:
        response = await client.get(f"/api/budgets/history/{food}", headers=user.headers)
        assert response.status_code == 200, response.text
        return [(e["month"], e["amount"], e["rollover"]) for e in response.json()["entries"]]

    assert await history() == [("2026-01", "300.00", False)]
    patched = await client.patch(
        f"/api/categories/{food}",
        json={"monthly_budget": "450.00", "budget_from": "2026-03", "rollover": True},
        headers=user.headers,
    )
    assert patched.status_code == 200, patched.text
    assert await history() == [("2026-01", "300.00", False), ("2026-03", "450.00", True)]
    result = await _undo(client, user, patched.headers["X-Trash-Item"])
    assert result["restored"] == {"category": 1, "budget": 1}
    assert await history() == [("2026-01", "300.00", False)]

    # From the categories page (its form always carries the budget fields).
    form = {"name": "Treats", "color": "#336699", "monthly_budget": "200.00", "budget_from": "2026-02"}
    saved = await trash_pages.post(client, user, f"/categories/{food}", form)
    assert saved.status_code == 303, saved.text
    assert await history() == [("2026-01", "300.00", False), ("2026-02", "200.00", False)]
    action, back = trash_pages.undo_form(await trash_pages.page(client, user, saved.headers["location"]))
    await trash_pages.post(client, user, action, {"next": back})
    assert await history() == [("2026-01", "300.00", False)]

    # A budget change for a later month only (the category's row unchanged) still makes an earlier undo refuse.
    renamed = await client.patch(f"/api/categories/{food}", json={"name": "Groceries"}, headers=user.headers)
    later = await client.patch(
        f"/api/categories/{food}", json={"monthly_budget": "500.00", "budget_from": "2027-01"}, headers=user.headers
    )
    assert later.status_code == 200
    refused = await _undo(client, user, renamed.headers["X-Trash-Item"], 409)
    assert refused["detail"] == "It has been changed again since; undo would overwrite that change."


async def test_a_restored_expense_is_again_the_occurrence_its_schedule_made(
    client: Client, user: Session, engine: AsyncEngine
) -> None:
    body = {"title": "Phone", "amount": "20.00", "unit": "month", "start_on": "2026-02-03"}
    schedule = (await client.post("/api/recurring", json=body, headers=user.headers)).json()["id"]
    await runner.run_job(engine, now=lambda: at("2026-02-04"))
    (expense,) = (await client.get("/api/expenses", headers=user.headers)).json()["items"]

    async def occurrence() -> list[tuple[str, str | None]]:
        table = RecurringOccurrence.__table__
        statement = select(table.c.occurs_on, table.c.expense_id).where(table.c.schedule_id == uuid.UUID(schedule))
        async with engine.connect() as connection:
            return [(str(d), None if e is None else str(e)) for d, e in await connection.execute(statement)]

    assert await occurrence() == [("2026-02-03", expense["id"])]
    deleted = await client.delete(f"/api/expenses/{expense['id']}", headers=user.headers)
    assert await occurrence() == [("2026-02-03", None)]
    await _undo(client, user, deleted.headers["X-Trash-Item"])
    assert await occurrence() == [("2026-02-03", expense["id"])]


async def test_a_deleted_category_comes_back_with_its_budget_history(client: Client, user: Session) -> None:
    made = await client.post(
        "/api/categories",
        json={"name": "Treats", "color": "#336699", "monthly_budget": "100.00", "budget_from": "2026-01"},
        headers=user.headers,
    )
    food = made.json()["id"]
    changed = await client.patch(
        f"/api/categories/{food}",
        json={"monthly_budget": "80.00", "budget_from": "2026-04", "rollover": True},
        headers=user.headers,
    )
    assert changed.status_code == 200
    deleted = await client.delete(f"/api/categories/{food}", headers=user.headers)
    assert deleted.status_code == 204, deleted.text
    assert (await client.get(f"/api/budgets/history/{food}", headers=user.headers)).status_code == 404
    result = await _undo(client, user, deleted.headers["X-Trash-Item"])
    assert result["restored"] == {"category": 1, "budget": 2}
    history = (await client.get(f"/api/budgets/history/{food}", headers=user.headers)).json()
    assert [(e["month"], e["amount"], e["rollover"]) for e in history["entries"]] == [
        ("2026-01", "100.00", False),
        ("2026-04", "80.00", True),
    ]


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        (["Bills;Home"], "each tag must not contain a comma or a semicolon (not “Bills;Home”)"),
        (["a,b"], "each tag must not contain a comma or a semicolon (not “a,b”)"),
        (["x" * 51], f"each tag must be 1 to 50 characters (not “{'x' * 20}…”)"),
        ([f"t{i}" for i in range(21)], "at most 20 tags per expense"),
    ],
)
async def test_a_schedules_tag_names_follow_the_tag_rules(
    client: Client, user: Session, tags: list[str], message: str
) -> None:
    body = {"title": "Rent", "amount": "900", "unit": "month", "start_on": "2026-05-01", "tags": tags}
    created = await client.post("/api/recurring", json=body, headers=user.headers)
    assert created.status_code == 400, created.text
    assert created.json()["errors"] == [{"field": "tags", "message": message}]
    made = await client.post("/api/recurring", json={**body, "tags": ["Home"]}, headers=user.headers)
    assert made.status_code == 201
    edited = await client.patch(f"/api/recurring/{made.json()['id']}", json={"tags": tags}, headers=user.headers)
    assert (edited.status_code, edited.json()["errors"]) == (400, [{"field": "tags", "message": message}])


async def test_a_schedules_tags_are_cleaned_like_an_expenses(client: Client, user: Session) -> None:
    body = {"title": "Rent", "amount": "900", "unit": "month", "start_on": "2026-05-01"}
    made = await client.post(
        "/api/recurring", json={**body, "tags": ["  Fixed   costs ", "", "fixed costs", "Home"]}, headers=user.headers
    )
    assert made.status_code == 201, made.text
    assert made.json()["tags"] == ["Fixed costs", "Home"]


async def test_csv_round_trip_keeps_a_tagged_split_and_refuses_parts_with_other_tags(
    client: Client, user: Session
) -> None:
    cats = {}
    for name in ("Groceries", "Household"):
        made = await client.post("/api/categories", json={"name": name, "color": "#336699"}, headers=user.headers)
        cats[name] = made.json()["id"]
    body = {
        "title": "Supermarket",
        "amount": "42.50",
        "spent_on": "2026-03-14",
        "tags": ["Weekly", "Cash"],
        "parts": [
            {"amount": "30.00", "category_id": cats["Groceries"]},
            {"amount": "12.50", "category_id": cats["Household"]},
        ],
    }
    split = (await client.post("/api/splits", json=body, headers=user.headers)).json()
    await client.post(
        "/api/expenses",
        json={"title": "Bus", "amount": "2.80", "spent_on": "2026-03-15", "tags": ["Work"]},
        headers=user.headers,
    )
    response = await client.get("/api/expenses/export.csv?sort=created_at", headers=user.headers)
    header = response.text.splitlines()[0]
    assert header.split(",")[-2:] == ["tags", "split_id"]
    rows = await csv_export(client, user, "sort=created_at")
    assert [(r["title"], r["amount"], r["tags"], r["split_id"]) for r in rows] == [
        ("Supermarket", "30.00", "Cash; Weekly", split["id"]),
        ("Supermarket", "12.50", "Cash; Weekly", split["id"]),
        ("Bus", "2.80", "Work", ""),
    ]

    newcomer = await sign_in(client)
    imported = await csv_upload(client, newcomer, response.text)
    assert imported.status_code == 201, imported.text
    again = await csv_export(client, newcomer, "sort=created_at")
    new_split = again[0]["split_id"]
    assert [(r["title"], r["amount"], r["category"], r["tags"], r["split_id"]) for r in again] == [
        ("Supermarket", "30.00", "Groceries", "Cash; Weekly", new_split),
        ("Supermarket", "12.50", "Household", "Cash; Weekly", new_split),
        ("Bus", "2.80", "", "Work", ""),
    ]
    read = (await client.get(f"/api/splits/{new_split}", headers=newcomer.headers)).json()
    assert (read["amount"], read["tags"]) == ("42.50", ["Cash", "Weekly"])

    # A split's parts carry the payment's tags: a file whose parts disagree is refused, naming the row.
    content = (
        "title,amount,spent_on,tags,split_id\n"
        "Market,30.00,2026-11-14,Food; Weekly,a\n"
        "Market,12.50,2026-11-14,Weekly,a\n"
        "Market,5.00,2026-11-14,weekly; FOOD,a\n"
    )
    refused = await csv_upload(client, newcomer, content)
    assert refused.status_code == 400, refused.text
    assert refused.json()["errors"] == [
        {"row": 3, "field": "split_id", "message": "must have the same tags as row 2, the split's first part"}
    ]


async def test_the_openapi_schema_names_every_new_body_once(client: Client) -> None:
    response = await client.get("/api/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    names = list(schema["components"]["schemas"])
    short = [name.rsplit(".", 1)[-1] for name in names]
    assert sorted({n for n in short if short.count(n) > 1}) == []  # no two structs share a name
    operations = [op["operationId"] for item in schema["paths"].values() for op in item.values() if "operationId" in op]
    assert sorted({o for o in operations if operations.count(o) > 1}) == []
    # Every JSON body of issue 15's routes is a named struct (a $ref), never an inline or untyped object.
    inline = []
    for path, item in schema["paths"].items():
        if not path.startswith(("/api/tags", "/api/splits", "/api/trash", "/api/budgets", "/api/recurring")):
            continue
        for method, op in item.items():
            for media in op.get("requestBody", {}).get("content", {}).values():
                if "$ref" not in media.get("schema", {}):
                    inline.append((method, path))
    assert inline == []
    assert {"TagRead", "SplitCreate", "SplitRead", "TrashItemRead", "BudgetSet", "ScheduleCreate"} <= set(short)


async def test_search_budgets_and_operators_see_a_split_as_its_parts(client: Client, user: Session) -> None:
    cats = {}
    for name, budget in (("Groceries", "100.00"), ("Household", "20.00")):
        made = await client.post(
            "/api/categories",
            json={"name": name, "color": "#336699", "monthly_budget": budget, "budget_from": "2026-03"},
            headers=user.headers,
        )
        assert made.status_code == 201, made.text
        cats[name] = made.json()["id"]
    body = {
        "title": "Supermarché Dupont",
        "amount": "42.50",
        "spent_on": "2026-03-14",
        "tags": ["Weekly"],
        "parts": [
            {"amount": "30.00", "category_id": cats["Groceries"]},
            {"amount": "12.50", "category_id": cats["Household"], "notes": "soap"},
        ],
    }
    assert (await client.post("/api/splits", json=body, headers=user.headers)).status_code == 201
    for title, tags in (("Market", ["Weekly", "Trip"]), ("Taxi", ["Trip"])):
        made = await client.post(
            "/api/expenses",
            json={"title": title, "amount": "5.00", "spent_on": "2026-03-15", "tags": tags},
            headers=user.headers,
        )
        assert made.status_code == 201

    async def found(**params: str | list[str]) -> list[tuple[str, str]]:
        response = await client.get("/api/expenses", params={"sort": "amount", **params}, headers=user.headers)
        assert response.status_code == 200, response.text
        return [(e["title"], e["amount"]) for e in response.json()["items"]]

    # Accent-insensitive search finds both parts of the split, each with its own amount.
    assert await found(q="supermarche") == [("Supermarché Dupont", "12.50"), ("Supermarché Dupont", "30.00")]
    assert await found(q="soap") == [("Supermarché Dupont", "12.50")]
    assert await found(q="category:household") == [("Supermarché Dupont", "12.50")]
    # An operator narrows what the filter panel chose: tag:weekly AND (panel) any of trip.
    assert await found(q="tag:weekly", tag=["Trip"]) == [("Market", "5.00")]
    assert await found(q="tag:weekly") == [
        ("Market", "5.00"),
        ("Supermarché Dupont", "12.50"),
        ("Supermarché Dupont", "30.00"),
    ]
    # Each part counts in its own category's budget.
    month = (await client.get("/api/budgets", params={"month": "2026-03"}, headers=user.headers)).json()
    lines = {line["name"]: (line["budget"], line["spent"], line["left"]) for line in month["lines"]}
    assert (lines["Groceries"], lines["Household"]) == (("100.00", "30.00", "70.00"), ("20.00", "12.50", "7.50"))


async def test_a_schedules_category_trashed_and_restored_is_its_category_again(
    client: Client, user: Session, engine: AsyncEngine
) -> None:
    made = await client.post("/api/categories", json={"name": "Streaming", "color": "#336699"}, headers=user.headers)
    streaming = made.json()["id"]
    body = {"title": "Films", "amount": "9.99", "unit": "month", "start_on": "2026-01-10", "category_id": streaming}
    schedule = (await client.post("/api/recurring", json=body, headers=user.headers)).json()["id"]
    deleted = await client.delete(f"/api/categories/{streaming}", headers=user.headers)
    assert deleted.status_code == 204, deleted.text
    assert (await client.get(f"/api/recurring/{schedule}", headers=user.headers)).json()["category_id"] is None
    await _undo(client, user, deleted.headers["X-Trash-Item"])
    assert (await client.get(f"/api/recurring/{schedule}", headers=user.headers)).json()["category_id"] == streaming
    await runner.run_job(engine, now=lambda: at("2026-01-11"))
    (expense,) = (await client.get("/api/expenses", headers=user.headers)).json()["items"]
    assert (expense["title"], expense["category_id"]) == ("Films", streaming)


async def test_a_trashed_expense_whose_tag_was_merged_comes_back_with_the_merged_tag(
    client: Client, user: Session
) -> None:
    tags = {}
    for title, names in (("Cheese", ["food", "Lunch"]), ("Bread", ["Food"])):
        made = await client.post(
            "/api/expenses", json={"title": title, "amount": "3.00", "tags": names}, headers=user.headers
        )
        assert made.status_code == 201, made.text
        tags[title] = made.json()["id"]
    listed = {t["name"]: t["id"] for t in (await client.get("/api/tags", headers=user.headers)).json()}
    assert sorted(listed) == ["Lunch", "food"]  # "food" and "Food" are one tag, stored as first typed
    made = await client.post(
        "/api/expenses", json={"title": "Milk", "amount": "1.00", "tags": ["Groceries", "Lunch"]}, headers=user.headers
    )
    milk = made.json()["id"]
    deleted = await client.delete(f"/api/expenses/{milk}", headers=user.headers)
    listed = {t["name"]: t["id"] for t in (await client.get("/api/tags", headers=user.headers)).json()}
    merged = await client.post(
        f"/api/tags/{listed['Groceries']}/merge", json={"into": listed["Lunch"]}, headers=user.headers
    )
    assert merged.status_code == 200, merged.text
    result = await _undo(client, user, deleted.headers["X-Trash-Item"])
    assert result["notes"] == []
    # Groceries became Lunch, which it already had: one tag, not two links to the same one.
    assert (await client.get(f"/api/expenses/{milk}", headers=user.headers)).json()["tags"] == ["Lunch"]

    renamed_from = await client.delete(f"/api/expenses/{tags['Cheese']}", headers=user.headers)
    assert (
        await client.post(f"/api/tags/{listed['Lunch']}/merge", json={"into": listed["food"]}, headers=user.headers)
    ).status_code == 200
    await _undo(client, user, renamed_from.headers["X-Trash-Item"])
    assert (await client.get(f"/api/expenses/{tags['Cheese']}", headers=user.headers)).json()["tags"] == ["food"]


async def test_a_split_part_never_goes_to_the_trash_alone(client: Client, user: Session) -> None:
    body = {
        "title": "Supermarket",
        "amount": "42.50",
        "spent_on": "2026-03-14",
        "parts": [{"amount": "30.00"}, {"amount": "12.50"}],
    }
    split = (await client.post("/api/splits", json=body, headers=user.headers)).json()
    part = split["parts"][0]["id"]
    response = await client.delete(f"/api/expenses/{part}", headers=user.headers)
    assert response.status_code == 409, response.text
    assert (response.json()["split"], "X-Trash-Item" in response.headers) == (f"/api/splits/{split['id']}", False)
    # From the page too: the confirmed delete of a part leads to its split's confirmation, nothing deleted.
    posted = await trash_pages.post(client, user, f"/expenses/{part}/delete", {"confirm": "yes", "next": "/expenses"})
    assert (posted.status_code, posted.headers["location"]) == (303, f"/splits/{split['id']}/delete?next=%2Fexpenses")
    assert (await client.get("/api/trash", headers=user.headers)).json() == []
    again = (await client.get(f"/api/splits/{split['id']}", headers=user.headers)).json()
    assert (again["amount"], [p["amount"] for p in again["parts"]]) == ("42.50", ["30.00", "12.50"])
