"""``Idempotency-Key`` for creates and imports: a retry gets the first response back instead of a second row.

The key is claimed with ``INSERT ... ON CONFLICT DO NOTHING`` in the request's own transaction, before anything is
created, and the response is stored in the same transaction. So the key exists exactly when what it created does: a
request that fails leaves its key unused, and two concurrent first uses cannot both win — on PostgreSQL the second
insert waits for the first transaction and then sees its committed row; SQLite serialises writers the same way. The
loser replays the winner's response.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, BinaryIO, NamedTuple, TypeVar

import msgspec
from litestar import Response
from litestar.exceptions import HTTPException
from litestar.params import HeaderParameter
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from expense_tracker.constants import IDEMPOTENCY_HEADER, IDEMPOTENCY_KEY_MAX, IDEMPOTENCY_TTL
from expense_tracker.db.models import IdempotencyKey
from expense_tracker.db.statements import insert_unless_present

T = TypeVar("T")

IdempotencyKeyHeader = Annotated[
    str | None,
    HeaderParameter(
        name=IDEMPOTENCY_HEADER,
        min_length=1,
        max_length=IDEMPOTENCY_KEY_MAX,
        description=(
            "Optional, any unique string (a UUID is ideal). Retrying with the same key and the same request returns "
            "the first response without storing anything again (keys are kept for 24 hours, per user); the same key "
            "with a different request is refused with 422."
        ),
    ),
]


class KeyReusedError(HTTPException):
    status_code = 422


def fingerprint(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))  # length-prefixed: ("ab", "c") and ("a", "bc") differ
        digest.update(part)
    return digest.hexdigest()


def file_fingerprint(method: str, path: str, file: BinaryIO, chunk: int = 64 * 1024) -> str:
    """``fingerprint(method, path, <the file's content>)``, read in chunks: an upload is never held in memory whole.

    Blocking file I/O and hashing: call it in a worker thread. Leaves ``file`` at its start.
    """
    size = file.seek(0, os.SEEK_END)
    file.seek(0)
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode()):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    digest.update(size.to_bytes(8, "big"))
    while block := file.read(chunk):
        digest.update(block)
    file.seek(0)
    return digest.hexdigest()


def json_fingerprint(method: str, path: str, body: bytes) -> str:
    """Equal JSON documents (key order, whitespace) are the same request."""
    canonical = msgspec.json.encode(msgspec.json.decode(body), order="sorted")
    return fingerprint(method.encode(), path.encode(), canonical)


class StoredResponse(NamedTuple):
    fingerprint: str
    status_code: int
    body: str


CLAIM_WAIT_MS = 1000
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for lock_timeout


def _in_progress() -> HTTPException:
    return HTTPException(status_code=409, detail=f"A request with this {IDEMPOTENCY_HEADER} is still in progress.")


async def _claim(session: AsyncSession, user_id: uuid.UUID, key: str, print_: str) -> StoredResponse | None:
    """Claim ``key`` for this request (``None``), or return the stored first use of it."""
    now = dt.datetime.now(dt.UTC)
    # Purging only this user's expired keys keeps the cost proportional to one user's traffic, on an index.
    await session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.expires_at < now)
    )
    values = {
        "user_id": user_id,
        "key": key,
        "fingerprint": print_,
        "expires_at": now + IDEMPOTENCY_TTL,
    }
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        # A retry of a request still running waits on its uncommitted key row, holding a pooled connection all the
        # while (a slow import and an impatient client can drain the pool): wait briefly, then say "in progress".
        await session.execute(text(f"SET LOCAL lock_timeout = '{CLAIM_WAIT_MS}ms'"))
    try:
        inserted = await insert_unless_present(session, IdempotencyKey, values)
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE:
            raise _in_progress() from None
        raise
    if postgres:
        await session.execute(text("SET LOCAL lock_timeout = DEFAULT"))
    if inserted:
        return None
    stored = await session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
    )
    if stored is None or stored.status_code is None or stored.response_body is None:
        # Not reachable while claim and response share one transaction; if that ever changes, refuse, never guess.
        raise _in_progress()
    return StoredResponse(stored.fingerprint, stored.status_code, stored.response_body)


async def idempotent(
    session: AsyncSession,
    user_id: uuid.UUID,
    key: str | None,
    request_fingerprint: Callable[[], Awaitable[str]],
    response_type: type[T],
    create: Callable[[], Awaitable[T]],
    status_code: int = 201,
) -> Response[T]:
    """Run ``create`` once per (user, key); later calls with the same key replay its response."""
    if key is None:
        return Response(await create(), status_code=status_code)
    print_ = await request_fingerprint()
    stored = await _claim(session, user_id, key, print_)
    if stored is not None:
        if stored.fingerprint != print_:
            raise KeyReusedError(detail=f"This {IDEMPOTENCY_HEADER} was already used for a different request.")
        content = msgspec.json.decode(stored.body, type=response_type)
        return Response(content, status_code=stored.status_code, headers={"Idempotent-Replayed": "true"})
    result = await create()
    await session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
        .values(status_code=status_code, response_body=msgspec.json.encode(result).decode())
    )
    return Response(result, status_code=status_code)
