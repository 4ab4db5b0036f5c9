"""A create is one statement on the expense tables (issue 13: fewer round trips on the write path)."""

from __future__ import annotations

import re
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import event

from tests.conftest import Session

Client = AsyncTestClient[Litestar]


async def test_a_create_is_one_statement_on_expense_tables(app: Litestar, client: Client, user: Session) -> None:
    """The create itself is one round trip: no ownership query before the INSERT, no read back after it (statements of
    the session check are not counted: they are the request path's, not the create's)."""
    categories = (await client.get("/api/categories", headers=user.headers)).json()
    engine = app.state.alchemy.get_engine().sync_engine
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if re.search(r"\b(expense|category)\b", statement):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        plain = await client.post("/api/expenses", json={"title": "x", "amount": "1.00"}, headers=user.headers)
        filed = await client.post(
            "/api/expenses",
            json={"title": "y", "amount": "2.5", "category_id": categories[0]["id"]},
            headers=user.headers,
        )
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert (plain.status_code, filed.status_code) == (201, 201)
    assert filed.json()["amount"] == "2.50"  # answered as stored, with the stored two decimals
    assert len(seen) == 2, seen
    assert all(s.lstrip().upper().startswith("INSERT INTO EXPENSE") for s in seen), seen
    stored = (await client.get(f"/api/expenses/{filed.json()['id']}", headers=user.headers)).json()
    assert stored == filed.json()
