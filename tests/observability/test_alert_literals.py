"""Every alert's name, severity, summary and runbook written out by hand and compared with the rendered PrometheusRule.

The table is the independent truth: it is not built from ``manifests_py.components.alerts`` (which renders the rule),
so a severity or wording changed there by accident fails here until the table is changed on purpose too. Both the
committed file under manifests/ and a fresh render are checked (``manifests_check`` keeps them equal in CI; checking
both here makes a generator change fail this test before anyone re-renders).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from manifests_py.render import render

REPO_ROOT = Path(__file__).resolve().parents[2]
RULE_FILE = "observability/prometheusrule-expense-tracker.yaml"
RUNBOOK_URL_PREFIX = "https://github.com/expense-tracker/expense-tracker/blob/main/"

# alert -> (severity, summary exactly as rendered, runbook path relative to the repository root)
EXPECTED: dict[str, tuple[str, str, str]] = {
    "ExpenseTrackerAvailabilityBudgetBurnFast": (
        "critical",
        "{{ $labels.namespace }}: availability error budget burning fast",
        "docs/runbooks/expense-tracker-availability-budget-burn-fast.md",
    ),
    "ExpenseTrackerAvailabilityBudgetBurnSlow": (
        "warning",
        "{{ $labels.namespace }}: availability error budget burning",
        "docs/runbooks/expense-tracker-availability-budget-burn-slow.md",
    ),
    "ExpenseTrackerLatencyBudgetBurnFast": (
        "critical",
        "{{ $labels.namespace }}: latency error budget burning fast",
        "docs/runbooks/expense-tracker-latency-budget-burn-fast.md",
    ),
    "ExpenseTrackerLatencyBudgetBurnSlow": (
        "warning",
        "{{ $labels.namespace }}: latency error budget burning",
        "docs/runbooks/expense-tracker-latency-budget-burn-slow.md",
    ),
    "ExpenseTrackerTargetDown": (
        "warning",
        "{{ $labels.namespace }}/{{ $labels.pod }}: metrics endpoint not answering",
        "docs/runbooks/expense-tracker-target-down.md",
    ),
    "ExpenseTrackerPodCrashLooping": (
        "critical",
        "{{ $labels.namespace }}/{{ $labels.pod }} is crash-looping",
        "docs/runbooks/expense-tracker-pod-crash-looping.md",
    ),
    "ExpenseTrackerPodNotReady": (
        "warning",
        "{{ $labels.namespace }}/{{ $labels.pod }} not ready for 15 minutes",
        "docs/runbooks/expense-tracker-pod-not-ready.md",
    ),
    "ExpenseTrackerHPAAtMaximum": (
        "warning",
        "{{ $labels.namespace }}: autoscaler pinned at its maximum",
        "docs/runbooks/expense-tracker-hpa-at-maximum.md",
    ),
    "ExpenseTrackerDatabaseDown": (
        "critical",
        "{{ $labels.namespace }}: PostgreSQL is down",
        "docs/runbooks/expense-tracker-database-down.md",
    ),
    "ExpenseTrackerDatabaseReplicationLag": (
        "warning",
        "{{ $labels.namespace }}/{{ $labels.pod }}: replica {{ $value | humanizeDuration }} behind",
        "docs/runbooks/expense-tracker-database-replication-lag.md",
    ),
    "ExpenseTrackerWALArchivingFailing": (
        "critical",
        "{{ $labels.namespace }}: WAL archiving to S3 is failing",
        "docs/runbooks/expense-tracker-wal-archiving-failing.md",
    ),
    "ExpenseTrackerBackupTooOld": (
        "warning",
        "{{ $labels.namespace }}: last successful backup is older than 26 hours",
        "docs/runbooks/expense-tracker-backup-too-old.md",
    ),
    "ExpenseTrackerVolumeAlmostFull": (
        "warning",
        "{{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} is {{ $value | humanizePercentage }} full",
        "docs/runbooks/expense-tracker-volume-almost-full.md",
    ),
    "ExpenseTrackerRecurringJobFailed": (
        "warning",
        "{{ $labels.namespace }}: the last recurring-expenses run failed",
        "docs/runbooks/expense-tracker-recurring-job-failed.md",
    ),
    "ExpenseTrackerRecurringJobNotRunning": (
        "warning",
        "{{ $labels.namespace }}: no successful recurring-expenses run for over an hour",
        "docs/runbooks/expense-tracker-recurring-job-not-running.md",
    ),
    "CertificateExpiringSoon": (
        "warning",
        "Certificate {{ $labels.namespace }}/{{ $labels.name }} expires within 14 days",
        "docs/runbooks/certificate-expiring-soon.md",
    ),
    "ArgoCDApplicationOutOfSync": (
        "warning",
        "ArgoCD application {{ $labels.name }} is {{ $labels.sync_status }}",
        "docs/runbooks/argo-cd-application-out-of-sync.md",
    ),
    "ArgoCDApplicationDegraded": (
        "critical",
        "ArgoCD application {{ $labels.name }} is {{ $labels.health_status }}",
        "docs/runbooks/argo-cd-application-degraded.md",
    ),
}


def _alerts(text: str) -> dict[str, dict[str, Any]]:
    document = yaml.safe_load(text)
    assert document["kind"] == "PrometheusRule"
    rules = [rule for group in document["spec"]["groups"] for rule in group["rules"] if "alert" in rule]
    by_name = {rule["alert"]: rule for rule in rules}
    assert len(by_name) == len(rules), "two alerts share a name"
    return by_name


@pytest.mark.parametrize("source", ["committed", "fresh render"])
def test_every_alert_has_the_severity_summary_and_runbook_written_here(source: str) -> None:
    text = (REPO_ROOT / "manifests" / RULE_FILE).read_text() if source == "committed" else render()[RULE_FILE]
    alerts = _alerts(text)
    assert sorted(alerts) == sorted(EXPECTED), "an alert was added or removed: add it to EXPECTED on purpose"
    for name, (severity, summary, runbook) in EXPECTED.items():
        rule = alerts[name]
        assert rule["labels"] == {"severity": severity}, name
        assert rule["annotations"]["summary"] == summary, name
        assert rule["annotations"]["runbook_url"] == RUNBOOK_URL_PREFIX + runbook, name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_runbook_exists_and_is_about_its_alert(name: str) -> None:
    runbook = REPO_ROOT / EXPECTED[name][2]
    assert runbook.is_file(), f"{name}: missing {runbook}"
    assert name in runbook.read_text().splitlines()[0], f"{runbook} does not start with the alert's name"
