"""A private PostgreSQL server (initdb + pg_ctl as the ``postgres`` user) that a test may stop and start at will."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.servers import free_port


def _bindir() -> Path | None:
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        return None
    return Path(subprocess.run([pg_config, "--bindir"], check=True, capture_output=True, text=True).stdout.strip())


class PrivatePostgres:
    def __init__(self) -> None:
        bindir = _bindir()
        if bindir is None or not (bindir / "initdb").exists():
            pytest.skip("PostgreSQL server binaries (pg_config --bindir) are needed")
        # PostgreSQL refuses to run as root: as root the tools run as the postgres user, otherwise as ourselves.
        self.as_root = os.geteuid() == 0
        if self.as_root and shutil.which("runuser") is None:
            pytest.skip("running as root needs runuser to start PostgreSQL as postgres")
        self.bindir = bindir
        self.port = free_port()
        # pytest's tmp_path is private to root; the server runs as postgres and needs a directory of its own.
        self.root = Path(tempfile.mkdtemp(prefix="et-fault-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        if self.as_root:
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*(["runuser", "-u", "postgres", "--"] if self.as_root else []), str(self.bindir / tool), *args],
            check=True,
            capture_output=True,
            timeout=120,
            cwd=self.root,
            env={**os.environ, "LC_ALL": "C.UTF-8"},
        )

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
