"""Trash and undo. Deleting stays a real DELETE: a snapshot of the rows is stored first (``snapshots.py``).

Restoring inserts the rows back with their own ids and timestamps, so every report, the aggregates (their triggers
fire on the INSERT as on any other) and the links of other rows come back as they were. An edit keeps the row's
previous values; "Undo" writes them back once, and only if nothing changed the row since (``updated_at``).
"""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Sequence
from contextlib import asynccontextmanager
from functools import cached_property
from types import SimpleNamespace
from typing import Any

from advanced_alchemy.exceptions import NotFoundError
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from sqlalchemy import Table, Text, cast, delete, event, inspect, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from expense_tracker.constants import EDIT_UNDO_RETENTION, TRASH_RETENTION
from expense_tracker.db.models import Category, Expense, RecurringSchedule, TrashItem
from expense_tracker.domain.categories.services import CategoryService
from expense_tracker.domain.trash import snapshots
from expense_tracker.domain.trash.schemas import RestoreResult, TrashItemRead, TrashKind
from expense_tracker.lib.money import quantize
from expense_tracker.lib.problems import ConflictError

EXPENSE_TABLE: Table = Expense.__table__  # type: ignore[assignment]
SCHEDULE_TABLE: Table = RecurringSchedule.__table__  # type: ignore[assignment]
CATEGORY_TABLE: Table = Category.__table__  # type: ignore[assignment]
LABEL_MAX = 200
EDIT = "edit"
_LOCATIONS = {
    "expense": "/api/expenses/{id}",
    "category": "/api/categories/{id}",
    "recurring_schedule": "/api/recurring/{id}",
}
# What a cleared reference means to the person restoring (others get the generic wording).
_CLEARED = {
    ("expense", "category_id"): "Its category has been deleted since: it was restored without a category.",
}
_DROPPED = {"expense_tag": "{n} of its tags had been deleted since; they were left off."}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _clip(label: str) -> str:
    return label if len(label) <= LABEL_MAX else label[: LABEL_MAX - 1] + "…"


def expense_label(expense: Any) -> str:
    return f"{expense.title} ({quantize(expense.amount)} {expense.currency}, {expense.spent_on.isoformat()})"


def _row_label(table: Table, row: dict[str, Any]) -> str:
    """How a snapshot's row is named in the trash: an expense as on the pages, else its name or title."""
    if table.name == "expense":
        return expense_label(SimpleNamespace(**row))
    return str(row.get("name") or row.get("title") or table.name)


class EditUndo:
    """The trash item of an edit, known once the edited row has been written (see :meth:`TrashService.editing`)."""

    _id: uuid.UUID | None = None

    @property
    def id(self) -> uuid.UUID:
        if self._id is None:
            raise RuntimeError("the edit's trash item exists only after its `async with` block")
        return self._id


