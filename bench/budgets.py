"""The budgets of issue 13 ("Budgets": this 2-core machine, 2 workers, ``wrk -t2 -c32``), copied as literals.

Each budget names the endpoint keys of bench/run.py it applies to; ``None`` means the figure is not budgeted.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Budget:
    min_rps: float | None = None
    max_p50_ms: float | None = None
    max_p99_ms: float | None = None

    def failures(self, rps: float, p50_ms: float, p99_ms: float) -> list[str]:
        found = []
        if self.min_rps is not None and rps < self.min_rps:
            found.append(f"req/s {rps:,.0f} < {self.min_rps:,.0f}")
        if self.max_p50_ms is not None and p50_ms >= self.max_p50_ms:
            found.append(f"p50 {p50_ms:,.1f} ms >= {self.max_p50_ms:,.0f} ms")
        if self.max_p99_ms is not None and p99_ms >= self.max_p99_ms:
            found.append(f"p99 {p99_ms:,.1f} ms >= {self.max_p99_ms:,.0f} ms")
        return found

    def describe(self) -> str:
        parts = []
        if self.min_rps is not None:
            parts.append(f">= {self.min_rps:,.0f} req/s")
        if self.max_p50_ms is not None:
            parts.append(f"p50 < {self.max_p50_ms:,.0f} ms")
        if self.max_p99_ms is not None:
            parts.append(f"p99 < {self.max_p99_ms:,.0f} ms")
        return ", ".join(parts)


BUDGETS: dict[str, Budget] = {
    "get": Budget(min_rps=1_500, max_p99_ms=50),
    "list": Budget(min_rps=1_000, max_p99_ms=60),
    "list_filtered": Budget(min_rps=600),
    "create": Budget(min_rps=800, max_p99_ms=100),
    "report_monthly": Budget(max_p50_ms=10),
    "report_by_category": Budget(max_p50_ms=10),
    "report_budget": Budget(max_p50_ms=10),
    "dashboard": Budget(max_p50_ms=10),
}
RSS_MAX_MIB_PER_WORKER = 90
"""VmRSS of each worker after a run that includes a 50,000-row CSV import (bench/run.py imports last)."""
LIST_FLATNESS = 0.10
"""List page 1 req/s of the biggest history (1M rows; 100k with --quick) within 10 % of the 10k-row user's."""
