"""Statements that need each backend's own SQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession


async def insert_unless_present(session: AsyncSession, model: type[Any], values: dict[str, Any]) -> bool:
    """``INSERT … ON CONFLICT DO NOTHING``: whether this call inserted the row. The unique index, not a read before
    the write, decides between concurrent callers, so the loser learns it lost instead of failing with a 409/500."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    result = await session.execute(insert(model).values(values).on_conflict_do_nothing())
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]