class TrashService(SQLAlchemyAsyncRepositoryService[TrashItem]):
    class Repo(SQLAlchemyAsyncRepository[TrashItem]):
        model_type = TrashItem

    repository_type = Repo

    @cached_property
    def categories(self) -> CategoryService:
        return CategoryService(session=self.repository.session)

    # Reading ---------------------------------------------------------------------------------------------------

    async def get_owned(self, user_id: uuid.UUID, item_id: uuid.UUID) -> TrashItem:
        """A foreign item is a missing one (404), like every other user-owned row."""
        item: TrashItem | None = await self.repository.get_one_or_none(
            TrashItem.id == item_id, TrashItem.user_id == user_id
        )
        if item is None:
            raise NotFoundError(f"trash item {item_id}")
        return item

    async def list_for(self, user_id: uuid.UUID) -> Sequence[TrashItem]:
        """The Trash page: deleted things, newest first (edit snapshots only back their "Undo", never listed)."""
        statement = (
            select(TrashItem)
            .where(TrashItem.user_id == user_id, TrashItem.kind != EDIT)
            .order_by(TrashItem.deleted_at.desc(), TrashItem.id.desc())
        )
        return list((await self.repository.session.scalars(statement)).all())

    @staticmethod
    def to_read(item: TrashItem) -> TrashItemRead:
        rows = sum(len(t["rows"]) for t in item.payload.get("tables", []))
        kind: TrashKind = item.kind  # type: ignore[assignment] # only the four kinds are ever stored
        return TrashItemRead(
            id=item.id, kind=kind, label=item.label, deleted_at=item.deleted_at, expires_at=item.expires_at, rows=rows
        )

    # Deleting --------------------------------------------------------------------------------------------------

    async def _store(
        self, user_id: uuid.UUID, kind: str, label: str, payload: dict[str, Any], keep_for: dt.timedelta
    ) -> TrashItem:
        now = _now()
        item = TrashItem(
            user_id=user_id, kind=kind, label=_clip(label), payload=payload, deleted_at=now, expires_at=now + keep_for
        )
        self.repository.session.add(item)
        await self.repository.session.flush()
        return item

    async def trash_rows(
        self,
        user_id: uuid.UUID,
        kind: str,
        label: str | None,
        table: Table,
        ids: Sequence[uuid.UUID],
        extra: dict[str, Any] | None = None,
        check: Callable[[snapshots.Snapshot], Awaitable[None]] | None = None,
    ) -> TrashItem:
        """Snapshot the user's rows ``ids`` of ``table`` (a table with ``id`` and ``user_id``) with everything that
        cascades from them, then DELETE them. All of them or none: a missing or foreign id is a 404. Without a
        ``label`` the first row names the item ("... and 2 more" for several). ``check`` may refuse the snapshot
        (raise) before anything is deleted."""
        owned = (table.c.id.in_(list(ids))) & (table.c.user_id == user_id)
        snapshot = await snapshots.take(self.repository.session, table, owned)
        if not ids or snapshot.count(table.name) != len(set(ids)):
            raise NotFoundError(f"{table.name} {', '.join(map(str, ids))}")
        if check is not None:
            await check(snapshot)
        await self.repository.session.execute(delete(table).where(owned))
        if label is None:
            rows = snapshot.rows(table.name)
            label = _row_label(table, rows[0]) + (f" and {len(rows) - 1} more" if len(rows) > 1 else "")
        return await self._store(user_id, kind, label, snapshot.to_payload(extra), TRASH_RETENTION)

    async def trash_expenses(self, user_id: uuid.UUID, ids: Sequence[uuid.UUID], label: str | None = None) -> TrashItem:
        """Delete expenses (a split payment's parts go together, as one item) into the trash.

        A part of a split payment goes only with all its parts: alone it is a 409 naming the split (the others would
        no longer add up to its total), as ``PATCH`` of a part is. Ordinary expenses cost no extra query for this.
        """

        async def whole_splits(snapshot: snapshots.Snapshot) -> None:
            split_ids = {row["split_id"] for row in snapshot.rows("expense") if row.get("split_id") is not None}
            if not split_ids:
                return
            parts = await self.repository.session.execute(
                select(Expense.id, Expense.split_id).where(Expense.user_id == user_id, Expense.split_id.in_(split_ids))
            )
            # Imported here: the expenses service imports the tags service, which imports this module.
            from expense_tracker.domain.expenses.services import SplitPartError

            wanted = set(ids)
            for part_id, split_id in parts:
                if part_id not in wanted:
                    raise SplitPartError(split_id)

        return await self.trash_rows(user_id, "expense", label, EXPENSE_TABLE, ids, check=whole_splits)

    async def trash_category(
        self, user_id: uuid.UUID, category_id: uuid.UUID, reassign_to: uuid.UUID | None
    ) -> TrashItem:
        """Delete a category (its expenses moved to ``reassign_to``, as before) into the trash.

        The item remembers which expenses were moved: restoring moves back those still in ``reassign_to``.
        """
        session = self.repository.session
        category = await self.categories.get_owned(user_id, category_id)
        moved = list(
            (
                await session.scalars(
                    select(Expense.id).where(Expense.user_id == user_id, Expense.category_id == category_id)
                )
            ).all()
        )
        table = CATEGORY_TABLE
        snapshot = await snapshots.take(session, table, (table.c.id == category_id) & (table.c.user_id == user_id))
        # The category service checks the target and moves the expenses; a 4xx from it stores nothing.
        await self.categories.delete_for(user_id, category_id, reassign_to)
        extra = {"reassigned": [str(i) for i in moved], "reassign_to": str(reassign_to) if moved else None}
        return await self._store(user_id, "category", category.name, snapshot.to_payload(extra), TRASH_RETENTION)

    # Edits -----------------------------------------------------------------------------------------------------

    async def _edit_snapshot(
        self, user_id: uuid.UUID, table: Table, row_id: uuid.UUID, children: Collection[str] = ()
    ) -> tuple[snapshots.Snapshot, dict[str, Any]]:
        session = self.repository.session
        snapshot = await snapshots.take(
            session, table, (table.c.id == row_id) & (table.c.user_id == user_id), cascade=False
        )
        rows = snapshot.rows(table.name)
        if not rows:
            raise NotFoundError(f"{table.name} {row_id}")
        if children:
            await snapshots.take_children(session, snapshot, children)
        return snapshot, rows[0]

    async def record_edit(self, user_id: uuid.UUID, table: Table, row_id: uuid.UUID, label: str | None) -> TrashItem:
        """Snapshot the row before an edit (kind ``edit``). Prefer :meth:`editing`, which also notes when the edit
        happened (without that mark "Undo" refuses: it cannot tell whether the row changed again since)."""
        snapshot, old = await self._edit_snapshot(user_id, table, row_id)
        payload = snapshot.to_payload({"id": str(row_id)})
        return await self._store(user_id, EDIT, label or _row_label(table, old), payload, EDIT_UNDO_RETENTION)

    @asynccontextmanager
    async def editing(
        self,
        user_id: uuid.UUID,
        table: Table,
        row_id: uuid.UUID,
        label: str | None = None,
        children: Collection[str] = (),
    ) -> AsyncIterator[EditUndo]:
        """``async with trash.editing(...) as undo: <update the row>``, then ``undo.id`` is the edit's trash item.

        The row is read before the update (404 when missing or foreign); the item is stored after it, with the row's
        new ``updated_at``, which "Undo" compares with the row's then (any later change makes it a 409). An exception
        in the block stores nothing. ``children``: the tables whose rows pointing at the row the edit may replace too
        (``expense_tag`` when the tags are edited, ``budget`` when the budget is): "Undo" puts those back as well,
        else it would restore the row and keep the edit's tags or budget history.
        """
        snapshot, old = await self._edit_snapshot(user_id, table, row_id, children)
        undo = EditUndo()
        session = self.repository.session
        # The new updated_at as the ORM flushes it costs no query. Noted at the flush: the session keeps no edited
        # object once the block dropped it (its identity map is weak; an API answer is a Struct, not the row).
        flushed: dict[str, Any] = {}

        def note(sync_session: Any, _context: Any) -> None:
            for obj in sync_session.dirty:
                state = inspect(obj)
                if state.mapper.local_table is table and state.identity == (row_id,):
                    flushed["updated_at"] = obj.updated_at

        event.listen(session.sync_session, "after_flush", note)
        try:
            yield undo
            await session.flush()
        finally:
            event.remove(session.sync_session, "after_flush", note)
        edited_at = flushed.get("updated_at")
        if edited_at is None:  # nothing flushed (an edit that changed nothing, or one written by a statement)
            edited_at = await session.scalar(select(table.c.updated_at).where(table.c.id == row_id))
        payload = snapshot.to_payload({"id": str(row_id), "edited_at": snapshots.encode(edited_at)})
        item = await self._store(user_id, EDIT, label or _row_label(table, old), payload, EDIT_UNDO_RETENTION)
        undo._id = item.id

    async def _undo_edit(self, item: TrashItem) -> RestoreResult:
        session = self.repository.session
        snapshot = snapshots.Snapshot.from_payload(item.payload, self._metadata)
        table = self._metadata.tables[snapshot.root]
        (old,) = snapshot.rows(table.name)
        current = await session.scalar(
            select(table.c.updated_at).where(table.c.id == old["id"], table.c.user_id == item.user_id)
        )
        if current is None:
            raise ConflictError(detail="It has been deleted since; there is nothing to undo.")
        edited_at = item.payload["extra"].get("edited_at")
        if edited_at is None or current != snapshots.decode(table.c.updated_at, edited_at):
            raise ConflictError(detail="It has been changed again since; undo would overwrite that change.")
        values = {k: v for k, v in old.items() if k not in ("id", "user_id")}
        try:
            await session.execute(update(table).where(table.c.id == old["id"]).values(values))
        except IntegrityError:
            raise ConflictError(detail=f"Undo would clash with data changed since ({table.name}).") from None
        children = await snapshots.put_back_children(session, snapshot)
        await session.delete(item)
        await session.flush()
        return RestoreResult(
            id=item.id,
            kind="edit",
            label=item.label,
            restored={table.name: 1, **{name: n for name, n in children.counts.items() if n}},
            notes=self._dropped_notes(children),
            location=_LOCATIONS.get(table.name, "").format(id=old["id"]) or None,
        )

    # Restoring -------------------------------------------------------------------------------------------------

    @cached_property
    def _metadata(self) -> Any:
        return Expense.metadata

    async def restore(self, user_id: uuid.UUID, item_id: uuid.UUID) -> RestoreResult:
        """Put an item back (or undo an edit) and delete it from the trash: it works once (then 404).

        409 (nothing changed) when it clashes with what was created since: the same category name, a bank row that was
        imported again. An expense whose category has been deleted since comes back without a category (said in
        ``notes``); a category's expenses that were moved elsewhere again since stay where they are.
        """
        session = self.repository.session
        item = await self.get_owned(user_id, item_id)
        if item.kind == EDIT:
            return await self._undo_edit(item)
        snapshot = snapshots.Snapshot.from_payload(item.payload, self._metadata)
        root_ids = [row["id"] for row in snapshot.rows(snapshot.root)]
        try:
            restored = await snapshots.put_back(session, snapshot)
        except snapshots.MissingParentError as exc:
            raise ConflictError(
                detail=f"It cannot be restored: a row it needs ({exc.column}) no longer exists."
            ) from None
        except IntegrityError:
            raise ConflictError(
                detail=f"“{item.label}” cannot be restored: it clashes with something created since it was deleted "
                "(for example a category with the same name, or a bank statement row imported again)."
            ) from None
        notes = [
            _CLEARED.get(key, f"{key[0]}.{key[1]} referred to something deleted since; it was left empty.")
            for key in restored.cleared
        ]
        notes += self._dropped_notes(restored)
        extra = item.payload.get("extra", {})
        if item.kind == "category" and extra.get("reassigned"):
            notes += await self._move_back(user_id, root_ids[0], extra)
        await session.delete(item)
        await session.flush()
        location = _LOCATIONS.get(snapshot.root)
        return RestoreResult(
            id=item.id,
            kind=item.kind,  # type: ignore[arg-type] # only the four kinds are ever stored
            label=item.label,
            restored={name: n for name, n in restored.counts.items() if n},
            notes=notes,
            location=location.format(id=root_ids[0]) if location and len(root_ids) == 1 else None,
        )

    @staticmethod
    def _dropped_notes(restored: snapshots.Restored) -> list[str]:
        return [
            _DROPPED.get(
                table, "{n} " + table + " row(s) referred to something deleted since; they were left off."
            ).format(n=n)
            for table, n in restored.dropped.items()
        ]

    async def _move_back(self, user_id: uuid.UUID, category_id: uuid.UUID, extra: dict[str, Any]) -> list[str]:
        """Move the expenses the delete reassigned back into the restored category: those still in the category they
        were moved to (one moved elsewhere since, or deleted, stays as it is)."""
        ids = [uuid.UUID(i) for i in extra["reassigned"]]
        target = uuid.UUID(extra["reassign_to"])
        moved = 0
        for start in range(0, len(ids), snapshots.IN_BATCH):
            result = await self.repository.session.execute(
                update(Expense)
                .where(
                    Expense.id.in_(ids[start : start + snapshots.IN_BATCH]),
                    Expense.user_id == user_id,
                    Expense.category_id == target,
                )
                .values(category_id=category_id)
            )
            moved += result.rowcount
        if moved == len(ids):
            return []
        return [f"{len(ids) - moved} of its {len(ids)} expense(s) were changed or deleted since and stay as they are."]

    # Purging ---------------------------------------------------------------------------------------------------

    async def purge(self, user_id: uuid.UUID, item_id: uuid.UUID) -> None:
        """Delete one item for good ("Delete forever")."""
        result = await self.repository.session.execute(
            delete(TrashItem).where(TrashItem.id == item_id, TrashItem.user_id == user_id)
        )
        if result.rowcount != 1:
            raise NotFoundError(f"trash item {item_id}")

    async def empty(self, user_id: uuid.UUID) -> int:
        """Delete every item on the user's Trash page for good (pending edit undos stay until they expire)."""
        result = await self.repository.session.execute(
            delete(TrashItem).where(TrashItem.user_id == user_id, TrashItem.kind != EDIT)
        )
        return int(result.rowcount)

    async def purge_expired(self, now: dt.datetime) -> int:
        """Delete every user's items past their ``expires_at`` (30 days after a delete, 1 day after an edit).

        One statement over the ``expires_at`` index; for ``expense-tracker recurring run``. Returns how many went.
        """
        result = await self.repository.session.execute(delete(TrashItem).where(TrashItem.expires_at <= now))
        return int(result.rowcount)


