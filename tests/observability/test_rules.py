"""Rules: promtool accepts them, every alert is complete, and every alert fires when it should and stays quiet when it
should not (``promtool test rules``)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from dashboards import sli
from manifests_py.components.alerts import all_alerts
from manifests_py.render import REPO_ROOT

from tests.observability.conftest import binary

NS = "expense-tracker-production"
APP = f'namespace="{NS}"'
ALERTS = {alert.name: alert for alert in all_alerts()}


def test_promtool_accepts_every_rule_group(rules_file: Path) -> None:
    result = subprocess.run(
        [binary("promtool"), "check", "rules", str(rules_file)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(sli.recording_rules()) + len(ALERTS)} rules found" in result.stdout


def test_every_alert_is_complete_with_an_existing_runbook(rule_spec: dict[str, Any]) -> None:
    rules = [rule for group in rule_spec["groups"] for rule in group["rules"] if "alert" in rule]
    assert {rule["alert"] for rule in rules} == set(ALERTS)
    for rule in rules:
        assert rule["labels"]["severity"] in {"critical", "warning"}
        assert {"summary", "description", "runbook_url"} <= set(rule["annotations"])
        runbook = REPO_ROOT / ALERTS[rule["alert"]].runbook
        assert runbook.is_file(), f"{rule['alert']}: missing {runbook}"
        text = runbook.read_text()
        assert rule["alert"] in text.splitlines()[0]
        assert all(part in text for part in ("**Meaning.**", "**Confirm.**", "**Mitigate.**"))
        assert rule["annotations"]["runbook_url"].endswith(ALERTS[rule["alert"]].runbook)


def _requests(errors: str, total: str) -> list[dict[str, str]]:
    labels = f'{APP}, pod="web-1", method="GET", path="/api/expenses"'
    return [
        {"series": f'expense_tracker_requests_total{{{labels}, status_code="200"}}', "values": total},
        {"series": f'expense_tracker_requests_total{{{labels}, status_code="500"}}', "values": errors},
    ]


def _durations(fast: str, total: str) -> list[dict[str, str]]:
    labels = f'{APP}, pod="web-1", method="GET", path="/api/expenses", status_code="200"'
    return [
        {"series": f'expense_tracker_request_duration_seconds_bucket{{{labels}, le="1.0"}}', "values": fast},
        {"series": f"expense_tracker_request_duration_seconds_count{{{labels}}}", "values": total},
    ]


def _one(series: str, values: str) -> list[dict[str, str]]:
    return [{"series": series, "values": values}]


POD = f'{APP}, pod="web-1", container="c"'
HPA = f'{APP}, horizontalpodautoscaler="expense-tracker"'
DB = f'{APP}, pod="expense-tracker-db-1"'
PVC = f'{APP}, persistentvolumeclaim="expense-tracker-db-1"'
CERT = 'namespace="expense-tracker-production", name="expense-tracker-tls"'
# The recurring job's gauges as Prometheus stores them: the app exposes `job="recurring"`, and the scrape target's own
# `job` label wins, keeping the app's as `exported_job`. Two web pods expose the same values.
RECURRING = f'job="expense-tracker", exported_job="recurring", {APP}'
FAILED = "expense_tracker_job_last_run_failed"
SUCCESS = "expense_tracker_job_last_success_timestamp_seconds"
UP = f'up{{job="expense-tracker", {APP}, pod="web-1"}}'

# alert -> (interval, eval_time, firing series, quiet series, labels of the firing alert besides severity)
SCENARIOS: dict[str, tuple[str, str, list[dict[str, str]], list[dict[str, str]], dict[str, str]]] = {
    "ExpenseTrackerAvailabilityBudgetBurnFast": (
        "1m",
        "70m",
        _requests("0+10x80", "0+10x80"),
        _requests("0x80", "0+20x80"),
        {"namespace": NS},
    ),
    "ExpenseTrackerAvailabilityBudgetBurnSlow": (
        "10m",
        "26h",
        _requests("0+1x160", "0+99x160"),
        _requests("0x160", "0+100x160"),
        {"namespace": NS},
    ),
    "ExpenseTrackerLatencyBudgetBurnFast": (
        "1m",
        "70m",
        _durations("0x80", "0+10x80"),
        _durations("0+10x80", "0+10x80"),
        {"namespace": NS},
    ),
    "ExpenseTrackerLatencyBudgetBurnSlow": (
        "10m",
        "26h",
        _durations("0+90x160", "0+100x160"),
        _durations("0+100x160", "0+100x160"),
        {"namespace": NS},
    ),
    "ExpenseTrackerTargetDown": (
        "1m",
        "10m",
        _one(f'up{{job="expense-tracker", {APP}, pod="web-1"}}', "0x20"),
        _one(f'up{{job="expense-tracker", {APP}, pod="web-1"}}', "1x20"),
        {"job": "expense-tracker", "namespace": NS, "pod": "web-1"},
    ),
    "ExpenseTrackerPodCrashLooping": (
        "1m",
        "15m",
        _one(
            f'kube_pod_container_status_waiting_reason{{{POD}, reason="CrashLoopBackOff"}}',
            "1x20",
        ),
        _one(
            f'kube_pod_container_status_waiting_reason{{{POD}, reason="ContainerCreating"}}',
            "1x20",
        ),
        {"namespace": NS, "pod": "web-1", "container": "c"},
    ),
    "ExpenseTrackerPodNotReady": (
        "1m",
        "20m",
        _one(f'kube_pod_status_ready{{{APP}, pod="web-1", condition="false"}}', "1x30"),
        _one(f'kube_pod_status_ready{{{APP}, pod="web-1", condition="false"}}', "0x30"),
        {"namespace": NS, "pod": "web-1"},
    ),
    "ExpenseTrackerHPAAtMaximum": (
        "1m",
        "20m",
        _one(f"kube_horizontalpodautoscaler_status_current_replicas{{{HPA}}}", "6x30")
        + _one(f"kube_horizontalpodautoscaler_spec_max_replicas{{{HPA}}}", "6x30"),
        _one(f"kube_horizontalpodautoscaler_status_current_replicas{{{HPA}}}", "3x30")
        + _one(f"kube_horizontalpodautoscaler_spec_max_replicas{{{HPA}}}", "6x30"),
        {"namespace": NS, "horizontalpodautoscaler": "expense-tracker"},
    ),
    "ExpenseTrackerDatabaseDown": (
        "1m",
        "10m",
        _one(f"cnpg_collector_up{{{DB}}}", "0x20"),
        _one(f"cnpg_collector_up{{{DB}}}", "1x20"),
        {"namespace": NS},
    ),
    "ExpenseTrackerDatabaseReplicationLag": (
        "1m",
        "15m",
        _one(f"cnpg_pg_replication_lag{{{DB}}}", "45x20"),
        _one(f"cnpg_pg_replication_lag{{{DB}}}", "5x20"),
        {"namespace": NS, "pod": "expense-tracker-db-1"},
    ),
    "ExpenseTrackerWALArchivingFailing": (
        "1m",
        "20m",
        _one(f"cnpg_pg_stat_archiver_failed_count{{{DB}}}", "0+1x30")
        + _one(f"cnpg_pg_stat_archiver_last_failed_time{{{DB}}}", "2000x30")
        + _one(f"cnpg_pg_stat_archiver_last_archived_time{{{DB}}}", "1000x30"),
        _one(f"cnpg_pg_stat_archiver_failed_count{{{DB}}}", "3x30")
        + _one(f"cnpg_pg_stat_archiver_last_failed_time{{{DB}}}", "1000x30")
        + _one(f"cnpg_pg_stat_archiver_last_archived_time{{{DB}}}", "2000x30"),
        {"namespace": NS, "pod": "expense-tracker-db-1"},
    ),
    # Gauges are sampled every minute: a sample older than 5 minutes is stale and the series would vanish.
    "ExpenseTrackerBackupTooOld": (
        "1m",
        "28h",
        _one(f"cnpg_collector_last_available_backup_timestamp{{{DB}}}", "0x1700"),
        _one(f"cnpg_collector_last_available_backup_timestamp{{{DB}}}", "0+60x1700"),
        {"namespace": NS},
    ),
    "ExpenseTrackerVolumeAlmostFull": (
        "1m",
        "15m",
        _one(f"kubelet_volume_stats_used_bytes{{{PVC}}}", "90x20")
        + _one(f"kubelet_volume_stats_capacity_bytes{{{PVC}}}", "100x20"),
        _one(f"kubelet_volume_stats_used_bytes{{{PVC}}}", "50x20")
        + _one(f"kubelet_volume_stats_capacity_bytes{{{PVC}}}", "100x20"),
        {"namespace": NS, "persistentvolumeclaim": "expense-tracker-db-1"},
    ),
    "CertificateExpiringSoon": (
        "1m",
        "2h",
        _one(f"certmanager_certificate_expiration_timestamp_seconds{{{CERT}}}", f"{5 * 86400}x150"),
        _one(f"certmanager_certificate_expiration_timestamp_seconds{{{CERT}}}", f"{60 * 86400}x150"),
        {"namespace": NS, "name": "expense-tracker-tls"},
    ),
    # One failed run is 1 until the next run; "fires" holds it for 20 minutes (a second run failed too).
    "ExpenseTrackerRecurringJobFailed": (
        "1m",
        "15m",
        _one(f'{FAILED}{{{RECURRING}, pod="web-1"}}', "0 0 1x20")
        + _one(f'{FAILED}{{{RECURRING}, pod="web-2"}}', "0 0 1x20"),
        _one(f'{FAILED}{{{RECURRING}, pod="web-1"}}', "0x20") + _one(f'{FAILED}{{{RECURRING}, pod="web-2"}}', "0x20"),
        {"namespace": NS},
    ),
    # Last success at t=0 and never again: over an hour old from 1h on, firing 20 minutes later. Quiet: a success
    # every 15 minutes (the timestamp steps up by 900 s every 15 samples).
    "ExpenseTrackerRecurringJobNotRunning": (
        "1m",
        "90m",
        _one(UP, "1x100") + _one(f'{SUCCESS}{{{RECURRING}, pod="web-1"}}', "0x100"),
        _one(UP, "1x100")
        + _one(
            f'{SUCCESS}{{{RECURRING}, pod="web-1"}}',
            " ".join(f"{900 * (minute // 15)}" for minute in range(101)),
        ),
        {"namespace": NS},
    ),
    "ArgoCDApplicationOutOfSync": (
        "1m",
        "20m",
        _one(
            'argocd_app_info{name="expense-tracker-production", sync_status="OutOfSync", health_status="Healthy"}',
            "1x30",
        ),
        _one(
            'argocd_app_info{name="expense-tracker-production", sync_status="Synced", health_status="Healthy"}', "1x30"
        ),
        {"name": "expense-tracker-production", "sync_status": "OutOfSync"},
    ),
    "ArgoCDApplicationDegraded": (
        "1m",
        "20m",
        _one(
            'argocd_app_info{name="expense-tracker-production", sync_status="Synced", health_status="Degraded"}', "1x30"
        ),
        _one(
            'argocd_app_info{name="expense-tracker-production", sync_status="Synced", health_status="Healthy"}', "1x30"
        ),
        {"name": "expense-tracker-production", "health_status": "Degraded"},
    ),
}


def test_every_alert_has_a_scenario() -> None:
    assert set(SCENARIOS) == set(ALERTS)


# How Prometheus renders `$value` in the two summaries that show it, for the scenarios' values.
RENDERED_VALUES = {"humanizeDuration": "45s", "humanizePercentage": "90%"}


def _render(template: str, labels: dict[str, str]) -> str:
    """Expand the template forms the annotations use, as Prometheus does."""
    text = re.sub(r"{{ \$labels\.(\w+) }}", lambda m: labels[m.group(1)], template)
    return re.sub(r"{{ \$value \| (\w+) }}", lambda m: RENDERED_VALUES[m.group(1)], text)


def _unit_tests() -> list[dict[str, Any]]:
    tests = []
    for name, (interval, eval_time, firing, quiet, labels) in SCENARIOS.items():
        alert = ALERTS[name]
        annotations = {
            "summary": _render(alert.summary, labels),
            "description": _render(alert.description, labels),
            "runbook_url": alert.runbook_url,
        }
        expected = [{"exp_labels": {**labels, "severity": alert.severity}, "exp_annotations": annotations}]
        tests.append(
            {
                "name": f"{name} fires",
                "interval": interval,
                "input_series": firing,
                "alert_rule_test": [{"alertname": name, "eval_time": eval_time, "exp_alerts": expected}],
            }
        )
        tests.append(
            {
                "name": f"{name} stays quiet",
                "interval": interval,
                "input_series": quiet,
                "alert_rule_test": [{"alertname": name, "eval_time": eval_time, "exp_alerts": []}],
            }
        )
    return tests


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_alert_fires_and_stays_quiet(name: str, rules_file: Path, tmp_path: Path) -> None:
    tests = [test for test in _unit_tests() if test["alert_rule_test"][0]["alertname"] == name]
    test_file = tmp_path / "tests.yml"
    test_file.write_text(
        yaml.safe_dump({"rule_files": [str(rules_file)], "evaluation_interval": "1m", "tests": tests}, sort_keys=False)
    )
    result = subprocess.run(
        [binary("promtool"), "test", "rules", str(test_file)], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_database_down_fires_when_the_database_pods_are_gone(rules_file: Path, tmp_path: Path) -> None:
    # Evicted, deleted or unschedulable instances export nothing: `cnpg_collector_up == 0` alone stays silent exactly
    # when the database is most down. The environment's namespace still exists (kube-state-metrics reports it).
    namespace_active = _one(f'kube_namespace_status_phase{{{APP}, phase="Active"}}', "1x20")
    other_namespace = _one('kube_namespace_status_phase{namespace="kube-system", phase="Active"}', "1x20")
    alert = ALERTS["ExpenseTrackerDatabaseDown"]
    expected = [
        {
            "exp_labels": {"namespace": NS, "severity": "critical"},
            "exp_annotations": {
                "summary": f"{NS}: PostgreSQL is down",
                "description": _render(alert.description, {"namespace": NS}),
                "runbook_url": alert.runbook_url,
            },
        }
    ]
    tests = [
        {
            "name": "no instance exports metrics",
            "interval": "1m",
            "input_series": namespace_active + other_namespace,
            "alert_rule_test": [{"alertname": alert.name, "eval_time": "10m", "exp_alerts": expected}],
        },
        {
            "name": "the instance is up",
            "interval": "1m",
            "input_series": namespace_active + other_namespace + _one(f"cnpg_collector_up{{{DB}}}", "1x20"),
            "alert_rule_test": [{"alertname": alert.name, "eval_time": "10m", "exp_alerts": []}],
        },
    ]
    test_file = tmp_path / "tests.yml"
    test_file.write_text(
        yaml.safe_dump({"rule_files": [str(rules_file)], "evaluation_interval": "1m", "tests": tests}, sort_keys=False)
    )
    result = subprocess.run(
        [binary("promtool"), "test", "rules", str(test_file)], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _promtool_test(rules_file: Path, tmp_path: Path, tests: list[dict[str, Any]]) -> None:
    test_file = tmp_path / "tests.yml"
    test_file.write_text(
        yaml.safe_dump({"rule_files": [str(rules_file)], "evaluation_interval": "1m", "tests": tests}, sort_keys=False)
    )
    result = subprocess.run(
        [binary("promtool"), "test", "rules", str(test_file)], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_recurring_job_not_running_fires_when_no_run_ever_succeeded_while_the_app_is_up(
    rules_file: Path, tmp_path: Path
) -> None:
    # The gauge exists only once a run has succeeded: an app that is up without it means the CronJob never ran (or
    # never got far). A new environment's first run is up to 15 minutes away: no alert for that wait. Nor while the
    # app itself is down (ExpenseTrackerTargetDown speaks for it then).
    alert = ALERTS["ExpenseTrackerRecurringJobNotRunning"]
    expected = [
        {
            "exp_labels": {"namespace": NS, "severity": "warning"},
            "exp_annotations": {
                "summary": f"{NS}: no successful recurring-expenses run for over an hour",
                "description": alert.description,
                "runbook_url": alert.runbook_url,
            },
        }
    ]
    first_run_after_16_minutes = " ".join(["_"] * 16 + ["960"] * 30)  # `_`: no sample yet
    tests = [
        {
            "name": "never succeeded",
            "interval": "1m",
            "input_series": _one(UP, "1x60"),
            "alert_rule_test": [
                {"alertname": alert.name, "eval_time": "19m", "exp_alerts": []},
                {"alertname": alert.name, "eval_time": "30m", "exp_alerts": expected},
            ],
        },
        {
            "name": "a new environment's first run",
            "interval": "1m",
            "input_series": _one(UP, "1x45")
            + _one(f'{SUCCESS}{{{RECURRING}, pod="web-1"}}', first_run_after_16_minutes),
            "alert_rule_test": [{"alertname": alert.name, "eval_time": m, "exp_alerts": []} for m in ("16m", "30m")],
        },
        {
            "name": "the app is down",
            "interval": "1m",
            "input_series": _one(UP, "0x60"),
            "alert_rule_test": [{"alertname": alert.name, "eval_time": "30m", "exp_alerts": []}],
        },
        {
            "name": "the other environment's success does not count",
            "interval": "1m",
            "input_series": _one(UP, "1x60")
            + _one(
                'expense_tracker_job_last_success_timestamp_seconds{job="expense-tracker", exported_job="recurring", '
                'namespace="expense-tracker-staging", pod="web-1"}',
                "0+60x60",
            ),
            "alert_rule_test": [{"alertname": alert.name, "eval_time": "30m", "exp_alerts": expected}],
        },
    ]
    _promtool_test(rules_file, tmp_path, tests)


def test_recurring_job_failed_ignores_another_job_and_a_run_put_right_by_the_next(
    rules_file: Path, tmp_path: Path
) -> None:
    alert = ALERTS["ExpenseTrackerRecurringJobFailed"]
    tests = [
        {
            "name": "another job's failure",
            "interval": "1m",
            "input_series": _one(
                f'{FAILED}{{job="expense-tracker", exported_job="cleanup", {APP}, pod="web-1"}}', "1x30"
            ),
            "alert_rule_test": [{"alertname": alert.name, "eval_time": "20m", "exp_alerts": []}],
        },
        {
            # Failed for 8 minutes, then the next run succeeded: shorter than the alert's 10 minutes.
            "name": "a failure the next run put right",
            "interval": "1m",
            "input_series": _one(f'{FAILED}{{{RECURRING}, pod="web-1"}}', "0 1x8 0x20"),
            "alert_rule_test": [
                {"alertname": alert.name, "eval_time": m, "exp_alerts": []} for m in ("5m", "12m", "20m")
            ],
        },
    ]
    _promtool_test(rules_file, tmp_path, tests)
