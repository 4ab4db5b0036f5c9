"""Fails a test module that leaves connections to its throwaway PostgreSQL databases open.

Why: an engine that is never disposed (an app whose shutdown did not close its pool, a test's own
``create_async_engine`` without ``dispose()``, an ``asyncpg.connect`` without ``close()``) keeps its connections idle
until the session drops the database ``WITH (FORCE)``; across a suite with several workers they added up to 93 of the
server's 100 connections, and two suites at once failed with "too many clients".

The check asks the server (``pg_stat_activity``), not the client, so it also sees connections the process no longer
references. It only looks at databases this process created through the ``postgres`` fixture, so other workers and
other suites on the same server never trip it. A database that lives for the whole session (the shared ``client``'s)
may keep what its app's pool holds; the session-end check then wants zero, once those apps have shut down.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg

# Closing a connection is asynchronous on the server side: the backend exits a moment after the client's Terminate
# message, so a connection closed by the last teardown may still be listed for a few milliseconds.
SETTLE_SECONDS = 5.0
POLL_SECONDS = 0.1


@dataclass
class ConnectionGuard:
    admin_dsn: str
    module_databases: list[str] = field(default_factory=list)
    session_databases: list[str] = field(default_factory=list)
    # Database name -> how many connections an app that lives for the session legitimately holds right now.
    allowances: dict[str, Callable[[], int]] = field(default_factory=dict)
    settle_seconds: float = SETTLE_SECONDS
    checked: int = 0  # module_databases before this index were checked at the end of an earlier module

    def created(self, name: str, *, session_lived: bool) -> None:
        (self.session_databases if session_lived else self.module_databases).append(name)

    def allow(self, name: str, held: Callable[[], int]) -> None:
        self.allowances[name] = held

    def check_module(self) -> None:
        """Databases created since the last check must have no connections; session databases no more than their app's
        pool holds. A leak is reported once here (and again by the session check)."""
        since, self.checked = self.checked, len(self.module_databases)
        self._settle(self.module_databases[since:] + self.session_databases, use_allowances=True, when="this module")

    def check_session(self) -> None:
        """Every database this process created must have no connection left (apps have shut down by now)."""
        self._settle(self.module_databases + self.session_databases, use_allowances=False, when="the session")

    def _settle(self, names: list[str], *, use_allowances: bool, when: str) -> None:
        if not names:
            return
        deadline = time.monotonic() + self.settle_seconds
        while True:
            rows = _run(self._connections(names))
            excess = self._excess(rows, use_allowances=use_allowances)
            if not excess:
                return
            if time.monotonic() > deadline:
                raise LeakedConnectionsError(excess, when)
            time.sleep(POLL_SECONDS)

    def _excess(self, rows: list[dict[str, Any]], *, use_allowances: bool) -> dict[str, list[dict[str, Any]]]:
        by_database: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            by_database.setdefault(row["datname"], []).append(row)
        excess = {}
        for name, connections in by_database.items():
            allowed = self.allowances[name]() if use_allowances and name in self.allowances else 0
            if len(connections) > allowed:
                excess[name] = connections
        return excess

    async def _connections(self, names: list[str]) -> list[dict[str, Any]]:
        connection = await asyncpg.connect(self.admin_dsn, timeout=10)
        try:
            rows = await connection.fetch(
                "SELECT datname, pid, state, application_name, backend_start, left(query, 120) AS query"
                " FROM pg_stat_activity WHERE datname = ANY($1::text[])",
                names,
            )
        finally:
            await connection.close()
        return [dict(row) for row in rows]


class LeakedConnectionsError(AssertionError):
    def __init__(self, excess: dict[str, list[dict[str, Any]]], when: str) -> None:
        lines = [
            f"  {name}: {len(rows)} open, e.g. state={rows[0]['state']!r} last query={rows[0]['query']!r}"
            for name, rows in excess.items()
        ]
        super().__init__(
            f"{when} left connections to its test databases open (an engine not disposed, a client or connection not "
            "closed?):\n" + "\n".join(lines)
        )


def _run(coroutine: Any) -> Any:
    # A private loop in a thread: the guard runs in sync teardowns, some while Playwright's loop owns the main thread.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
