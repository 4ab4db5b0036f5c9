"""A database that cannot be reached is an outage, not a bug: 503 + ``Retry-After`` instead of a 500.

Connection-level failures surface in several shapes depending on where they happen: asyncpg's own errors or a bare
``OSError`` while connecting, SQLAlchemy's wrappers (an invalidated connection, the pool's timeout), and
advanced-alchemy's ``RepositoryError`` around either. The handler walks the exception chain to find one; anything else
is still an unexpected error (500).
"""

from __future__ import annotations

from typing import Any

import asyncpg
import structlog
from advanced_alchemy.exceptions import RepositoryError
from litestar import Request, Response
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE
from litestar.types import ExceptionHandlersMap
from sqlalchemy import exc as sa_exc

from expense_tracker.constants import DATABASE_RETRY_AFTER_SECONDS
from expense_tracker.lib.problems import html_error, internal_error_handler, problem_response, wants_html

log = structlog.get_logger("expense_tracker.errors")

_OUTAGES: tuple[type[BaseException], ...] = (
    OSError,  # refused/reset/unreachable sockets and connect timeouts (asyncio's TimeoutError is an OSError)
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,  # starting up, shutting down, in recovery
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    sa_exc.TimeoutError,  # no pooled connection became free in time
    sa_exc.OperationalError,
)
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
        seen = seen.__cause__ or seen.__context__
    return False


def database_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
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
