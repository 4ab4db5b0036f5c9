"""Trash and undo (issue 15, item 4): deletes go to the trash and come back exactly; edits are undone once.

Every test runs on SQLite and PostgreSQL. Rows are compared column by column as the database returns them, before the
delete and after the restore; the month aggregates must verify clean after both.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from expense_tracker.db import aggregates
from expense_tracker.db.models import Expense
from tests.conftest import Session, sign_in
from tests.test_bank_import import commit, settings, uploaded

Client = AsyncTestClient[Litestar]


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database_url)
    yield engine
    await engine.dispose()


async def rows(engine: AsyncEngine, table: str, **where: Any) -> list[dict[str, Any]]:
    """The table's rows matching ``where`` (column == value), every column as the database returns it."""
    found = Expense.metadata.tables[table]
    statement = sa.select(found).where(*(found.c[k] == v for k, v in where.items()))
    async with engine.connect() as connection:
        return [dict(r) for r in (await connection.execute(statement)).mappings()]


async def assert_aggregates_clean(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        assert await aggregates.differences(connection) == []


async def make_category(client: Client, user: Session, name: str, **extra: Any) -> str:
    body = {"name": name, "color": "#336699", **extra}
    response = await client.post("/api/categories", json=body, headers=user.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def make_expense(client: Client, user: Session, title: str, amount: str, **extra: Any) -> str:
    body = {"title": title, "amount": amount, "spent_on": "2026-03-14", **extra}
    response = await client.post("/api/expenses", json=body, headers=user.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def trash_item(response: Any) -> str:
    assert response.status_code == 204, response.text
    item = response.headers["X-Trash-Item"]
    assert response.headers["Link"] == f'</api/trash/{item}/restore>; rel="undo"'
    return str(item)


async def restore(client: Client, user: Session, item: str, status: int = 200) -> Any:
    response = await client.post(f"/api/trash/{item}/restore", headers=user.headers)
    assert response.status_code == status, response.text
    return response.json()


async def test_an_imported_expense_comes_back_exactly_with_its_duplicate_key(
    client: Client, user: Session, engine: AsyncEngine
) -> None:
    up = await uploaded(client, user, "us-chase-checking.csv")
    assert (await commit(client, user, settings(up))).status_code == 201
    listing = (await client.get("/api/expenses?limit=1&sort=amount", headers=user.headers)).json()
    expense_id = listing["items"][0]["id"]
    ident = uuid.UUID(expense_id)
    before, keys_before = await rows(engine, "expense", id=ident), await rows(engine, "imported_row", expense_id=ident)
    assert len(before) == 1
    assert len(keys_before) == 1

    item = await trash_item(await client.delete(f"/api/expenses/{expense_id}", headers=user.headers))
    assert await rows(engine, "expense", id=ident) == []
    assert await rows(engine, "imported_row", expense_id=ident) == []
    assert (await client.get(f"/api/expenses/{expense_id}", headers=user.headers)).status_code == 404
    await assert_aggregates_clean(engine)
    listed = (await client.get("/api/trash", headers=user.headers)).json()
    assert [(i["id"], i["kind"], i["rows"]) for i in listed] == [(item, "expense", 2)]
    deleted_at = dt.datetime.fromisoformat(listed[0]["deleted_at"])
    assert dt.datetime.fromisoformat(listed[0]["expires_at"]) - deleted_at == dt.timedelta(days=30)

    result = await restore(client, user, item)
    assert result["restored"] == {"expense": 1, "imported_row": 1}
    assert result["notes"] == []
    assert result["location"] == f"/api/expenses/{expense_id}"
    assert await rows(engine, "expense", id=ident) == before  # same id, amount, dates, created_at, updated_at
    assert await rows(engine, "imported_row", expense_id=ident) == keys_before
    await assert_aggregates_clean(engine)
    # The key is back: the same statement imported again finds every row already imported.
    again = await uploaded(client, user, "us-chase-checking.csv")
    assert (await commit(client, user, settings(again))).json()["imported"] == 0
    # Once only.
    await restore(client, user, item, 404)
    assert (await client.get("/api/trash", headers=user.headers)).json() == []


async def test_a_deleted_category_comes_back_with_its_expenses(
    client: Client, user: Session, engine: AsyncEngine
) -> None:
    food = await make_category(client, user, "Food stuff", monthly_budget="250.00", budget_currency="EUR")
    other = await make_category(client, user, "Other stuff")
    third = await make_category(client, user, "Third stuff")
    bread = await make_expense(client, user, "Bread", "3.20", category_id=food, currency="EUR")
    milk = await make_expense(client, user, "Milk", "1.10", category_id=food, currency="EUR")
    tea = await make_expense(client, user, "Tea", "4.00", category_id=other)
    before = await rows(engine, "category", name="Food stuff")

    refused = await client.delete(f"/api/categories/{food}", headers=user.headers)
    assert refused.status_code == 409  # in use and no reassign_to: nothing deleted, nothing in the trash
    assert (await client.get("/api/trash", headers=user.headers)).json() == []
    response = await client.delete(f"/api/categories/{food}?reassign_to={other}", headers=user.headers)
    item = await trash_item(response)
    assert await rows(engine, "category", name="Food stuff") == []
    await assert_aggregates_clean(engine)
    # Milk is moved on by hand meanwhile: it stays where it was put.
    moved = await client.patch(f"/api/expenses/{milk}", json={"category_id": third}, headers=user.headers)
    assert moved.status_code == 200

    result = await restore(client, user, item)
    assert result["kind"] == "category"
    assert result["restored"] == {"category": 1, "budget": 1}  # its budget history (issue 15, budgets) with it
    assert result["notes"] == ["1 of its 2 expense(s) were changed or deleted since and stay as they are."]
    assert await rows(engine, "category", name="Food stuff") == before
    categories = {}
    for expense_id in (bread, milk, tea):
        categories[expense_id] = (await client.get(f"/api/expenses/{expense_id}", headers=user.headers)).json()[
            "category_id"
        ]
    assert categories == {bread: food, milk: third, tea: other}
    await assert_aggregates_clean(engine)
    budget = (await client.get("/api/categories", headers=user.headers)).json()
    assert [(c["name"], c["monthly_budget"]) for c in budget if c["name"] == "Food stuff"] == [("Food stuff", "250.00")]


async def test_an_expense_whose_category_was_deleted_since_comes_back_uncategorised(
    client: Client, user: Session, engine: AsyncEngine
) -> None:
    travel = await make_category(client, user, "Travel")
    train = await make_expense(client, user, "Train", "42.00", category_id=travel)
    item = await trash_item(await client.delete(f"/api/expenses/{train}", headers=user.headers))
    category_item = await trash_item(await client.delete(f"/api/categories/{travel}", headers=user.headers))

    result = await restore(client, user, item)
    assert result["notes"] == ["Its category has been deleted since: it was restored without a category."]
    restored = (await client.get(f"/api/expenses/{train}", headers=user.headers)).json()
    assert (restored["title"], restored["amount"], restored["category_id"]) == ("Train", "42.00", None)
    await assert_aggregates_clean(engine)
    # The category itself can still come back (no expense needs moving).
    assert (await restore(client, user, category_item))["notes"] == []


async def test_restore_refuses_what_clashes_with_data_created_since(client: Client, user: Session) -> None:
    gifts = await make_category(client, user, "Gifts")
    item = await trash_item(await client.delete(f"/api/categories/{gifts}", headers=user.headers))
    await make_category(client, user, "Gifts")
    response = await client.post(f"/api/trash/{item}/restore", headers=user.headers)
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "cannot be restored" in response.json()["detail"]
    listed = (await client.get("/api/trash", headers=user.headers)).json()
    assert [i["id"] for i in listed] == [item]  # still in the trash


async def test_another_users_trash_is_a_missing_one(client: Client, user: Session, other_user: Session) -> None:
    expense = await make_expense(client, user, "Private", "9.99")
    item = await trash_item(await client.delete(f"/api/expenses/{expense}", headers=user.headers))
    assert (await client.get("/api/trash", headers=other_user.headers)).json() == []
    assert (await client.get(f"/api/trash/{item}", headers=other_user.headers)).status_code == 404
    assert (await client.post(f"/api/trash/{item}/restore", headers=other_user.headers)).status_code == 404
    assert (await client.delete(f"/api/trash/{item}", headers=other_user.headers)).status_code == 404
    assert (await client.delete("/api/trash", headers=other_user.headers)).json() == {"purged": 0}
    # Still the owner's, and restorable.
    assert (await client.get(f"/api/trash/{item}", headers=user.headers)).json()["label"] == (
        "Private (9.99 USD, 2026-03-14)"
    )
    assert (await restore(client, user, item))["restored"] == {"expense": 1}
    # Another user's expense cannot be deleted into anyone's trash.
    assert (await client.delete(f"/api/expenses/{expense}", headers=other_user.headers)).status_code == 404


async def test_purge_one_and_empty(client: Client, user: Session) -> None:
    first = await trash_item(
        await client.delete(f"/api/expenses/{await make_expense(client, user, 'A', '1')}", headers=user.headers)
    )
    second = await trash_item(
        await client.delete(f"/api/expenses/{await make_expense(client, user, 'B', '2')}", headers=user.headers)
    )
    third = await trash_item(
        await client.delete(f"/api/expenses/{await make_expense(client, user, 'C', '3')}", headers=user.headers)
    )
    assert (await client.delete(f"/api/trash/{first}", headers=user.headers)).status_code == 204
    assert (await client.get(f"/api/trash/{first}", headers=user.headers)).status_code == 404
    assert [i["id"] for i in (await client.get("/api/trash", headers=user.headers)).json()] == [third, second]
    emptied = await client.delete("/api/trash", headers=user.headers)
    assert (emptied.status_code, emptied.json()) == (200, {"purged": 2})
    assert (await client.get("/api/trash", headers=user.headers)).json() == []
    await restore(client, user, second, 404)


async def test_purge_expired_removes_items_past_their_30_days(client: Client, engine: AsyncEngine) -> None:
    from expense_tracker.domain.trash.services import TrashService

    alice, bob = await sign_in(client), await sign_in(client)
    old = await trash_item(
        await client.delete(f"/api/expenses/{await make_expense(client, alice, 'Old', '5')}", headers=alice.headers)
    )
    young = await trash_item(
        await client.delete(f"/api/expenses/{await make_expense(client, bob, 'Young', '6')}", headers=bob.headers)
    )
    edited = await make_expense(client, alice, "Edited", "7")
    patched = await client.patch(f"/api/expenses/{edited}", json={"amount": "8"}, headers=alice.headers)
    edit = patched.headers["X-Trash-Item"]
    edit_item = (await client.get(f"/api/trash/{edit}", headers=alice.headers)).json()
    assert dt.datetime.fromisoformat(edit_item["expires_at"]) - dt.datetime.fromisoformat(
        edit_item["deleted_at"]
    ) == dt.timedelta(days=1)
    # Deleted on 1 and 5 January 2026 (so purged from 31 January and 4 February); the edit on 3 January.
    dates = {
        old: ("2026-01-01 09:00:00", "2026-01-31 09:00:00"),
        young: ("2026-01-05 09:00:00", "2026-02-04 09:00:00"),
        edit: ("2026-01-03 09:00:00", "2026-01-04 09:00:00"),
    }
    table = Expense.metadata.tables["trash_item"]
    async with engine.begin() as connection:
        for item, (deleted, expires) in dates.items():
            await connection.execute(
                sa.update(table)
                .where(table.c.id == uuid.UUID(item))
                .values(
                    deleted_at=dt.datetime.fromisoformat(deleted + "+00:00"),
                    expires_at=dt.datetime.fromisoformat(expires + "+00:00"),
                )
            )

    async def purge(now: str) -> int:
        # On the test's own engine (the app's runs on the test client's event loop), as the scheduled job would.
        async with AsyncSession(engine) as session:
            purged = await TrashService(session=session).purge_expired(dt.datetime.fromisoformat(now))
            await session.commit()
            return purged

    async def left(user: Session) -> set[str]:
        found = set()
        for item in (old, young, edit):
            if (await client.get(f"/api/trash/{item}", headers=user.headers)).status_code == 200:
                found.add(item)
        return found

    assert await purge("2026-01-04T08:59:59+00:00") == 0
    assert await purge("2026-01-04T09:00:00+00:00") == 1  # the edit's undo, after a day
    assert await purge("2026-01-31T08:59:59+00:00") == 0
    assert await left(alice) == {old}
    assert await purge("2026-01-31T09:00:00+00:00") == 1
    assert await left(alice) == set()
    assert await left(bob) == {young}  # every user's items are purged, each on its own date
    assert await purge("2026-02-04T09:00:00+00:00") == 1
    assert await left(bob) == set()


async def test_an_edit_is_undone_once(client: Client, user: Session, engine: AsyncEngine) -> None:
    food = await make_category(client, user, "Groceries")
    expense = await make_expense(client, user, "Cheese", "12.40", category_id=food, notes="brie")
    before = (await client.get(f"/api/expenses/{expense}", headers=user.headers)).json()
    patched = await client.patch(
        f"/api/expenses/{expense}", json={"title": "Wine", "amount": "30.00", "category_id": None}, headers=user.headers
    )
    assert patched.status_code == 200
    assert patched.json()["title"] == "Wine"
    undo = patched.headers["X-Trash-Item"]
    assert (await client.get("/api/trash", headers=user.headers)).json() == []  # edits are not on the Trash page
    result = await restore(client, user, undo)
    assert (result["kind"], result["restored"]) == ("edit", {"expense": 1})
    assert (await client.get(f"/api/expenses/{expense}", headers=user.headers)).json() == before
    await assert_aggregates_clean(engine)
    await restore(client, user, undo, 404)  # once

    # Changed again since: undoing the first edit would overwrite the second; refused, nothing changed.
    first = (await client.patch(f"/api/expenses/{expense}", json={"amount": "1.00"}, headers=user.headers)).headers[
        "X-Trash-Item"
    ]
    await client.patch(f"/api/expenses/{expense}", json={"amount": "2.00"}, headers=user.headers)
    refused = await client.post(f"/api/trash/{first}/restore", headers=user.headers)
    assert refused.status_code == 409
    assert refused.json()["detail"] == "It has been changed again since; undo would overwrite that change."
    assert (await client.get(f"/api/expenses/{expense}", headers=user.headers)).json()["amount"] == "2.00"

    # A category's edit too.
    renamed = await client.patch(
        f"/api/categories/{food}", json={"name": "Fresh food", "color": "#000000"}, headers=user.headers
    )
    await restore(client, user, renamed.headers["X-Trash-Item"])
    category = (await client.get(f"/api/categories/{food}", headers=user.headers)).json()
    assert (category["name"], category["color"]) == ("Groceries", "#336699")


async def test_a_failed_edit_keeps_no_undo(client: Client, user: Session, engine: AsyncEngine) -> None:
    expense = await make_expense(client, user, "Soap", "2.00")
    response = await client.patch(f"/api/expenses/{expense}", json={"amount": "2.005"}, headers=user.headers)
    assert response.status_code == 400
    assert "X-Trash-Item" not in response.headers
    assert await rows(engine, "trash_item", label="Soap (2.00 USD, 2026-03-14)") == []


async def test_the_trash_is_in_the_openapi_schema(client: Client) -> None:
    schema = (await client.get("/api/openapi.json")).json()
    assert {"/api/trash", "/api/trash/{item_id}", "/api/trash/{item_id}/restore"} <= set(schema["paths"])
    delete = schema["paths"]["/api/expenses/{expense_id}"]["delete"]
    assert "X-Trash-Item" in str(delete["responses"])
    assert {"RestoreResult", "TrashItemRead"} <= {name.rsplit(".", 1)[-1] for name in schema["components"]["schemas"]}


# A table added by a later slice, with a foreign key ON DELETE CASCADE to expense (and one of its own below it, and
# one ON DELETE SET NULL): the trash must carry their rows without being told about them.
async def test_any_table_cascading_from_expense_is_carried_generically(
    client: Client, user: Session, engine: AsyncEngine
) -> None:
    metadata = Expense.metadata
    probe = sa.Table(
        "trash_probe",
        metadata,
        sa.Column("id", GUID(length=16), primary_key=True),
        sa.Column("expense_id", GUID(length=16), sa.ForeignKey("expense.id", ondelete="CASCADE"), nullable=False),
        sa.Column("blob", sa.LargeBinary(), nullable=True),
        sa.Column("measured", sa.Numeric(10, 3), nullable=True),
        sa.Column("seen_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("meta", sa.JSON(), nullable=True),
    )
    probe_child = sa.Table(
        "trash_probe_child",
        metadata,
        sa.Column("id", GUID(length=16), primary_key=True),
        sa.Column("probe_id", GUID(length=16), sa.ForeignKey("trash_probe.id", ondelete="CASCADE"), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
    )
    pointer = sa.Table(
        "trash_probe_pointer",
        metadata,
        sa.Column("id", GUID(length=16), primary_key=True),
        sa.Column("expense_id", GUID(length=16), sa.ForeignKey("expense.id", ondelete="SET NULL"), nullable=True),
    )
    tables = [probe, probe_child, pointer]
    try:
        async with engine.begin() as connection:
            for table in tables:
                await connection.run_sync(table.create)
        expense = uuid.UUID(await make_expense(client, user, "Probe", "1.50"))
        probe_id, child_id, pointer_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        probe_row = {
            "id": probe_id,
            "expense_id": expense,
            "blob": b"\x00\xffbytes",
            "measured": Decimal("12.345"),
            "seen_at": dt.datetime(2026, 3, 14, 15, 9, 26, 535897, tzinfo=dt.UTC),
            "day": dt.date(2024, 2, 29),
            "meta": {"a": [1, "b"]},
        }
        async with engine.begin() as connection:
            await connection.execute(sa.insert(probe), probe_row)
            await connection.execute(sa.insert(probe_child), {"id": child_id, "probe_id": probe_id, "note": "deep"})
            await connection.execute(sa.insert(pointer), {"id": pointer_id, "expense_id": expense})

        async def read() -> tuple[Any, ...]:
            async with engine.connect() as connection:
                return (
                    [dict(r) for r in (await connection.execute(sa.select(probe))).mappings()],
                    [dict(r) for r in (await connection.execute(sa.select(probe_child))).mappings()],
                    [dict(r) for r in (await connection.execute(sa.select(pointer))).mappings()],
                )

        before = await read()
        assert before[0] == [probe_row]
        item = await trash_item(await client.delete(f"/api/expenses/{expense}", headers=user.headers))
        assert await read() == ([], [], [{"id": pointer_id, "expense_id": None}])
        listed = (await client.get(f"/api/trash/{item}", headers=user.headers)).json()
        assert listed["rows"] == 3
        result = await restore(client, user, item)
        assert result["restored"] == {"expense": 1, "trash_probe": 1, "trash_probe_child": 1}
        assert await read() == before
    finally:
        async with engine.begin() as connection:
            for table in reversed(tables):
                await connection.run_sync(lambda sync, t=table: t.drop(sync, checkfirst=True))
        for table in tables:
            metadata.remove(table)


async def test_the_migration_goes_down_and_up_with_data(
    client: Client, user: Session, engine: AsyncEngine, database_url: str, backend: str
) -> None:
    """0013 is additive: down to its predecessor drops only ``trash_item`` (every expense stays), up brings it back."""
    if backend != "postgresql":
        pytest.skip("migrations are tested on PostgreSQL (SQLite gets them through every test database)")
    import asyncio

    from tests.test_aggregates import run_migration

    kept = await make_expense(client, user, "Kept", "10.00")
    await trash_item(
        await client.delete(f"/api/expenses/{await make_expense(client, user, 'Gone', '2')}", headers=user.headers)
    )
    before = await rows(engine, "expense", id=uuid.UUID(kept))

    async def tables() -> set[str]:
        async with engine.connect() as connection:
            return set(await connection.run_sync(lambda sync: sa.inspect(sync).get_table_names()))

    await asyncio.to_thread(run_migration, database_url, "downgrade", "0012")
    try:
        assert "trash_item" not in await tables()
        assert {"expense", "imported_row", "category"} <= await tables()
        assert await rows(engine, "expense", id=uuid.UUID(kept)) == before
    finally:
        await asyncio.to_thread(run_migration, database_url, "upgrade")  # never leave the shared database downgraded
    assert "trash_item" in await tables()
    assert await rows(engine, "expense", id=uuid.UUID(kept)) == before
    assert (await client.get("/api/trash", headers=user.headers)).json() == []  # the old items went with the table
    item = await trash_item(await client.delete(f"/api/expenses/{kept}", headers=user.headers))
    await restore(client, user, item)
    assert await rows(engine, "expense", id=uuid.UUID(kept)) == before
    await assert_aggregates_clean(engine)


@pytest.mark.parametrize(
    ("column_type", "value"),
    [
        (GUID(length=16), uuid.UUID("01a24917-574f-70d4-8bed-4882186016e9")),
        (sa.Numeric(30, 20), Decimal("1.23456789012345678901")),
        (sa.Numeric(12, 2), Decimal("-0.10")),
        (DateTimeUTC(timezone=True), dt.datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=dt.UTC)),
        (sa.Date(), dt.date(2024, 2, 29)),
        (sa.Time(), dt.time(7, 30, 0, 1)),
        (sa.LargeBinary(), b"\x00\x01\xfe\xff"),
        (sa.JSON(), {"nested": [1, "two", None]}),
        (sa.String(10), "Zoë's"),
        (sa.Integer(), 42),
        (sa.Boolean(), False),
        (sa.String(10), None),
    ],
)
def test_every_column_type_survives_json_exactly(column_type: Any, value: Any) -> None:
    """Encoded to JSON text and decoded by the column's type: the same value and the same Python type."""
    import json

    from expense_tracker.domain.trash.snapshots import decode, encode

    column = sa.Column("c", column_type)
    back = decode(column, json.loads(json.dumps(encode(value))))
    assert back == value
    assert type(back) is type(value)


async def test_a_link_to_a_row_deleted_since_is_left_off_and_said(
    client: Client, user: Session, engine: AsyncEngine
) -> None:
    """Like tomorrow's expense_tag: an expense linked to two labels, one label deleted while the expense is in the
    trash. The expense and its other link come back; the dead link is left off and the restore says so."""
    metadata = Expense.metadata
    label = sa.Table("trash_probe_label", metadata, sa.Column("id", GUID(length=16), primary_key=True))
    link = sa.Table(
        "trash_probe_link",
        metadata,
        sa.Column("expense_id", GUID(length=16), sa.ForeignKey("expense.id", ondelete="CASCADE"), primary_key=True),
        sa.Column(
            "label_id", GUID(length=16), sa.ForeignKey("trash_probe_label.id", ondelete="CASCADE"), primary_key=True
        ),
    )
    tables = [label, link]
    try:
        async with engine.begin() as connection:
            for table in tables:
                await connection.run_sync(table.create)
        expense = uuid.UUID(await make_expense(client, user, "Linked", "4.00"))
        kept, dropped = uuid.uuid4(), uuid.uuid4()
        async with engine.begin() as connection:
            await connection.execute(sa.insert(label), [{"id": kept}, {"id": dropped}])
            await connection.execute(
                sa.insert(link),
                [{"expense_id": expense, "label_id": kept}, {"expense_id": expense, "label_id": dropped}],
            )
        item = await trash_item(await client.delete(f"/api/expenses/{expense}", headers=user.headers))
        async with engine.begin() as connection:
            await connection.execute(sa.delete(label).where(label.c.id == dropped))
        result = await restore(client, user, item)
        assert result["restored"] == {"expense": 1, "trash_probe_link": 1}
        assert result["notes"] == ["1 trash_probe_link row(s) referred to something deleted since; they were left off."]
        async with engine.connect() as connection:
            links = [tuple(r) for r in await connection.execute(sa.select(link))]
        assert links == [(expense, kept)]
    finally:
        async with engine.begin() as connection:
            for table in reversed(tables):
                await connection.run_sync(lambda sync, t=table: t.drop(sync, checkfirst=True))
        for table in tables:
            metadata.remove(table)
