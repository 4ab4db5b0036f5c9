"""Business, database-pool and build metrics (the HTTP RED metrics come from Litestar's Prometheus middleware).

All are prometheus-client objects created at import, after ``PROMETHEUS_MULTIPROC_DIR`` is in the environment, so
they aggregate across worker processes. Gauges use ``livesum``/``livemax`` so dead workers drop out (the supervisor
removes a dead worker's live-gauge files when it serves a scrape, see ``metrics_server``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException
from litestar.plugins.prometheus import PrometheusMiddleware
from litestar.types import Scope
from litestar.utils import normalize_path
from prometheus_client import Counter, Gauge
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

from expense_tracker import __version__
from expense_tracker.constants import (
    ACTIVE_USERS_REFRESH_SECONDS,
    METRIC_ACTIVE_USERS,
    METRIC_BUILD_INFO,
    METRIC_DB_POOL_CAPACITY,
    METRIC_DB_POOL_IN_USE,
    METRIC_DB_POOL_OPEN,
    METRIC_EXPENSES_CREATED,
    METRIC_IMPORTS,
    METRIC_SIGN_IN_FAILURES,
    METRIC_SIGN_INS,
    UNROUTED_ROUTE,
)

SIGN_INS = Counter(METRIC_SIGN_INS.removesuffix("_total"), "Successful sign-ins.", ["provider"])
SIGN_IN_FAILURES = Counter(
    METRIC_SIGN_IN_FAILURES.removesuffix("_total"), "Refused or failed sign-ins.", ["provider", "reason"]
)
EXPENSES_CREATED = Counter(METRIC_EXPENSES_CREATED.removesuffix("_total"), "Expenses stored.", ["source"])
IMPORTS = Counter(METRIC_IMPORTS.removesuffix("_total"), "CSV imports by outcome.", ["outcome"])
DB_POOL_IN_USE = Gauge(METRIC_DB_POOL_IN_USE, "Connections checked out of the pool.", multiprocess_mode="livesum")
DB_POOL_OPEN = Gauge(METRIC_DB_POOL_OPEN, "Connections the pool holds open.", multiprocess_mode="livesum")
DB_POOL_CAPACITY = Gauge(
    METRIC_DB_POOL_CAPACITY, "Most connections the pools may open (size + overflow).", multiprocess_mode="livesum"
)
# Every worker sets the same database-wide count, so the maximum (not a sum) of the live workers combines them.
ACTIVE_USERS = Gauge(METRIC_ACTIVE_USERS, "Users seen in the last 24 hours.", multiprocess_mode="livemax")
BUILD_INFO = Gauge(METRIC_BUILD_INFO, "Build of the running app.", ["version", "commit"], multiprocess_mode="max")

SIGN_IN_PROVIDERS = ("google", "oidc", "dev")
SIGN_IN_FAILURE_REASONS = (
    "bad_state",
    "cancelled",
    "disabled",
    "provider_unavailable",
    "provider_error",
    "missing_claims",
    "unverified_email",
    "provider_refused",
    "email_in_use",
)
IMPORT_OUTCOMES = ("success", "rejected")
EXPENSE_SOURCES = ("api", "ui", "import", "recurring")


def initialise(commit: str) -> None:
    """Publish build info and zero every labelled series so dashboards read 0, not 'No data', before traffic."""
    BUILD_INFO.labels(version=__version__, commit=commit).set(1)
    for provider in SIGN_IN_PROVIDERS:
        SIGN_INS.labels(provider=provider)
        if provider != "dev":  # the dev login fails only with a 4xx, never through the OAuth callback
            for reason in SIGN_IN_FAILURE_REASONS:
                SIGN_IN_FAILURES.labels(provider=provider, reason=reason)
    for outcome in IMPORT_OUTCOMES:
        IMPORTS.labels(outcome=outcome)
    for source in EXPENSE_SOURCES:
        EXPENSES_CREATED.labels(source=source)


def instrument_pool(engine: AsyncEngine, capacity: int) -> None:
    """Publish the pool's own counts whenever it changes (pool events; works in multiprocess mode, unlike a collector).

    The gauges are *set* from ``checkedout()`` and ``size() + overflow()``, never incremented: counting events drifts
    for ever when they do not pair up (a connect that fails, a connection closed while checked out), which once showed
    -656 connections in use.
    """
    DB_POOL_CAPACITY.set(capacity)  # per process; livesum adds the live workers up
    loop = asyncio.get_running_loop()

    def publish() -> None:
        pool = engine.sync_engine.pool  # read each time: ``engine.dispose()`` swaps in a new pool
        if isinstance(pool, QueuePool):
            DB_POOL_IN_USE.set(pool.checkedout())
            DB_POOL_OPEN.set(pool.size() + pool.overflow())

    def on_change(*_: Any) -> None:
        # The events fire before the pool has finished the change (``checkin`` before the connection is back in the
        # queue, ``close`` before the overflow count drops): read the counts once the current step is done.
        try:
            loop.call_soon_threadsafe(publish)
        except RuntimeError:  # the loop has closed (shutdown): nothing will run later, so read now
            publish()

    for name in ("checkout", "checkin", "connect", "close", "close_detached", "invalidate", "detach"):
        event.listen(engine.sync_engine.pool, name, on_change)
    publish()


def route_template(scope: Scope) -> str:
    """The route template the router will match (``/api/expenses/{expense_id}``), or ``UNROUTED_ROUTE``.

    Asked before routing, because the in-flight gauge is labelled when the request starts; the router caches the lookup.
    """
    router = scope["litestar_app"].asgi_router
    path = scope["path"]
    if root_path := scope.get("root_path", ""):
        path = path.split(root_path, maxsplit=1)[-1]
    try:
        *_, template = router.handle_routing(path=normalize_path(path), method=scope.get("method"))
    except HTTPException:  # no route (404) or not this method (405)
        return UNROUTED_ROUTE
    return str(template)


class RequestMetricsMiddleware(PrometheusMiddleware):
    """Litestar's RED metrics for every request, routed or not: it wraps the whole app rather than each route, and
    labels an unmatched request ``UNROUTED_ROUTE`` rather than its raw path (unbounded label values)."""

    def _get_default_labels(self, request: Request[Any, Any, Any]) -> dict[str, str | int | float]:
        scope = request.scope
        return {
            "method": request.method if scope["type"] == ScopeType.HTTP else scope["type"],
            "path": route_template(scope),
            "status_code": 200,
            "app_name": self._config.app_name,
        }


async def refresh_active_users(
    count: Callable[[], Awaitable[int]], log_failure: Callable[[BaseException], None]
) -> None:
    """Keep ``ACTIVE_USERS`` current until cancelled; a failed count (database down) keeps the last value."""
    while True:
        try:
            ACTIVE_USERS.set(await count())
        except Exception as exc:
            log_failure(exc)
        await asyncio.sleep(ACTIVE_USERS_REFRESH_SECONDS)


async def stop(task: asyncio.Task[None] | None) -> None:
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
