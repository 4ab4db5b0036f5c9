"""Development: the cluster's scheduled job beside ``nox -s dev``'s server.

In the cluster a CronJob runs ``expense-tracker recurring run`` on ``RECURRING_SCHEDULE_CRON``. ``python -m
expense_tracker.dev_jobs`` runs the same command at once (catching up whatever came due while nothing ran) and then
once per interval of that schedule, until SIGTERM or SIGINT, so recurring expenses appear in development as they do in
production. A failed run is reported and the next one runs on time, as with the CronJob: runs are idempotent.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from types import FrameType

from expense_tracker.constants import RECURRING_SCHEDULE_CRON

RECURRING_COMMAND = (sys.executable, "-m", "expense_tracker", "recurring", "run")
"""``expense-tracker recurring run`` with this interpreter (the entry point is not on PATH in every venv layout)."""


def cron_interval(expression: str) -> dt.timedelta:
    """The period of an every-N-minutes cron schedule (``*/N * * * *``), the form the scheduled job uses."""
    match = re.fullmatch(r"\*/([1-9][0-9]?) \* \* \* \*", expression.strip())
    if match is None or 60 % int(match[1]) != 0:
        # Other forms (fixed minutes, hours, weekdays) have no single period; refusing beats guessing one.
        raise ValueError(f"{expression!r} is not an every-N-minutes schedule (*/N * * * *, N dividing 60)")
    return dt.timedelta(minutes=int(match[1]))


def run_every(
    command: Sequence[str],
    interval: float,
    stop: threading.Event,
    run: Callable[[list[str]], int] = subprocess.call,
) -> int:
    """Run ``command`` now, then every ``interval`` seconds after the previous run ended, until ``stop`` is set.

    Returns how many runs were started. A run in progress when ``stop`` is set is allowed to finish (a run is short,
    and one stopped halfway would only be redone by the next)."""
    runs = 0
    while not stop.is_set():
        code = run(list(command))
        runs += 1
        if code != 0:
            print(f"dev_jobs: {' '.join(command)} exited with {code}; next run in {interval:g} s", file=sys.stderr)
        if stop.wait(interval):
            break
    return runs


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m expense_tracker.dev_jobs", description=__doc__.split("\n\n")[0])
    default = cron_interval(RECURRING_SCHEDULE_CRON).total_seconds()
    parser.add_argument("--interval", type=float, default=default, help=f"seconds between runs (default {default:g})")
    parser.add_argument("command", nargs="*", help="what to run (default: expense-tracker recurring run)")
    args = parser.parse_args(argv)
    if args.interval <= 0:
        parser.error("--interval must be positive")
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        del signum, frame
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, request_stop)
    run_every(args.command or RECURRING_COMMAND, args.interval, stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
