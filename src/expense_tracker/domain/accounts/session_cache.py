"""The session check without a database round trip per request: a per-process cache of checked session tokens.

A signed-in request used to run ``SELECT user … AND NOT EXISTS revoked_token`` before its handler's own query. Here
the answer for a token (its ``jti``) is remembered for ``SESSION_CACHE_SECONDS``: within that time a request with the
same token is let through on the cached user row, without asking the database. The bound is the whole staleness story:

* a logout or a change to the user (settings, deactivation through the ORM) made *by this process* drops the cached
  entries at once, so this process refuses the token / sees the change on the next request;
* one made by another worker process or pod, or straight in the database, is seen here at most
  ``SESSION_CACHE_SECONDS`` later, when the entry expires and the token is checked against the database again.

Keyed by token rather than holding a set of every revoked ``jti``: a cache miss asks exactly today's one query, so
there is no refresh of a growing revocation table, no reliance on id or clock order across writers, and nothing to
load at start-up; the cost is one query per live token per worker every ``SESSION_CACHE_SECONDS``.

The cache holds plain column values, never an ORM instance: every request gets its own detached ``User`` built from
them, so no object is shared between sessions or requests, and a handler that changes the user loads it afresh.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, make_transient_to_detached

from expense_tracker.db.models import User

SESSION_INFO_KEY = "expense_tracker.session_cache"
"""Where a request's database session carries the process's cache (``Session.info``), so the user service can drop
entries on logout and the flush hook on user changes without a reference threaded through every call."""
MAX_ENTRIES = 50_000
"""A ceiling on live tokens remembered per process (~a few hundred bytes each): beyond it the cache starts afresh
rather than growing with a flood of distinct tokens."""
_USER_COLUMNS = tuple(attr.key for attr in inspect(User).column_attrs)


@dataclass
class _Entry:
    user_id: uuid.UUID
    values: dict[str, Any]
    checked_at: float


@dataclass
class SessionCache:
    """Checked session tokens of this process, each trusted for ``ttl_seconds`` (0: off, every request asks)."""

    ttl_seconds: float
    clock: Callable[[], float] = time.monotonic
    _entries: dict[str, _Entry] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        return self.ttl_seconds > 0

    def get(self, jti: str, user_id: uuid.UUID) -> User | None:
        """A fresh detached copy of the user checked for ``jti`` within the bound, or ``None`` (ask the database)."""
        entry = self._entries.get(jti)
        if entry is None or entry.user_id != user_id:
            return None
        if self.clock() - entry.checked_at >= self.ttl_seconds:
            del self._entries[jti]
            return None
        return _detached(entry.values)

    def put(self, jti: str, user: User) -> None:
        """Remember that the database accepted ``jti`` for ``user`` (active, not revoked) just now."""
        if not self.enabled:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        values = {key: getattr(user, key) for key in _USER_COLUMNS}
        self._entries[jti] = _Entry(user_id=user.id, values=values, checked_at=self.clock())

    def seen(self, jti: str, at: dt.datetime) -> None:
        """The throttled ``last_seen_at`` write happened: later requests compare against it, not the stale value."""
        if (entry := self._entries.get(jti)) is not None:
            entry.values["last_seen_at"] = at

    def revoked(self, jti: str) -> None:
        """This process revoked ``jti`` (logout): its next request goes to the database, which refuses it."""
        self._entries.pop(jti, None)

    def forget_user(self, user_id: uuid.UUID) -> None:
        """The user's row changed in this process: every token of theirs is checked (and the row reloaded) again."""
        for jti in [jti for jti, entry in self._entries.items() if entry.user_id == user_id]:
            self._entries.pop(jti, None)


def _detached(values: dict[str, Any]) -> User:
    user = User(**values)
    # As if just loaded and its session closed: no pending INSERT, and adding it to a session would not create a row.
    make_transient_to_detached(user)
    return user


def cache_of(session: Session) -> SessionCache | None:
    cache: SessionCache | None = session.info.get(SESSION_INFO_KEY)
    return cache


@event.listens_for(Session, "after_flush")
def _forget_changed_users(session: Session, _: Any) -> None:
    """Any ORM change to a user (settings, a future deactivation) drops their cached session checks in this process,
    whichever code path made it; other processes see it within the bound."""
    cache = cache_of(session)
    if cache is None:
        return
    for instance in (*session.dirty, *session.deleted):
        if isinstance(instance, User):
            cache.forget_user(instance.id)
