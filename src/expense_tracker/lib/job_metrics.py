"""The scheduled jobs' health as Prometheus gauges, read from ``job_run`` when the metrics endpoint is scraped.

A collector in the process that serves ``/metrics`` (the ``expense-tracker run`` supervisor), not gauges set by the
workers: in multiprocess mode only the supervisor's registry is scraped, and a job (a CronJob pod) is no worker at all.
The database is read at most every ``JOB_METRICS_CACHE_SECONDS`` however often Prometheus (or several) scrapes; when
the read fails the last values are served again (the stale timestamp is what the "stopped running" alert needs).

Imports of SQLAlchemy happen on the first scrape, in the scrape thread, so the supervisor stays small until then.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from expense_tracker.constants import (
    JOB_LAST_RUN_FAILED_METRIC,
    JOB_LAST_SUCCESS_METRIC,
    JOB_METRICS_CACHE_SECONDS,
    JOB_METRICS_SCRAPE_WAIT_SECONDS,
)

log = logging.getLogger("expense_tracker.metrics")


@dataclass(frozen=True)
class JobState:
    name: str
    last_success: float | None
    """Seconds since the epoch of the last successful run (None: never succeeded)."""
    failed: bool
    """The last finished run failed."""


async def read_job_states(database_url: str) -> list[JobState]:
    from sqlalchemy import event, select
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    from expense_tracker.db.models import JobRun

    engine = create_async_engine(database_url, poolclass=NullPool)  # one connection per read, none kept open
    if engine.dialect.name == "sqlite":

        def busy_timeout(connection: object, _: object) -> None:
            connection.execute("PRAGMA busy_timeout=5000")  # type: ignore[attr-defined]

        event.listen(engine.sync_engine, "connect", busy_timeout)
    try:
        async with engine.connect() as connection:
            rows = (await connection.execute(select(JobRun.name, JobRun.last_success_at, JobRun.last_status))).all()
    finally:
        await engine.dispose()
    return [
        JobState(name=name, last_success=success.timestamp() if success else None, failed=status == "failed")
        for name, success, status in rows
    ]


class JobRunCollector(Collector):
    def __init__(
        self,
        database_url: str,
        cache_seconds: float = JOB_METRICS_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        wait_seconds: float = JOB_METRICS_SCRAPE_WAIT_SECONDS,
    ) -> None:
        self._database_url = database_url
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._wait_seconds = wait_seconds
        self._lock = threading.Lock()
        self._states: list[JobState] = []
        self._read_at: float | None = None
        self._reading: threading.Thread | None = None
        self.reads = 0

    def states(self) -> list[JobState]:
        """The cached states, read again when older than the cache time. A due read runs in its own thread and the
        scrape waits for it at most ``wait_seconds``: a scrape never hangs on the database (Prometheus would mark the
        whole target down, and every other metric with it). Concurrent scrapes share one read."""
        with self._lock:
            now = self._clock()
            due = self._read_at is None or now - self._read_at >= self._cache_seconds
            if due and self._reading is None:
                self._read_at = now  # also after a failure: a database outage is not hammered by every scrape
                self._reading = threading.Thread(target=self._read, name="job-run-metrics", daemon=True)
                self._reading.start()
            reading = self._reading
        if reading is not None:
            reading.join(self._wait_seconds)
        with self._lock:
            return list(self._states)

    def _read(self) -> None:
        try:
            states = asyncio.run(read_job_states(self._database_url))
        except Exception as exc:
            log.warning("reading job_run for the metrics failed: %s", type(exc).__name__)
            states = None
        with self._lock:
            if states is not None:
                self._states = states
                self.reads += 1
            self._reading = None

    def describe(self) -> Iterable[Metric]:
        # Names only: without describe() registering the collector would call collect(), a database read.
        yield GaugeMetricFamily(JOB_LAST_SUCCESS_METRIC, "", labels=["job"])
        yield GaugeMetricFamily(JOB_LAST_RUN_FAILED_METRIC, "", labels=["job"])

    def collect(self) -> Iterable[Metric]:
        success = GaugeMetricFamily(
            JOB_LAST_SUCCESS_METRIC, "When the scheduled job last succeeded (Unix time).", labels=["job"]
        )
        failed = GaugeMetricFamily(JOB_LAST_RUN_FAILED_METRIC, "1 when the job's last run failed.", labels=["job"])
        for state in self.states():
            if state.last_success is not None:
                success.add_metric([state.name], state.last_success)
            failed.add_metric([state.name], 1.0 if state.failed else 0.0)
        yield success
        yield failed
