"""Worker memory from /proc: the resident set now, the kernel's high-water mark, and a sampled peak over a time span."""

from __future__ import annotations

import threading
from pathlib import Path
from types import TracebackType

SAMPLE_EVERY_S = 0.2


def status_kib(pid: int, field: str) -> int | None:
    """A ``kB`` field of /proc/PID/status (``VmRSS``, ``VmHWM``); ``None`` when the process is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        if name == field:
            return int(rest.split()[0])
    return None


def memory_mib(pid: int) -> dict[str, float]:
    """VmRSS (now) and VmHWM (peak resident set since the worker started), in MiB."""
    rss, hwm = status_kib(pid, "VmRSS"), status_kib(pid, "VmHWM")
    return {"rss_mib": (rss or 0) / 1024, "peak_mib": (hwm or 0) / 1024}


class RssSampler:
    """Samples each worker's VmRSS every 0.2 s on a thread while the ``with`` block runs; ``peak_mib`` per pid.

    VmHWM cannot say which endpoint made a worker grow (it is the peak since start); a sample per 0.2 s can miss a
    spike shorter than that, so the two are reported side by side."""

    def __init__(self, pids: list[int], every_s: float = SAMPLE_EVERY_S) -> None:
        self.pids = pids
        self.every_s = every_s
        self.peak_mib: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _sample(self) -> None:
        for pid in self.pids:
            kib = status_kib(pid, "VmRSS")
            if kib is not None:
                self.peak_mib[pid] = max(self.peak_mib.get(pid, 0.0), kib / 1024)

    def _run(self) -> None:
        self._sample()
        while not self._stop.wait(self.every_s):
            self._sample()

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()  # the end state counts too

    @property
    def max_mib(self) -> float:
        return max(self.peak_mib.values(), default=0.0)
