"""The scheduled jobs' metrics as Prometheus stores them: one vocabulary for the alerts and the dashboard.

The web app exposes ``JOB_LAST_SUCCESS_METRIC`` and ``JOB_LAST_RUN_FAILED_METRIC`` with a label ``job`` (the job's
name, read from the ``job_run`` table at scrape time). ``job`` is also the label Prometheus gives every scraped
series (the scrape job, ``expense-tracker`` for the app's ServiceMonitor), and without ``honor_labels`` the target's
wins: Prometheus keeps the exposed value as ``exported_job`` (scrape/scrape.go, mutateSampleLabels). Queries select on
that. Every web pod exposes the same values (one table), so queries take the ``max`` per namespace.
"""

from __future__ import annotations

from typing import Final

from expense_tracker.constants import (
    APP_NAME,
    JOB_LAST_RUN_FAILED_METRIC,
    JOB_LAST_SUCCESS_METRIC,
    RECURRING_JOB_NAME,
)

EXPOSED_JOB_LABEL: Final = "exported_job"
"""The app's ``job`` label after the scrape (see the module docstring)."""


def recurring(metric: str, namespaces: str) -> str:
    """``metric`` of the recurring-expenses job, scraped from the app in ``namespaces`` (a label matcher)."""
    return f'{metric}{{job="{APP_NAME}", {EXPOSED_JOB_LABEL}="{RECURRING_JOB_NAME}", {namespaces}}}'


def last_success(namespaces: str) -> str:
    return f"max by (namespace) ({recurring(JOB_LAST_SUCCESS_METRIC, namespaces)})"


def last_run_failed(namespaces: str) -> str:
    return f"max by (namespace) ({recurring(JOB_LAST_RUN_FAILED_METRIC, namespaces)})"
