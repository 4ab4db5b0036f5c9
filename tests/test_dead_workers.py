"""A worker killed with SIGKILL must not haunt the pool gauges: the next worker to start forgets it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from expense_tracker.constants import METRIC_DB_POOL_CAPACITY

WORKER = """
from expense_tracker.lib import metrics
metrics.DB_POOL_CAPACITY.set(10)
"""
NEXT_WORKER = """
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from expense_tracker.lib import metrics
metrics.forget_dead_processes()
metrics.DB_POOL_CAPACITY.set(10)
registry = CollectorRegistry()
MultiProcessCollector(registry)
print(generate_latest(registry).decode())
"""


def run(code: str, directory: Path) -> str:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, timeout=60)
    return done.stdout


def test_gauges_of_dead_workers_are_dropped(tmp_path: Path) -> None:
    run(WORKER, tmp_path)  # this process exits without any cleanup, as a SIGKILLed worker does
    assert any(tmp_path.glob("gauge_livesum_*.db"))
    text = run(NEXT_WORKER, tmp_path)
    assert f"{METRIC_DB_POOL_CAPACITY} 10.0" in text, text
