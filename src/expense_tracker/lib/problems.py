"""RFC 9457 problem details for every error response.

Clients get a status, a title and a detail we wrote ourselves; exception text, SQL and stack traces stay in the logs.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from types import SimpleNamespace
from typing import Any, Literal
from urllib.parse import urlencode

import structlog
from advanced_alchemy.exceptions import DuplicateKeyError, NotFoundError
from litestar import Request, Response
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.status_codes import HTTP_401_UNAUTHORIZED, HTTP_404_NOT_FOUND, HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ASGIApp, ExceptionHandlersMap, Message, Receive, Scope, Send
from sqlalchemy import inspect
from sqlalchemy.exc import DBAPIError, NoInspectionAvailable

from expense_tracker.constants import API_PREFIX
from expense_tracker.lib.money import AMOUNT_MESSAGE, AMOUNT_PATTERN

PROBLEM_JSON = "application/problem+json"
# Query parameters whose Python name differs from the name clients send (``from`` is a keyword).
_QUERY_ALIASES = {"date_from": "from", "date_to": "to"}
_FIELD_PREFIX = re.compile(r"^(?P<field>[a-z_]+): (?P<message>.+)$", re.DOTALL)

log = structlog.get_logger("expense_tracker.errors")


class FieldValidationError(ValidationException):
    """A 400 that names the offending fields: ``errors=[{"field": ..., "message": ...}]``."""

    def __init__(self, errors: list[dict[str, Any]], detail: str = "Validation failed") -> None:
        super().__init__(detail=detail, extra=errors)
        self.errors = errors

    def by_field(self) -> dict[str, str]:
        """For forms: the first message per field, capitalised for display next to the input."""
        # Only the first letter: str.capitalize() would also lower "YYYY-MM-DD" and "USD or EUR".
        return {e["field"]: str(e["message"])[:1].upper() + str(e["message"])[1:] for e in reversed(self.errors)}


class ConflictError(HTTPException):
    status_code = 409


def field_error(field: str, message: str) -> ValueError:
    """An error raised from msgspec ``__post_init__`` that still names its field in the response."""
    return ValueError(f"{field}: {message}")


_MSGSPEC_PATH = re.compile(r"^(?P<message>.+?) - at `\$\.(?P<field>[A-Za-z_]+)")


_MISSING = re.compile(r"^Object missing required field `(?P<field>[A-Za-z_]+)`")
# msgspec's wording, translated into what a person filling in a form understands.
_FRIENDLY = (
    (re.compile(r"^Invalid decimal string$"), "must be a decimal number such as 12.50"),
    (re.compile(r"^Invalid RFC3339 encoded date$"), "must be a date as YYYY-MM-DD"),
    (re.compile(r"^Invalid UUID$"), "is not a valid id"),
    (re.compile(rf"^Expected `str` matching regex {re.escape(repr(AMOUNT_PATTERN))}$"), AMOUNT_MESSAGE),
    (re.compile(r"^Expected `str` matching regex .*"), "is not in the expected format"),
    (re.compile(r"^Expected `str` of length >= (\d+)$"), "must be at least {0} characters"),
    (re.compile(r"^Expected `str` of length <= (\d+)$"), "must be at most {0} characters"),
)


def _friendly(message: str) -> str:
    for pattern, text in _FRIENDLY:
        if match := pattern.match(message):
            return text.format(*match.groups())
    return message


def split_field(message: str, default_field: str = "") -> tuple[str, str]:
    """(field, message) from our ``"field: message"`` errors or msgspec's ``"... - at `$.field`"`` ones."""
    if match := _FIELD_PREFIX.match(message):
        return match["field"], match["message"]
    if match := _MSGSPEC_PATH.match(message):
        return match["field"], _friendly(match["message"])
    if match := _MISSING.match(message):
        return match["field"], "is required"
    return default_field, _friendly(message)


def _normalise_errors(extra: Any) -> list[dict[str, Any]]:
    """Turn Litestar/msgspec validation details into ``{"field", "message"}`` items."""
    items = extra if isinstance(extra, list) else []
    errors: list[dict[str, Any]] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        if "field" in item:
            errors.append(item)
            continue
        key = str(item.get("key") or "")
        field, message = split_field(str(item.get("message", "invalid value")), "body" if key == "data" else key)
        field = _QUERY_ALIASES.get(field, field)
        errors.append({"field": field, "message": message})
    return errors


def problem_response(
    request: Request[Any, Any, Any], status: int, detail: str, **extra: Any
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extra,
    }
    return Response(body, status_code=status, media_type=PROBLEM_JSON)


def wants_html(request: Request[Any, Any, Any]) -> bool:
    """A browser navigating to a page (not an API client): errors become pages, 401 becomes the sign-in page."""
    return not request.url.path.startswith(f"{API_PREFIX}/") and "text/html" in request.headers.get("accept", "")


def page_user(user: Any) -> Any:
    """What an error page shows of the signed-in user, read without any chance of touching the database.

    The user row lives in the request's session; after a failed flush that session is unusable, and reading an
    expired attribute would try to load it again and fail the error page itself. Only attributes already loaded are
    read here (``InstanceState.dict`` never emits SQL).
    """
    if user is None:
        return None
    try:
        loaded = inspect(user).dict
    except NoInspectionAvailable:
        return user
    return SimpleNamespace(email=loaded.get("email", ""), theme=loaded.get("theme", "system"))


