"""The benchmark's reading of wrk's output (bench/wrk_output.py); the figures below are worked out by hand."""

from __future__ import annotations

import pytest
from bench.wrk_output import parse

# What wrk 4.1 prints with bench/wrk/request.lua: its own report, then the done() hook's line.
OUTPUT = """\
Running 5s test @ http://127.0.0.1:8000/api/expenses?limit=50
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    40.12ms   10.01ms 210.55ms   80.00%
    Req/Sec   400.00     20.00   450.00     70.00%
  4000 requests in 5.00s, 1.00MB read
  Non-2xx or 3xx responses: 7
Requests/sec:    800.00
Transfer/sec:    204.80KB
BENCH_RESULT {"requests": 4000, "duration_us": 5000000, "bytes": 1048576, \
"errors": {"connect": 1, "read": 2, "write": 0, "status": 7, "timeout": 3}, \
"latency_us": {"p50": 38500, "p90": 52250, "p99": 120000, "max": 210550, "mean": 40120.0}}
"""


def test_parse_reads_rate_percentiles_and_errors() -> None:
    result = parse(OUTPUT)
    assert result.requests == 4000
    assert result.seconds == pytest.approx(5.0)
    assert result.rps == pytest.approx(800.0)  # 4000 requests / 5 s, as wrk's own Requests/sec line says
    assert (result.p50_ms, result.p90_ms, result.p99_ms, result.max_ms) == pytest.approx((38.5, 52.25, 120.0, 210.55))
    assert result.non_2xx == 7  # wrk's "Non-2xx or 3xx responses: 7"
    assert result.socket_errors == 6  # connect 1 + read 2 + write 0 + timeout 3


def test_parse_takes_the_last_result_line() -> None:
    earlier = OUTPUT.replace('"requests": 4000', '"requests": 10')
    assert parse(earlier + OUTPUT).requests == 4000


def test_parse_refuses_output_without_the_hook_line() -> None:
    with pytest.raises(ValueError, match="BENCH_RESULT"):
        parse("Requests/sec:    800.00\n")
