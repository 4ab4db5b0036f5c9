"""Checks the platform asks of the app (readiness)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


async def ping_database(engine: AsyncEngine) -> None:
    """Return when the database answers ``SELECT 1`` on a fresh checkout; raise otherwise."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
