"""Opaque keyset cursors for the expense listing (the API's ``cursor`` / ``next_cursor`` and the list page's links).

A cursor names the last row of a page by its sort value and id, so the next page is an index seek
(``WHERE (key, id) > (value, id)``) whose cost does not grow with the depth of the page, unlike ``OFFSET``. It also
carries the sort it was made for (a cursor is only meaningful under that order) and the position of the next page's
first row (display only: "Showing 51 to 75", the list page's "Previous" link).

The payload is signed with an HMAC of a key derived from ``SECRET_KEY``: clients cannot build or edit cursors, so the
format can change without breaking anyone who relied on it, and a damaged or edited cursor is a clear 400 rather than
a silently different page. Forging one would gain nothing anyway: every query stays scoped to the signed-in user.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, get_args

from expense_tracker.domain.expenses.schemas import SortKey
from expense_tracker.lib.problems import FieldValidationError

CURSOR_MAX_LENGTH = 512
"""Longer than any cursor we issue (about 120 characters); longer input is refused before it is decoded."""
_MAC_BYTES = 16
_VERSION = 1
_SORTS: frozenset[str] = frozenset(get_args(SortKey))


@dataclass(frozen=True)
class Seek:
    """Where the next page starts: after the row with this sort value and id, in ``sort`` order."""

    sort: SortKey
    value: dt.date | dt.datetime | Decimal
    id: uuid.UUID
    position: int
    """How many rows came before the next page (for display; rows added or removed meanwhile make it approximate)."""
    currency: str | None = None
    """The row's currency, for the amount sorts (they order by currency, then amount, then id); else ``None``."""


def _value_text(value: dt.date | dt.datetime | Decimal) -> str:
    return str(value) if isinstance(value, Decimal) else value.isoformat()


def _parse_value(sort: str, text: str) -> dt.date | dt.datetime | Decimal:
    key = sort.removeprefix("-")
    if key == "spent_on":
        return dt.date.fromisoformat(text)
    if key == "created_at":
        stamp = dt.datetime.fromisoformat(text)
        if stamp.tzinfo is None:
            raise ValueError("naive timestamp")
        return stamp
    amount = Decimal(text)
    if not amount.is_finite():
        raise ValueError("not a finite amount")
    return amount


@lru_cache(maxsize=4)
def _key(secret: str) -> bytes:
    # A key of its own (domain-separated from sessions and CSRF): a cursor's MAC is never valid as anything else.
    return hashlib.sha256(b"expense-tracker/cursor\x00" + secret.encode()).digest()


def _mac(secret: str, payload: bytes) -> bytes:
    return hmac.new(_key(secret), payload, hashlib.sha256).digest()[:_MAC_BYTES]


def encode(secret: str, seek: Seek) -> str:
    """The url-safe text of ``seek`` (no padding, no characters that need escaping in a query string)."""
    fields: list[Any] = [_VERSION, seek.sort, _value_text(seek.value), seek.id.hex, seek.position]
    if seek.currency is not None:  # the amount sorts' first key (issue 14); cursors of the other sorts are unchanged
        fields.append(seek.currency)
    payload = json.dumps(fields, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(_mac(secret, payload) + payload).rstrip(b"=").decode()


def _invalid(message: str) -> FieldValidationError:
    return FieldValidationError([{"field": "cursor", "message": message}])


def decode(secret: str, token: str, sort: SortKey) -> Seek:
    """The position ``token`` names, for a listing in ``sort`` order; a 400 naming ``cursor`` for anything else."""
    if len(token) > CURSOR_MAX_LENGTH:
        raise _invalid("is not a cursor this server issued")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise _invalid("is not a cursor this server issued") from None
    mac, payload = raw[:_MAC_BYTES], raw[_MAC_BYTES:]
    if len(mac) != _MAC_BYTES or not hmac.compare_digest(mac, _mac(secret, payload)):
        raise _invalid("is not a cursor this server issued")
    try:
        fields: Any = json.loads(payload)
        version, made_for, value_text, id_hex, position, *rest = fields
        if version != _VERSION or made_for not in _SORTS or not isinstance(position, int) or position < 0:
            raise ValueError("unexpected fields")
        # An amount cursor made before the amount sorts were per currency has none: refused like any stale cursor.
        currency = rest[0] if len(rest) == 1 else None
        by_amount = made_for.removeprefix("-") == "amount"
        if len(rest) > 1 or by_amount != isinstance(currency, str) or (currency is not None and len(currency) != 3):
            raise ValueError("the amount sorts carry a currency, the others none")
        value = _parse_value(made_for, value_text)
        row_id = uuid.UUID(hex=id_hex)
    except (ValueError, TypeError, InvalidOperation):
        # Only reachable with our own MAC, i.e. a cursor from an older format: still the client's 400, never a 500.
        raise _invalid("is not a cursor this server issued") from None
    if made_for != sort:
        raise _invalid(f"was made for sort={made_for}; start again without a cursor to list by sort={sort}")
    return Seek(sort=sort, value=value, id=row_id, position=position, currency=currency)