def html_error(request: Request[Any, Any, Any], status: int, message: str) -> Response[Any]:
    from litestar.response import Redirect, Template

    if status == HTTP_401_UNAUTHORIZED:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return Redirect(f"/login?{urlencode({'next': target})}", status_code=303)
    title = "Page not found" if status == HTTP_404_NOT_FOUND else HTTPStatus(status).phrase
    context = {"title": title, "message": message, "user": page_user(request.scope.get("user")), "theme": "system"}
    return Template(template_name="error.html", context=context, status_code=status)


def http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if status == HTTP_500_INTERNAL_SERVER_ERROR:
        return internal_error_handler(request, exc)
    if wants_html(request):
        message = "We could not find that page." if status == HTTP_404_NOT_FOUND else (exc.detail or "")
        if isinstance(exc, ValidationException):
            message = "; ".join(f"{e['field']}: {e['message']}" for e in _normalise_errors(exc.extra)) or message
        return html_error(request, status, message)
    extra: dict[str, Any] = {}
    detail = exc.detail or HTTPStatus(status).phrase
    if isinstance(exc, ValidationException):
        extra["errors"] = _normalise_errors(exc.extra)
        # Litestar's detail echoes the raw request target; the errors list already says what is wrong.
        detail = detail if isinstance(exc, FieldValidationError) else "Validation failed"
    elif isinstance(exc, ConflictError) and isinstance(exc.extra, dict):
        extra.update(exc.extra)  # members of the problem saying where to act instead (a split part's split)
    response = problem_response(request, status, detail, **extra)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error", path=request.url.path, method=request.method, exc_type=type(exc).__name__)
    if wants_html(request):
        return html_error(
            request, HTTP_500_INTERNAL_SERVER_ERROR, "Something went wrong on our side. Please try again."
        )
    return problem_response(request, HTTP_500_INTERNAL_SERVER_ERROR, "An unexpected error occurred.")


def not_found_handler(request: Request[Any, Any, Any], exc: NotFoundError) -> Response[Any]:
    # Another user's object and a missing one look the same on purpose: ids must not leak existence.
    return http_exception_handler(request, NotFoundException(detail="No such resource."))


DUPLICATE_DETAIL = "A resource with these values already exists."
CONCURRENT_DETAIL = "The data changed concurrently (something it refers to was changed or removed); please retry."


def integrity_kind(exc: BaseException) -> Literal["foreign_key", "unique"] | None:
    """Which constraint a database error broke, from the driver's error (SQLSTATE on PostgreSQL, text on SQLite).

    advanced-alchemy wraps every statement error in its ``IntegrityError`` (even a trigger's RAISE), so its type alone
    says nothing; the original error is found along the exception chain. Never ``str(exc)``: the wrapper's str fails.
    """
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            break
        if isinstance(seen, DBAPIError):
            orig = seen.orig
            sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
            text = str(orig.args[0]) if orig is not None and orig.args else ""
            if sqlstate == "23503" or text.startswith("FOREIGN KEY constraint failed"):
                return "foreign_key"
            if sqlstate == "23505" or text.startswith("UNIQUE constraint failed"):
                return "unique"
            return None
        seen = seen.__cause__ or seen.__context__
    return None


def _answer(request: Request[Any, Any, Any], status: int, detail: str) -> Response[Any]:
    return html_error(request, status, detail) if wants_html(request) else problem_response(request, status, detail)


def conflict_handler(request: Request[Any, Any, Any], exc: DuplicateKeyError) -> Response[Any]:
    return _answer(request, 409, DUPLICATE_DETAIL)


def integrity_conflict(request: Request[Any, Any, Any], exc: BaseException) -> Response[Any] | None:
    """Constraint violations are conflicts a client can act on (409); ``None`` for any other database error.

    A foreign key violation means another request removed (or had not yet committed) a row this one refers to,
    e.g. a category deleted while an expense was being filed under it: a retry sees the settled state.
    """
    kind = integrity_kind(exc)
    if kind == "foreign_key":
        log.info("foreign key conflict", path=request.url.path, method=request.method)
        return _answer(request, 409, CONCURRENT_DETAIL)
    if kind == "unique":
        return _answer(request, 409, DUPLICATE_DETAIL)
    return None


class MiddlewareErrorBoundary:
    """Turns errors raised by the auth and CSRF middleware into problem responses *here*.

    Litestar converts middleware exceptions only at the outermost layer, so without this boundary a 401 or a CSRF 403 —
    or a 500 when the session lookup cannot reach the database — would pass the request-id and metrics middleware as an
    exception and be counted as a 200.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started or scope["type"] != ScopeType.HTTP:
                raise
            request: Request[Any, Any, Any] = Request(scope, receive)
            if isinstance(exc, HTTPException):
                response = http_exception_handler(request, exc)
            else:
                # The app's registered handlers apply here too (a database outage during the session lookup is a 503).
                handlers = scope["app"].exception_handlers
                handler = next((handlers[c] for c in type(exc).__mro__ if c in handlers), internal_error_handler)
                response = handler(request, exc)
            await response.to_asgi_response(app=None, request=request)(scope, receive, send)


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    HTTPException: http_exception_handler,
    NotFoundError: not_found_handler,
    DuplicateKeyError: conflict_handler,
    Exception: internal_error_handler,
}
