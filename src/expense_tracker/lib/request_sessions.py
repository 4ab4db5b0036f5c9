"""The request's database session: no BEGIN/COMMIT pair for pure reads.

advanced-alchemy opens one session per request on first use and :class:`~expense_tracker.lib.db_errors.CommitOnResponse`
commits it with the response. For a write that is the all-or-nothing transaction we want; for a ``GET`` it was two
extra round trips (``BEGIN`` before the first statement, ``COMMIT`` at the end) around statements that change nothing.
Safe-method requests therefore get a session bound to the same engine (and pool) with ``AUTOCOMMIT`` isolation: each
statement runs on its own, the driver sends no ``BEGIN``, and the commit at the end has nothing to send. Setting and
resetting the isolation level is client-side for asyncpg and aiosqlite, so it costs no round trip either.

A safe-method route that does write several rows that must stand or fall together (the OAuth callback signs a user in)
declares ``opt={TRANSACTIONAL_OPT_KEY: True}`` and keeps the transaction. The throttled ``last_seen_at`` update of a
read is a single statement and needs none.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig
from advanced_alchemy.extensions.litestar._utils import get_aa_scope_state, set_aa_scope_state
from advanced_alchemy.routing.context import reset_routing_context
from litestar.datastructures import State
from litestar.types import Scope
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from expense_tracker.domain.accounts.session_cache import SESSION_INFO_KEY

TRANSACTIONAL_OPT_KEY = "transactional"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def runs_without_transaction(scope: Scope) -> bool:
    """Whether the request's statements autocommit one by one: safe methods, unless the route opts out."""
    if scope.get("method") not in SAFE_METHODS:
        return False
    handler = scope.get("route_handler")
    return not (handler is not None and handler.opt.get(TRANSACTIONAL_OPT_KEY))


class RequestSessionConfig(SQLAlchemyAsyncConfig):
    """advanced-alchemy's config, with the request session chosen by method (see the module docstring)."""

    _autocommit_engine: AsyncEngine | None = None

    def autocommit_engine(self) -> AsyncEngine:
        # A proxy of the same engine: same pool, connections get AUTOCOMMIT on checkout and their level back on return.
        if self._autocommit_engine is None:
            self._autocommit_engine = self.get_engine().execution_options(isolation_level="AUTOCOMMIT")
        return self._autocommit_engine

    def provide_session(self, state: State, scope: Scope) -> AsyncSession:
        """advanced-alchemy's, but bound to the autocommit engine for reads and carrying the session cache."""
        session = cast("AsyncSession | None", get_aa_scope_state(scope, self.session_scope_key))
        if session is None:
            reset_routing_context()  # as advanced-alchemy does for every new request session
            session_maker = cast("Callable[..., AsyncSession]", state[self.session_maker_app_state_key])
            session = (
                session_maker(bind=self.autocommit_engine()) if runs_without_transaction(scope) else session_maker()
            )
            # The user service drops this process's cached session checks through it (logout, user changes).
            session.info[SESSION_INFO_KEY] = state.get("session_cache")
            set_aa_scope_state(scope, self.session_scope_key, session)
        return session
