"""Parse the line bench/wrk/request.lua's ``done()`` hook prints after a wrk run."""

from __future__ import annotations

import json
from dataclasses import dataclass

MARKER = "BENCH_RESULT "


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    non_2xx: int
    """Responses with status >= 400 (wrk counts those as status errors; 3xx are ruled out by the pre-flight check)."""
    socket_errors: int
    """connect + read + write + timeout."""


def parse(output: str) -> WrkResult:
    """The last ``BENCH_RESULT`` line of wrk's stdout; ``ValueError`` when there is none."""
    lines = [line for line in output.splitlines() if line.startswith(MARKER)]
    if not lines:
        raise ValueError("no BENCH_RESULT line in wrk's output (was it run with bench/wrk/request.lua?)")
    data = json.loads(lines[-1][len(MARKER) :])
    seconds = data["duration_us"] / 1_000_000
    latency = data["latency_us"]
    errors = data["errors"]
    return WrkResult(
        requests=data["requests"],
        seconds=seconds,
        rps=data["requests"] / seconds if seconds else 0.0,
        p50_ms=latency["p50"] / 1000,
        p90_ms=latency["p90"] / 1000,
        p99_ms=latency["p99"] / 1000,
        max_ms=latency["max"] / 1000,
        non_2xx=errors["status"],
        socket_errors=errors["connect"] + errors["read"] + errors["write"] + errors["timeout"],
    )
