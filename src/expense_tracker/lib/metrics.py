"""Business, database-pool and build metrics (the HTTP RED metrics come from Litestar's Prometheus middleware).

All are prometheus-client objects created at import, after ``PROMETHEUS_MULTIPROC_DIR`` is in the environment, so
they aggregate across worker processes. Gauges use ``livesum``/``max``; a worker that was killed drops out when the
next one starts (:func:`forget_dead_processes`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from prometheus_client import Counter, Gauge, multiprocess
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

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
)

_PID_SUFFIX = re.compile(r"_(\d+)\.db$")

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
# Every worker sets the same database-wide count, so "max" (not a sum) is the right way to combine them.
ACTIVE_USERS = Gauge(METRIC_ACTIVE_USERS, "Users seen in the last 24 hours.", multiprocess_mode="max")
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
EXPENSE_SOURCES = ("api", "ui", "import")


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
    """Track pool usage through SQLAlchemy pool events (works in multiprocess mode, unlike a custom collector)."""
    pool = engine.sync_engine.pool
    DB_POOL_CAPACITY.set(capacity)  # per process; livesum adds the live workers up

    def on_checkout(*_: Any) -> None:
        DB_POOL_IN_USE.inc()

    def on_checkin(*_: Any) -> None:
        DB_POOL_IN_USE.dec()

    def on_connect(*_: Any) -> None:
        DB_POOL_OPEN.inc()

    def on_close(*_: Any) -> None:
        DB_POOL_OPEN.dec()

    event.listen(pool, "checkout", on_checkout)
    event.listen(pool, "checkin", on_checkin)
    event.listen(pool, "connect", on_connect)
    event.listen(pool, "close", on_close)
    event.listen(pool, "close_detached", on_close)


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


def forget_dead_processes() -> None:
    """Drop the ``live*`` gauge files of worker processes that no longer exist (multiprocess mode only).

    A worker that exits normally is never the problem; one killed with SIGKILL (OOM killer, ``kill -9``) leaves its
    files behind, and prometheus-client's ``livesum`` keeps adding them: pool capacity, open and in-use connections
    would count the dead worker forever. Each worker runs this as it starts, so the one uvicorn spawns to replace a
    killed worker cleans up after it. Counters are kept: what the dead worker counted did happen.
    """
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return
    pids = {int(match[1]) for path in Path(directory).glob("*.db") if (match := _PID_SUFFIX.search(path.name))}
    for pid in pids - {os.getpid()}:
        try:
            os.kill(pid, 0)  # signal 0: existence check only
        except ProcessLookupError:
            multiprocess.mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]
        except PermissionError:
            continue  # exists, owned by someone else
