"""Rows as JSON and back, generically: a table's rows and every row that cascades from them.

Nothing here names a table. What belongs to a deleted row is found from the foreign keys in the metadata: every table
with a foreign key to it ``ON DELETE CASCADE`` (today ``imported_row`` -> ``expense``; the tag links, budgets and
recurring occurrences of other slices join by declaring theirs), recursively. Columns come from the table too, so a
column added later is kept without a change here. Rows that only point at a deleted row ``ON DELETE SET NULL`` are
not copied (they stay); their pointer is remembered and put back on restore ("relinks").

Values are JSON-encoded by their Python type and decoded by their column's type: UUIDs, Decimals (as strings, never
floats), dates, datetimes (ISO 8601 with their offset), times and bytes (base64) come back as the same values.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    ForeignKeyConstraint,
    MetaData,
    Table,
    and_,
    delete,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import JSON

PAYLOAD_VERSION = 1
IN_BATCH = 500
"""Keys per ``IN (...)`` when reading children: far below every backend's bound-parameter limit."""

Key = tuple[Any, ...]


def encode(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return str(value)  # "12.50": exact, where a JSON number would be a float
    if isinstance(value, dt.date | dt.time):  # datetime is a date: isoformat keeps its offset
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


_DECODERS: dict[type, Callable[[Any], Any]] = {
    uuid.UUID: uuid.UUID,
    Decimal: Decimal,
    dt.datetime: dt.datetime.fromisoformat,
    dt.date: dt.date.fromisoformat,
    dt.time: dt.time.fromisoformat,
    bytes: base64.b64decode,
}


def decode(column: Column[Any], value: Any) -> Any:
    """``value`` as ``column`` holds it; JSON columns keep their JSON."""
    if value is None or isinstance(column.type, JSON):
        return value
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return value
    decoder = _DECODERS.get(python_type)
    return decoder(value) if decoder is not None else value


def cascading_references(table: Table, metadata: MetaData) -> list[ForeignKeyConstraint]:
    """The foreign keys to ``table`` whose rows a DELETE of its rows deletes too."""
    return [
        constraint
        for child in metadata.sorted_tables
        for constraint in child.foreign_key_constraints
        if constraint.referred_table is table and (constraint.ondelete or "").upper() == "CASCADE"
    ]


def nulling_references(table: Table, metadata: MetaData) -> list[ForeignKeyConstraint]:
    """The single-column foreign keys to ``table`` that a DELETE of its rows sets to NULL (the child's primary key
    may have several columns: ``recurring_occurrence`` is keyed by schedule and date)."""
    return [
        constraint
        for child in metadata.sorted_tables
        for constraint in child.foreign_key_constraints
        if constraint.referred_table is table
        and (constraint.ondelete or "").upper() == "SET NULL"
        and len(constraint.elements) == 1
    ]


def _key_clause(columns: Sequence[Column[Any]], keys: Sequence[Key]) -> ColumnElement[bool]:
    if len(columns) == 1:
        return columns[0].in_([k[0] for k in keys])
    return tuple_(*columns).in_(keys)


def _primary_key(table: Table, row: Mapping[str, Any]) -> Key:
    return tuple(row[c.name] for c in table.primary_key.columns)


@dataclass
class Snapshot:
    """Rows by table (each table's rows by primary key, tables in the order first reached) and SET NULL pointers."""

    metadata: MetaData
    root: str
    tables: dict[str, dict[Key, dict[str, Any]]] = field(default_factory=dict)
    relinks: list[dict[str, Any]] = field(default_factory=list)

    def count(self, table: str) -> int:
        return len(self.tables.get(table, {}))

    def rows(self, table: str) -> list[dict[str, Any]]:
        return list(self.tables.get(table, {}).values())

    def to_payload(self, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return {
            "version": PAYLOAD_VERSION,
            "root": self.root,
            "tables": [
                {"table": name, "rows": [{k: encode(v) for k, v in row.items()} for row in rows.values()]}
                for name, rows in self.tables.items()
            ],
            "relinks": self.relinks,
            "extra": dict(extra or {}),
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any], metadata: MetaData) -> Snapshot:
        snapshot = cls(metadata=metadata, root=payload["root"], relinks=list(payload.get("relinks", [])))
        for entry in payload["tables"]:
            table = metadata.tables[entry["table"]]
            rows = snapshot.tables.setdefault(table.name, {})
            for encoded in entry["rows"]:
                # Columns the table no longer has are left out; columns it gained since take their defaults.
                row = {c.name: decode(c, encoded[c.name]) for c in table.columns if c.name in encoded}
                rows[_primary_key(table, row)] = row
        return snapshot


async def take(session: AsyncSession, table: Table, where: ColumnElement[bool], *, cascade: bool = True) -> Snapshot:
    """The rows of ``table`` matching ``where`` and, recursively, every row that cascades from them (``cascade``;
    without it the rows alone, e.g. before an edit, which changes no other row)."""
    snapshot = Snapshot(metadata=table.metadata, root=table.name)
    rows = [dict(r) for r in (await session.execute(select(table).where(where))).mappings()]
    if not cascade:
        snapshot.tables[table.name] = {_primary_key(table, r): r for r in rows}
        return snapshot
    await _collect(session, snapshot, table, rows)
    return snapshot


async def _collect(session: AsyncSession, snapshot: Snapshot, table: Table, rows: Iterable[dict[str, Any]]) -> None:
    seen = snapshot.tables.setdefault(table.name, {})
    new = []
    for row in rows:
        key = _primary_key(table, row)
        if key not in seen:  # a row reached twice (two paths, a self-reference) is copied once and not walked again
            seen[key] = row
            new.append(row)
    if not new:
        return
    for constraint in cascading_references(table, snapshot.metadata):
        child = constraint.table
        parent_columns = [e.column for e in constraint.elements]
        child_columns = [e.parent for e in constraint.elements]
        keys = sorted({tuple(r[c.name] for c in parent_columns) for r in new}, key=str)
        found: list[dict[str, Any]] = []
        for start in range(0, len(keys), IN_BATCH):
            statement = select(child).where(_key_clause(child_columns, keys[start : start + IN_BATCH]))
            found += [dict(r) for r in (await session.execute(statement)).mappings()]
        await _collect(session, snapshot, child, found)
    for constraint in nulling_references(table, snapshot.metadata):
        element = constraint.elements[0]
        child = constraint.table
        child_pk = list(child.primary_key.columns)
        values = [r[element.column.name] for r in new]
        for start in range(0, len(values), IN_BATCH):
            statement = select(element.parent, *child_pk).where(element.parent.in_(values[start : start + IN_BATCH]))
            for target, *pk in await session.execute(statement):
                link = {"table": child.name, "column": element.parent.name, "value": encode(target)}
                # One key column as ``id`` (the payloads' first form), several as ``key``, in primary key order.
                link |= {"id": encode(pk[0])} if len(pk) == 1 else {"key": [encode(v) for v in pk]}
                snapshot.relinks.append(link)


@dataclass
class Restored:
    counts: dict[str, int]
    """Rows inserted per table."""
    cleared: list[tuple[str, str]]
    """(table, column) pairs whose referenced row no longer existed: set to NULL."""
    dropped: dict[str, int]
    """Rows left out per table because a row they must refer to no longer exists."""


class MissingParentError(Exception):
    """A row of the root table refers (NOT NULL) to a row that no longer exists."""

    def __init__(self, table: str, column: str) -> None:
        super().__init__(f"{table}.{column}")
        self.table = table
        self.column = column


async def put_back(session: AsyncSession, snapshot: Snapshot) -> Restored:
    """Insert the snapshot's rows with their own ids and timestamps, parents before children.

    A reference to a row that has gone since (outside the snapshot) is set to NULL when the column allows it; a row
    of a dependent table that must have it is left out; a root row that must have it raises
    :class:`MissingParentError`. Unique clashes with rows created since raise the database's ``IntegrityError``.
    """
    metadata = snapshot.metadata
    restored = Restored(counts={}, cleared=[], dropped={})
    order = [t for t in metadata.sorted_tables if t.name in snapshot.tables]  # parents before children
    for table in order:
        rows = await _settle_references(session, snapshot, table, restored)
        if rows:
            await session.execute(insert(table), rows)
        restored.counts[table.name] = len(rows)
    for link in snapshot.relinks:
        child = metadata.tables.get(link["table"])
        if child is None:
            continue
        column = child.c[link["column"]]
        child_pk = list(child.primary_key.columns)
        key = link["key"] if "key" in link else [link["id"]]
        target = next(iter(column.foreign_keys)).column
        # Only where the pointer is still the NULL the delete left: a row pointed elsewhere since keeps that.
        await session.execute(
            update(child)
            .where(and_(*(c == decode(c, v) for c, v in zip(child_pk, key, strict=True)), column.is_(None)))
            .values({column.name: decode(target, link["value"])})
        )
    return restored


async def _settle_references(
    session: AsyncSession, snapshot: Snapshot, table: Table, restored: Restored
) -> list[dict[str, Any]]:
    """``table``'s rows, with references to rows gone since (neither in the snapshot nor in the database) settled."""
    rows = snapshot.rows(table.name)
    for constraint in table.foreign_key_constraints:
        if len(constraint.elements) != 1:
            continue
        element = constraint.elements[0]
        column, target = element.parent, element.column
        values = {r[column.name] for r in rows if r.get(column.name) is not None}
        values -= {r[target.name] for r in snapshot.rows(target.table.name)}
        if values:
            values -= set((await session.scalars(select(target).where(target.in_(values)))).all())
        if not values:
            continue
        if column.nullable:
            for row in rows:
                if row.get(column.name) in values:
                    row[column.name] = None
            restored.cleared.append((table.name, column.name))
        elif table.name == snapshot.root:
            raise MissingParentError(table.name, column.name)
        else:
            kept = [r for r in rows if r.get(column.name) not in values]
            restored.dropped[table.name] = restored.dropped.get(table.name, 0) + len(rows) - len(kept)
            snapshot.tables[table.name] = {_primary_key(table, r): r for r in kept}
            rows = kept
    return rows


def _child_references(table: Table, children: Iterable[str]) -> list[ForeignKeyConstraint]:
    wanted = set(children)
    return [c for c in cascading_references(table, table.metadata) if c.table.name in wanted and len(c.elements) == 1]


async def take_children(session: AsyncSession, snapshot: Snapshot, children: Iterable[str]) -> None:
    """Add to an edit's snapshot (rows of its root table alone) the rows of the cascading ``children`` tables that
    point at them: what the edit may replace besides the row (an expense's tag links, a category's budget history).
    Each such table is recorded even when empty, so that undo knows it must leave none behind."""
    table = snapshot.metadata.tables[snapshot.root]
    ids = [r["id"] for r in snapshot.rows(table.name)]
    for constraint in _child_references(table, children):
        child, column = constraint.table, constraint.elements[0].parent
        rows = [dict(r) for r in (await session.execute(select(child).where(column.in_(ids)))).mappings()]
        snapshot.tables[child.name] = {_primary_key(child, r): r for r in rows}


async def put_back_children(session: AsyncSession, snapshot: Snapshot) -> Restored:
    """Undo's counterpart of :func:`take_children`: the children tables the snapshot holds get exactly its rows back
    (the current ones replaced); a row referring to something deleted since (a tag) is left out and counted."""
    table = snapshot.metadata.tables[snapshot.root]
    ids = [r["id"] for r in snapshot.rows(table.name)]
    restored = Restored(counts={}, cleared=[], dropped={})
    for constraint in _child_references(table, snapshot.tables):
        child, column = constraint.table, constraint.elements[0].parent
        await session.execute(delete(child).where(column.in_(ids)))
        rows = await _settle_references(session, snapshot, child, restored)
        if rows:
            await session.execute(insert(child), rows)
        restored.counts[child.name] = len(rows)
    return restored
