"""``expense-tracker``: the Litestar CLI bound to this app (``run``, ``database upgrade``, ``routes``, ...)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import NoReturn


def reset_multiprocess_dir() -> None:
    """Empty ``PROMETHEUS_MULTIPROC_DIR`` before workers start: files from a previous run would inflate counters."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    for child in path.iterdir():
        if child.is_dir():
            shutil.rmtree(child)
        else:
            child.unlink()


def main() -> NoReturn:
    os.environ.setdefault("LITESTAR_APP", "expense_tracker.app:create_app")
    if len(sys.argv) > 1 and sys.argv[1] == "run":
        reset_multiprocess_dir()
    from litestar.cli.main import litestar_group

    sys.exit(litestar_group())
