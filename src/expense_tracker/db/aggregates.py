"""Rebuild and verify ``expense_month_total`` from the expense rows (``expense-tracker aggregates``, the bench seed).

The triggers of migration 0004 keep the table exact on every write; this module recomputes it independently, for
operators (after a restore, a bulk load with triggers off, or a suspected bug) and for the benchmark's bulk seed,
which loads with ``session_replication_role = replica`` (triggers off).

The statements are plain SQL strings per dialect so the seed can run them over a bare asyncpg connection.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

_COLUMNS = "user_id, month, category_id, currency, total_cents, count"

EXPECTED = {
    # Every row's amount has two decimals, so the NUMERIC sum times 100 is an exact integer.
    "postgresql": """
        SELECT user_id, date_trunc('month', spent_on::timestamp)::date AS month, category_id, currency,
               (sum(amount) * 100)::bigint AS total_cents, count(*) AS count
        FROM expense GROUP BY 1, 2, 3, 4""",
    # SQLite keeps Numeric as a float: each amount is rounded to whole cents before it is added.
    "sqlite": """
        SELECT user_id, substr(spent_on, 1, 7) || '-01' AS month, category_id, currency,
               sum(CAST(round(amount * 100) AS INTEGER)) AS total_cents, count(*) AS count
        FROM expense GROUP BY user_id, substr(spent_on, 1, 7), category_id, currency""",
}
"""What ``expense_month_total`` must contain, computed from the rows."""

ACTUAL = """
    SELECT user_id, month, category_id, currency, sum(total_cents), sum(count) FROM expense_month_total
    GROUP BY user_id, month, category_id, currency
    HAVING sum(count) <> 0 OR sum(total_cents) <> 0"""
"""What ``expense_month_total`` says, its stripes added up (a key whose stripes cancel out has no expenses)."""


def rebuild_statements(dialect: str) -> tuple[str, ...]:
    """The statements that replace every aggregate row, to be run in one transaction.

    On PostgreSQL the expense table is locked against writes (reads go on) for the transaction: a write committed
    between the DELETE and the INSERT would otherwise be counted twice or not at all.
    """
    fill = f"INSERT INTO expense_month_total ({_COLUMNS}) {EXPECTED[dialect]}"  # one stripe (0) per key
    if dialect == "postgresql":
        return ("LOCK TABLE expense IN SHARE MODE", "DELETE FROM expense_month_total", fill)
    return ("DELETE FROM expense_month_total", fill)


Key = tuple[uuid.UUID, dt.date, uuid.UUID | None, str]


@dataclass(frozen=True)
class Difference:
    key: Key
    expected: tuple[int, int] | None
    """(total_cents, count) computed from the rows; None where there should be no aggregate row."""
    actual: tuple[int, int] | None

    def describe(self) -> str:
        user, month, category, currency = self.key
        return (
            f"user {user} {month:%Y-%m} category {category or '-'} {currency}: "
            f"expected {_describe(self.expected)}, found {_describe(self.actual)}"
        )


def _describe(value: tuple[int, int] | None) -> str:
    return "no row" if value is None else f"{value[1]} expense(s) totalling {value[0]} cents"


def _uuid(value: Any) -> uuid.UUID | None:
    # SQLite returns the 16-byte GUID blobs as bytes; asyncpg returns uuid.UUID.
    if value is None or isinstance(value, uuid.UUID):
        return value
    return uuid.UUID(bytes=value) if isinstance(value, bytes) else uuid.UUID(str(value))


def _required_uuid(value: Any) -> uuid.UUID:
    found = _uuid(value)
    if found is None:
        raise ValueError("user_id is NULL")
    return found


def _date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _by_key(rows: Any) -> dict[Key, tuple[int, int]]:
    found: dict[Key, tuple[int, int]] = {}
    for user_id, month, category_id, currency, cents, count in rows:
        key = (_required_uuid(user_id), _date(month), _uuid(category_id), currency)
        found[key] = (int(cents), int(count))
    return found


async def rebuild(connection: AsyncConnection) -> int:
    """Replace every aggregate row with one recomputed from the expense rows; returns the number of rows written.

    Runs in the caller's transaction (the CLI commits once at the end)."""
    statements = rebuild_statements(connection.dialect.name)
    for statement in statements[:-1]:
        await connection.execute(text(statement))
    return (await connection.execute(text(statements[-1]))).rowcount


async def differences(connection: AsyncConnection) -> list[Difference]:
    """Every aggregate row that differs from a recomputation from the rows (missing, extra or wrong).

    On PostgreSQL both reads run in one REPEATABLE READ snapshot, so concurrent writes cannot show up as differences.
    """
    if connection.dialect.name == "postgresql":
        await connection.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
    expected = _by_key(await connection.execute(text(EXPECTED[connection.dialect.name])))
    actual = _by_key(await connection.execute(text(ACTUAL)))
    return [
        Difference(key, expected.get(key), actual.get(key))
        for key in sorted(expected.keys() | actual.keys(), key=lambda k: (str(k[0]), k[1], str(k[2] or ""), k[3]))
        if expected.get(key) != actual.get(key)
    ]