async def purge_expired(connection: AsyncConnection, now: dt.datetime) -> int:
    """:meth:`TrashService.purge_expired` on a bare connection (the CLI's ``_with_database``), in its transaction."""
    result = await connection.execute(delete(TrashItem).where(TrashItem.expires_at <= now))
    return int(result.rowcount)


async def repoint_kept_rows(
    session: AsyncSession, user_id: uuid.UUID, table: Table, column: str, old: uuid.UUID, new: uuid.UUID
) -> None:
    """Rows of ``table`` kept in the user's trash items that refer to ``old`` through ``column`` refer to ``new``
    from now on (rows that then repeat a key are kept once).

    For a row merged into another (a tag into a tag): a deleted expense restored later carries the tag its tag
    became, where the link to the merged-away row would be left off as "deleted since".
    """
    needle = snapshots.encode(old)
    items = await session.scalars(
        select(TrashItem).where(TrashItem.user_id == user_id, cast(TrashItem.payload, Text).contains(needle))
    )
    key = [c.name for c in table.primary_key.columns]
    for item in items:
        payload = copy.deepcopy(item.payload)
        for entry in payload.get("tables", []):
            if entry["table"] != table.name:
                continue
            rows: dict[tuple[Any, ...], dict[str, Any]] = {}
            for row in entry["rows"]:
                if row.get(column) == needle:
                    row[column] = snapshots.encode(new)
                rows.setdefault(tuple(row.get(k) for k in key), row)
            entry["rows"] = list(rows.values())
        item.payload = payload  # a new object: the JSON column sees the change
    await session.flush()
