"""A database that cannot be reached is an outage, not a bug: 503 + ``Retry-After`` instead of a 500.

Connection-level failures surface in several shapes depending on where they happen: asyncpg's own errors or a bare
``OSError`` while connecting, SQLAlchemy's wrappers (an invalidated connection, the pool's timeout), and
advanced-alchemy's ``RepositoryError`` around either. The handler walks the exception chain to find one; anything else
is still an unexpected error (500).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any, cast

import asyncpg
import structlog
from advanced_alchemy.exceptions import RepositoryError
from advanced_alchemy.extensions.litestar._utils import delete_aa_scope_state, get_aa_scope_state
from advanced_alchemy.extensions.litestar.plugins.init.config.common import SESSION_TERMINUS_ASGI_EVENTS
from litestar import Request, Response
from litestar.enums import ScopeType
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR, HTTP_503_SERVICE_UNAVAILABLE
from litestar.types import (
    ASGIApp,
    ExceptionHandlersMap,
    HTTPResponseStartEvent,
    Message,
    Receive,
    Scope,
    Send,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession

from expense_tracker.constants import API_PREFIX, DATABASE_RETRY_AFTER_SECONDS
from expense_tracker.lib.problems import (
    PROBLEM_JSON,
    html_error,
    integrity_conflict,
    internal_error_handler,
    problem_response,
    wants_html,
)

log = structlog.get_logger("expense_tracker.errors")

_OUTAGES: tuple[type[BaseException], ...] = (
    OSError,  # refused/reset/unreachable sockets and connect timeouts (asyncio's TimeoutError is an OSError)
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,  # starting up, shutting down, in recovery
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    sa_exc.TimeoutError,  # no pooled connection became free in time
)
# Not every OperationalError is an outage: SQLite raises it for a missing table too (a bug, so a 500). Its busy
# database, though, is the embedded equivalent of "try again".
_SQLITE_BUSY = "database is locked"
_CHAIN_LIMIT = 10


def is_database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) means the database could not be reached or dropped the connection."""
    seen: BaseException | None = exc
    for _ in range(_CHAIN_LIMIT):
        if seen is None:
            return False
        if isinstance(seen, _OUTAGES):
            return True
        if isinstance(seen, sa_exc.DBAPIError) and seen.connection_invalidated:
            return True
        if isinstance(seen, sa_exc.OperationalError) and _SQLITE_BUSY in str(seen.orig):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def database_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Every database error: a broken constraint is a 409, an unreachable database a 503, anything else a 500."""
    if (conflict := integrity_conflict(request, exc)) is not None:
        return conflict
    if not is_database_unavailable(exc):
        return internal_error_handler(request, exc)
    log.warning("database unavailable", path=request.url.path, method=request.method, exc_type=type(exc).__name__)
    headers = {"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)}
    if wants_html(request):
        response = html_error(
            request, HTTP_503_SERVICE_UNAVAILABLE, "The service is briefly unavailable. Please try again in a moment."
        )
    else:
        response = problem_response(
            request, HTTP_503_SERVICE_UNAVAILABLE, "The database is temporarily unavailable; retry shortly."
        )
    response.headers.update(headers)
    return response


_WRAPPERS = (OSError, RepositoryError, sa_exc.SQLAlchemyError, asyncpg.PostgresError)
DB_ERROR_HANDLERS: ExceptionHandlersMap = dict.fromkeys(_WRAPPERS, database_error_handler)
"""Registered next to ``EXCEPTION_HANDLERS``; the more specific handlers there (not found, duplicates) still win."""


_FAILED_COMMIT = "expense_tracker.failed_commit"
_REPLACED_HEADERS = {b"content-type", b"content-length", b"set-cookie", b"location", b"idempotent-replayed"}


def _failure_body(scope: Scope, status: int) -> tuple[bytes, bytes]:
    headers = dict(scope.get("headers", []))
    path = str(scope.get("path", ""))
    if not path.startswith(f"{API_PREFIX}/") and b"text/html" in headers.get(b"accept", b""):
        page = f"<!doctype html><title>{HTTPStatus(status).phrase}</title><p>Nothing was saved. Please try again."
        return page.encode(), b"text/html; charset=utf-8"
    problem = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": "The change could not be saved; nothing was stored. Retry shortly.",
        "instance": path,
    }
    return json.dumps(problem).encode(), PROBLEM_JSON.encode()


def commit_before_send(session_scope_key: str) -> Callable[[Message, Scope], Awaitable[None]]:
    """Commit on 2xx/3xx (roll back otherwise) as the response starts; a commit that fails voids the response.

    advanced-alchemy's own handler logs a failed commit at debug level and sends the 2xx anyway, telling the client
    that something is stored when it is not. Here the start message becomes a 503 (database gone) or 500 and the
    body a problem saying nothing was stored; the handler's body is never sent.
    """

    async def handler(message: Message, scope: Scope) -> None:
        if message["type"] == "http.response.body":
            pending: list[bytes] | None = scope.get("state", {}).get(_FAILED_COMMIT)
            if pending is not None:
                message["body"] = pending.pop() if pending else b""  # later chunks of a replaced stream: dropped
            return
        session: AsyncSession | None = get_aa_scope_state(scope, session_scope_key)
        if session is None or message["type"] not in SESSION_TERMINUS_ASGI_EVENTS:
            return
        commit = message["type"] == "http.response.start" and 200 <= message["status"] < 400
        try:
            await (session.commit() if commit else session.rollback())
        except Exception as exc:
            if not commit:
                # A failed rollback loses nothing (the connection is gone and takes the transaction with it).
                log.warning("rollback failed", exc_type=type(exc).__name__)
                return
            status = HTTP_503_SERVICE_UNAVAILABLE if is_database_unavailable(exc) else HTTP_500_INTERNAL_SERVER_ERROR
            log.warning("commit failed; response replaced", status=status, exc_type=type(exc).__name__)
            body, content_type = _failure_body(scope, status)
            start = cast("HTTPResponseStartEvent", message)  # commit implies the start message
            kept = [(k, v) for k, v in start.get("headers", []) if k.lower() not in _REPLACED_HEADERS]
            if status == HTTP_503_SERVICE_UNAVAILABLE:
                kept.append((b"retry-after", str(DATABASE_RETRY_AFTER_SECONDS).encode()))
            start["status"] = status
            start["headers"] = [*kept, (b"content-type", content_type), (b"content-length", str(len(body)).encode())]
            scope.setdefault("state", {})[_FAILED_COMMIT] = [body]
        finally:
            try:
                await session.close()
            finally:
                delete_aa_scope_state(scope, session_scope_key)

    return handler


class CommitOnResponse:
    """Runs :func:`commit_before_send` on every message of an HTTP response, as an ASGI wrapper.

    Litestar's ``before_send`` hooks run outside everything that wraps ``app.asgi_handler``, so the request-id/access
    log and the RED metrics would record the 2xx a failed commit replaces. Placed innermost of those wrappers, they
    record the status the client really gets.
    """

    def __init__(self, app: ASGIApp, session_scope_key: str) -> None:
        self.app = app
        self.hook = commit_before_send(session_scope_key)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return

        async def send_after_commit(message: Message) -> None:
            await self.hook(message, scope)
            await send(message)

        await self.app(scope, receive, send_after_commit)


async def commit_in_asgi_wrapper(message: Message, scope: Scope) -> None:
    """advanced-alchemy's ``before_send_handler``: nothing, because :class:`CommitOnResponse` commits and closes."""
