"""Record every statement the app sends to the database while one request is served.

SQLAlchemy's ``before_cursor_execute`` sees the SQL text and its bound parameters. BEGIN, COMMIT and ROLLBACK are not
cursor executions (the asyncpg dialect starts a transaction lazily through ``connection.transaction()``), so the
connection's ``begin``/``commit``/``rollback`` events are recorded too: each is a round trip to the server all the same.
(pysqlite defers its BEGIN to the first write, so on SQLite a read's BEGIN/COMMIT are SQLAlchemy's transaction
boundaries rather than round trips; they are counted alike so that both backends' numbers read the same way.)

Only what goes through the engine passed to :func:`instrument` is seen: a code path that takes a raw driver connection
(an asyncpg pool of its own, ``COPY``) must be instrumented on its own or it would look free.

Only statements issued from the capturing task are recorded: the capture list lives in a context variable, which the
request inherits (the test client calls the app in the test's own context, and SQLAlchemy's greenlets carry the
caller's context), while background work started at app startup (the active-users gauge refresh) has its own context
and is never counted against a request.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from expense_tracker.constants import SESSION_COOKIE
from tests.conftest import HTML

SQL = "sql"
BEGIN = "BEGIN"
COMMIT = "COMMIT"
ROLLBACK = "ROLLBACK"


@dataclass(frozen=True)
class Statement:
    kind: str
    """``sql`` for a statement the app wrote, else ``BEGIN``/``COMMIT``/``ROLLBACK``."""
    text: str
    parameters: Any = None
    executemany: bool = False


@dataclass
class Capture:
    statements: list[Statement] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)

    @property
    def sql(self) -> list[Statement]:
        return [s for s in self.statements if s.kind == SQL]

    def describe(self) -> str:
        """One line per statement, for assertion messages: what to look at when a count changes."""
        return "\n".join(f"  {s.kind:8} {' '.join(s.text.split())[:160]}" for s in self.statements)


_current: ContextVar[Capture | None] = ContextVar("query_counter_capture", default=None)
_instrumented: set[int] = set()


def _record(statement: Statement) -> None:
    capture = _current.get()
    if capture is not None:
        capture.statements.append(statement)


def _before_cursor_execute(
    _conn: Connection, _cursor: Any, statement: str, parameters: Any, _context: Any, executemany: bool
) -> None:
    _record(Statement(SQL, statement, parameters, executemany))


def _sends_transaction_statements(conn: Connection) -> bool:
    # On an AUTOCOMMIT connection SQLAlchemy still fires begin/commit, but the driver sends nothing: a read path made
    # transaction-free that way must show up as fewer statements. (A private method, read-only and stable since 2.0;
    # without it every begin/commit counts.)
    autocommit = getattr(conn, "_is_autocommit_isolation", None)
    return not (autocommit is not None and autocommit())


def _begin(conn: Connection) -> None:
    if _sends_transaction_statements(conn):
        _record(Statement(BEGIN, BEGIN))


def _commit(conn: Connection) -> None:
    if _sends_transaction_statements(conn):
        _record(Statement(COMMIT, COMMIT))


def _rollback(conn: Connection) -> None:
    if _sends_transaction_statements(conn):
        _record(Statement(ROLLBACK, ROLLBACK))


def instrument(engine: AsyncEngine | Engine) -> None:
    """Install the listeners on ``engine`` once (the app's engine lives for the whole test session)."""
    sync_engine = engine.sync_engine if isinstance(engine, AsyncEngine) else engine
    if id(sync_engine) in _instrumented:
        return
    event.listen(sync_engine, "before_cursor_execute", _before_cursor_execute)
    event.listen(sync_engine, "begin", _begin)
    event.listen(sync_engine, "commit", _commit)
    event.listen(sync_engine, "rollback", _rollback)
    _instrumented.add(id(sync_engine))


@contextlib.contextmanager
def capture() -> Iterator[Capture]:
    """Statements issued from this context (and the requests it makes through the test client) until exit."""
    recorded = Capture()
    token = _current.set(recorded)
    try:
        yield recorded
    finally:
        _current.reset(token)


async def request(
    client: Any, method: str, path: str, token: str, *, html: bool = False, json: Any = None
) -> tuple[Any, Capture]:
    """One request as a signed-in user (the session cookie for a page, the Bearer header for the API) and the
    statements it issued. The cookie jar is left empty either way, so the next request authenticates on its own."""
    if html:
        client.cookies.set(SESSION_COOKIE, token)
        headers = HTML
    else:
        client.cookies.clear()
        headers = {"Authorization": f"Bearer {token}"}
    try:
        with capture() as recorded:
            response = await client.request(method, path, json=json, headers=headers)
    finally:
        client.cookies.clear()
    return response, recorded
