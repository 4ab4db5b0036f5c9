"""The metrics endpoint, served by the ``expense-tracker run`` supervisor on its own port (``METRICS_PORT``).

Prometheus reaches that port through the Service; the Ingress only routes the app's port, so metrics are never public.
The supervisor outlives its workers, so it is also the one place that can tell a dead worker's metric files from a
live one's: on every scrape it drops the live-gauge files of processes that no longer run (a killed worker would
otherwise keep adding its last pool capacity and in-flight count to the sums for ever).

This module must not import the app or ``expense_tracker.lib.metrics``: creating the app's metrics here would give the
supervisor its own multiprocess files.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable
from pathlib import Path
from wsgiref.simple_server import WSGIServer

from prometheus_client import REGISTRY, CollectorRegistry, start_http_server
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

_PID_IN_FILE_NAME = re.compile(r"_(\d+)\.db$")


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: existence check only
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


class LiveWorkersCollector(MultiProcessCollector):
    """``MultiProcessCollector`` that first forgets the live gauges of workers that have died."""

    def __init__(self, registry: CollectorRegistry, path: Path) -> None:
        self._directory = path
        super().__init__(registry, str(path))  # type: ignore[no-untyped-call]  # prometheus_client.multiprocess is untyped

    def sweep_dead_workers(self) -> None:
        pids = {int(m.group(1)) for p in self._directory.glob("*.db") if (m := _PID_IN_FILE_NAME.search(p.name))}
        for pid in pids:
            if not _is_running(pid):
                # Removes only the live* gauge files; counters of a dead worker keep counting, or totals would drop.
                mark_process_dead(pid, str(self._directory))  # type: ignore[no-untyped-call]

    def collect(self) -> Iterable[Metric]:
        self.sweep_dead_workers()
        metrics: Iterable[Metric] = super().collect()  # type: ignore[no-untyped-call]
        return metrics


def metrics_registry(multiprocess_dir: Path | None, database_url: str | None = None) -> CollectorRegistry:
    """The workers' metrics merged from ``PROMETHEUS_MULTIPROC_DIR``, or this process's own registry without it;
    plus, with ``database_url``, the scheduled jobs' gauges read from the database (``lib/job_metrics.py``)."""
    if multiprocess_dir is None and database_url is None:
        return REGISTRY
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_dir is None:
        registry.register(REGISTRY)  # this process's own metrics, beside the job gauges
    else:
        LiveWorkersCollector(registry, multiprocess_dir)
    if database_url is not None:
        from expense_tracker.lib.job_metrics import JobRunCollector

        registry.register(JobRunCollector(database_url))
    return registry


def start_metrics_server(
    host: str, port: int, multiprocess_dir: Path | None, database_url: str | None = None
) -> tuple[WSGIServer, threading.Thread]:
    """Serve the metrics from a daemon thread (prometheus-client's threaded WSGI server); returns it to shut down."""
    return start_http_server(port, addr=host, registry=metrics_registry(multiprocess_dir, database_url))
