"""Start the real server process (``expense-tracker run``) on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import GENEROUS_RATE_LIMITS, TEST_SECRET


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(database_url: str, log: Path, *args: str, **env: str) -> tuple[subprocess.Popen[bytes], str]:
    """Start the server; pass ``--metrics-port`` in ``args`` to scrape it (otherwise a free port is picked, so parallel
    servers never collide on the default one)."""
    port = free_port()
    if "--metrics-port" not in args:
        args = (*args, "--metrics-port", str(free_port()))
    process = subprocess.Popen(
        [sys.executable, "-m", "expense_tracker", "run", "--host", "127.0.0.1", "--port", str(port), *args],
        env={
            **os.environ,
            **GENEROUS_RATE_LIMITS,
            "DATABASE_URL": database_url,
            "SECRET_KEY": TEST_SECRET,
            "APP_ENV": "development",
            **env,
        },
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(log.read_text())
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError("server did not become ready")
