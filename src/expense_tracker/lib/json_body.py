"""One guard in front of every route that reads a JSON body.

- The Content-Type must be ``application/json`` or a ``+json`` type (else 415). A browser can send a cross-site
  ``<form enctype="text/plain">`` without a CORS preflight; refusing it is what keeps the CSRF-exempt
  ``POST /auth/dev-login`` from signing a victim in to the attacker's account.
- Nesting deeper than ``JSON_MAX_DEPTH`` is a 400: our bodies are flat objects, and deep nesting only costs recursion.
- A key repeated in one object is a 400 naming the key: JSON parsers disagree on which copy wins, so a proxy or log
  could see a different value than the app stores.
- U+0000 in any key or string is a 400 naming the field: PostgreSQL cannot store it in text.

Multipart (CSV import) and form-encoded (HTML pages) handlers declare other body types and are left alone.
"""

from __future__ import annotations

import json
import operator
import re
from itertools import accumulate, count
from typing import Any

from litestar.connection import ASGIConnection, Request
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException
from litestar.handlers import BaseRouteHandler
from litestar.status_codes import HTTP_415_UNSUPPORTED_MEDIA_TYPE

from expense_tracker.constants import JSON_MAX_DEPTH
from expense_tracker.lib.problems import FieldValidationError

_JSON_MEDIA = re.compile(r"^application/(?:[a-z0-9.+-]+\+)?json$")
# A string runs to its closing quote or, unterminated, to the end of the body: the match never fails, so the engine
# never retries from each later quote (quadratic: a 30 KB body of escaped quotes took 2.8 s before this).
_STRING = re.compile(rb'"(?:[^"\\]|\\.?)*(?:"|\Z)', re.DOTALL)
_BRACKETS = b"[]{}"
_NOT_BRACKETS = bytes(b for b in range(256) if b not in _BRACKETS)
_STEPS = bytes.maketrans(_BRACKETS, bytes([2, 0, 2, 0]))  # an opener adds 1 to the depth, a closer takes 1 away


def takes_json_body(handler: BaseRouteHandler) -> bool:
    """Whether the handler decodes ``data`` as JSON (Litestar's default body encoding)."""
    field = handler.parsed_fn_signature.parameters.get("data")
    if field is None:
        return False
    media_type = getattr(field.kwarg_definition, "media_type", RequestEncodingType.JSON)
    return bool(media_type == RequestEncodingType.JSON)


def _bad(field: str, message: str, detail: str) -> FieldValidationError:
    return FieldValidationError([{"field": field, "message": message}], detail=detail)


def max_depth(body: bytes) -> int:
    """Deepest bracket nesting, without a recursive parse and without a Python-level loop over the bytes.

    Strings are dropped first (brackets inside them do not count), then every other byte but a bracket; with openers
    as 2 and closers as 0, the depth after the k-th bracket is the running sum minus k.
    """
    steps = _STRING.sub(b"", body).translate(_STEPS, _NOT_BRACKETS)
    return max(map(operator.sub, accumulate(steps), count(1)), default=0)


def _check_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _bad(key, "appears more than once", "Duplicate key in the JSON body.")
        items = value if isinstance(value, list) else [value]
        if "\x00" in key or any(isinstance(item, str) and "\x00" in item for item in items):
            raise _bad(key, "must not contain NUL characters", "Validation failed")
        seen[key] = value
    return seen


def check_json(body: bytes) -> None:
    """Raise a 400 for a body that is too deep, not JSON, or has duplicate keys or NUL characters."""
    if max_depth(body) > JSON_MAX_DEPTH:
        raise _bad("body", f"is nested deeper than {JSON_MAX_DEPTH} levels", "The JSON body is nested too deeply.")
    try:
        json.loads(body, object_pairs_hook=_check_pairs)
    except FieldValidationError:  # from _check_pairs; Litestar's ValidationException is also a ValueError
        raise
    except ValueError:  # JSONDecodeError and UnicodeDecodeError; the depth bound rules out RecursionError
        raise _bad("body", "is not valid JSON", "The body is not valid JSON.") from None


async def json_body_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """App-wide guard; a no-op for handlers without a JSON ``data`` parameter."""
    if not isinstance(connection, Request) or not takes_json_body(handler):
        return
    media_type, _ = connection.content_type
    if not _JSON_MEDIA.match(media_type.lower()):
        raise HTTPException(
            status_code=HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            detail="Send the body as application/json (or a +json media type).",
        )
    body = await connection.body()  # cached on the connection: the handler's own decoding reuses it
    if body:
        check_json(body)
