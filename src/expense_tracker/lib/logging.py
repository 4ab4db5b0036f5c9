"""structlog setup (JSON in production, readable in development) and the per-request context.

Every request gets an id (``X-Request-ID`` accepted when well formed, generated otherwise) that is returned, bound to
every log line of the request, and written into one access-log line. Query strings, headers and cookies are never
logged: they can carry OAuth codes and session tokens.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import MutableMapping
from typing import Any

import structlog
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from expense_tracker.constants import HEALTH_LIVE_PATH, HEALTH_READY_PATH, REQUEST_ID_HEADER, UNROUTED_ROUTE
from expense_tracker.settings import Settings

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_QUIET_PATHS = frozenset({HEALTH_LIVE_PATH, HEALTH_READY_PATH})
_SENSITIVE_KEYS = frozenset({"authorization", "cookie", "set-cookie", "token", "access_token", "password", "secret"})

access_log = structlog.get_logger("expense_tracker.access")


def _redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Last line of defence: a sensitive key that slipped into a log call is masked, never printed."""
    for key in event.keys() & _SENSITIVE_KEYS:
        event[key] = "[redacted]"
    return event


def configure_logging(settings: Settings) -> None:
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _redact,
    ]
    renderer: Any
    if settings.is_production:
        renderer = structlog.processors.JSONRenderer()
        shared.append(structlog.processors.format_exc_info)
    else:
        # Plain tracebacks: rich's pretty ones took ~2 s each to render, on the event loop, during a database outage.
        renderer = structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)
    structlog.configure(
        processors=[structlog.stdlib.filter_by_level, *shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler()
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(processor=renderer, foreign_pre_chain=shared))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(settings.log_level)
    # Our access line replaces uvicorn's, which would print query strings (OAuth codes) verbatim.
    logging.getLogger("uvicorn.access").disabled = True
    # httpx logs every outgoing URL at INFO (identity-provider calls); only its warnings are worth keeping.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True


class RequestContextMiddleware:
    """Pure ASGI middleware: request id in, request id out, one access-log line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        incoming = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableScopeHeaders.from_message(message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            path = scope["path"]
            log = access_log.debug if path in _QUIET_PATHS else access_log.info
            log(
                "request",
                method=scope.get("method"),
                path=path,
                # A path no route matched is logged as it came (that is what it is for), but its route stays bounded.
                route=scope.get("path_template", UNROUTED_ROUTE),
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
            )
            structlog.contextvars.clear_contextvars()
