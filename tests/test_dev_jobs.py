"""`nox -s dev` runs the recurring-expenses job beside the server, as the cluster's CronJob does: at once, then every
15 minutes, a failed run followed by the next on time, stopped with the server."""

from __future__ import annotations

import ast
import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from expense_tracker import dev_jobs
from expense_tracker.constants import RECURRING_SCHEDULE_CRON

ROOT = Path(__file__).resolve().parents[1]


def test_the_schedule_is_every_15_minutes() -> None:
    assert RECURRING_SCHEDULE_CRON == "*/15 * * * *"
    assert dev_jobs.cron_interval("*/15 * * * *") == dt.timedelta(minutes=15)
    assert dev_jobs.cron_interval("*/1 * * * *") == dt.timedelta(minutes=1)
    assert dev_jobs.cron_interval("*/30 * * * *") == dt.timedelta(minutes=30)


@pytest.mark.parametrize("expression", ["0 * * * *", "*/15 2 * * *", "*/7 * * * *", "*/0 * * * *", "@hourly", ""])
def test_schedules_without_a_single_period_are_refused(expression: str) -> None:
    with pytest.raises(ValueError, match="every-N-minutes"):
        dev_jobs.cron_interval(expression)


def test_it_runs_at_once_and_again_after_a_failed_run_until_stopped() -> None:
    stop = threading.Event()
    calls: list[list[str]] = []

    def run(command: list[str]) -> int:
        calls.append(command)
        if len(calls) == 3:
            stop.set()
        return 1 if len(calls) == 1 else 0  # the first run fails: the next one still comes

    started = time.monotonic()
    assert dev_jobs.run_every(["job", "run"], 0.05, stop, run) == 3
    assert calls == [["job", "run"]] * 3
    assert time.monotonic() - started >= 0.1  # two waits between three runs
    stop.clear()
    stop.set()
    assert dev_jobs.run_every(["job"], 0.05, stop, run) == 0  # already stopped: nothing runs


def test_the_default_command_is_the_cronjobs() -> None:
    assert dev_jobs.RECURRING_COMMAND[1:] == ("-m", "expense_tracker", "recurring", "run")


def test_the_process_runs_the_command_on_its_interval_and_stops_on_sigterm(tmp_path: Path) -> None:
    marks = tmp_path / "runs.txt"
    append = f"open({str(marks)!r}, 'a').write('run\\n')"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen(
        [sys.executable, "-m", "expense_tracker.dev_jobs", "--interval", "0.3", "--", sys.executable, "-c", append],
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while not (marks.exists() and marks.read_text().count("run") >= 2):
            assert process.poll() is None, "the loop ended by itself"
            assert time.monotonic() < deadline, "fewer than two runs in 60 s"
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
    assert code == 0
    runs = marks.read_text().count("run")
    time.sleep(0.6)  # two intervals: a loop still alive would have run again
    assert marks.read_text().count("run") == runs


def test_nox_dev_starts_the_loop_beside_the_server_and_stops_it() -> None:
    tree = ast.parse((ROOT / "noxfile.py").read_text())
    (dev,) = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "dev"]
    source = ast.unparse(dev)
    assert "'expense_tracker.dev_jobs'" in source
    guard = next(node for node in ast.walk(dev) if isinstance(node, ast.Try))  # the outer one
    assert "session.run(*serve" in ast.unparse(guard.body)
    assert "jobs.terminate()" in ast.unparse(guard.finalbody)
