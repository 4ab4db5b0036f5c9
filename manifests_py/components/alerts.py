"""Prometheus rules: the SLI recording rules and every alert, each with severity, summary, description and runbook."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from dashboards import jobs, sli

from expense_tracker.constants import APP_NAME
from manifests_py import names

RUNBOOKS_DIR = "docs/runbooks"
APP = sli.APP_NAMESPACES
# The Service name is the scrape job prometheus-operator assigns to the app's ServiceMonitor targets.
APP_JOB = f'job="{APP_NAME}", {APP}'


@dataclass(frozen=True)
class Alert:
    name: str
    expr: str
    for_: str
    severity: str
    summary: str
    description: str

    @property
    def runbook(self) -> str:
        """Runbook file, relative to the repository root."""
        # CamelCase with acronyms: "ArgoCDApplicationDegraded" -> "argo-cd-application-degraded".
        slug = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", self.name).lower()
        return f"{RUNBOOKS_DIR}/{slug}.md"

    @property
    def runbook_url(self) -> str:
        return f"{names.GIT_REPO_URL.removesuffix('.git')}/blob/{names.GIT_REVISION}/{self.runbook}"


def _burn(ratio: Callable[[str], str], windows: tuple[str, str], factor: float, budget: float) -> str:
    long, short = windows
    threshold = round(factor * budget, 6)
    return f"({ratio(long)} > {threshold} and {ratio(short)} > {threshold})"


def slo_alerts() -> list[Alert]:
    """Multi-window, multi-burn-rate alerts (Google SRE workbook, ch. 5) for a 30-day period."""
    out = []
    for kind, ratio, objective in (
        ("Availability", sli.error_ratio, sli.AVAILABILITY_OBJECTIVE),
        ("Latency", sli.slow_ratio, sli.LATENCY_OBJECTIVE),
    ):
        budget = sli.budget(objective)
        what = "failing with 5xx" if kind == "Availability" else f"slower than {sli.LATENCY_THRESHOLD_SECONDS} s"
        out.append(
            Alert(
                f"ExpenseTracker{kind}BudgetBurnFast",
                f"{_burn(ratio, ('1h', '5m'), 14.4, budget)} or {_burn(ratio, ('6h', '30m'), 6, budget)}",
                "2m",
                "critical",
                f"{{{{ $labels.namespace }}}}: {kind.lower()} error budget burning fast",
                f"Requests {what} at 6-14.4x the rate the {objective:.1%} {sli.SLO_PERIOD} objective allows: "
                "at this pace the whole budget is gone within days.",
            )
        )
        out.append(
            Alert(
                f"ExpenseTracker{kind}BudgetBurnSlow",
                f"{_burn(ratio, ('1d', '2h'), 3, budget)} or {_burn(ratio, ('3d', '6h'), 1, budget)}",
                "15m",
                "warning",
                f"{{{{ $labels.namespace }}}}: {kind.lower()} error budget burning",
                f"Requests {what} at 1-3x the rate the {objective:.1%} {sli.SLO_PERIOD} objective allows.",
            )
        )
    return out


def platform_alerts() -> list[Alert]:
    in_app = f"{{{APP}}}"
    return [
        Alert(
            "ExpenseTrackerTargetDown",
            f"up{{{APP_JOB}}} == 0",
            "5m",
            "warning",
            "{{ $labels.namespace }}/{{ $labels.pod }}: metrics endpoint not answering",
            "Prometheus cannot scrape the app pod; it is down, overloaded or its network policy blocks monitoring.",
        ),
        Alert(
            "ExpenseTrackerPodCrashLooping",
            "max by (namespace, pod, container) "
            f'(kube_pod_container_status_waiting_reason{{reason="CrashLoopBackOff", {APP}}}) == 1',
            "10m",
            "critical",
            "{{ $labels.namespace }}/{{ $labels.pod }} is crash-looping",
            "Container {{ $labels.container }} keeps restarting and is in CrashLoopBackOff.",
        ),
        Alert(
            "ExpenseTrackerPodNotReady",
            f'sum by (namespace, pod) (kube_pod_status_ready{{condition="false", {APP}}}) > 0',
            "15m",
            "warning",
            "{{ $labels.namespace }}/{{ $labels.pod }} not ready for 15 minutes",
            "The pod fails its readiness probe (/readyz checks the database) and receives no traffic.",
        ),
        Alert(
            "ExpenseTrackerHPAAtMaximum",
            f"kube_horizontalpodautoscaler_status_current_replicas{in_app}"
            f" >= kube_horizontalpodautoscaler_spec_max_replicas{in_app}",
            "15m",
            "warning",
            "{{ $labels.namespace }}: autoscaler pinned at its maximum",
            "The HPA has run at maxReplicas for 15 minutes; more load will not get more pods.",
        ),
        Alert(
            "ExpenseTrackerDatabaseDown",
            # The second half fires when no instance exports metrics at all (pods evicted, deleted or unschedulable)
            # while the environment's namespace exists: `== 0` alone is silent exactly then.
            f"(max by (namespace) (cnpg_collector_up{in_app}) == 0) or "
            f'(max by (namespace) (kube_namespace_status_phase{{phase="Active", {APP}}}) == 1 '
            f"unless on (namespace) max by (namespace) (cnpg_collector_up{in_app}))",
            "5m",
            "critical",
            "{{ $labels.namespace }}: PostgreSQL is down",
            "No CloudNativePG instance of the app's cluster reports PostgreSQL up, or none exports metrics at all.",
        ),
        Alert(
            "ExpenseTrackerDatabaseReplicationLag",
            f"max by (namespace, pod) (cnpg_pg_replication_lag{in_app}) > 30",
            "10m",
            "warning",
            "{{ $labels.namespace }}/{{ $labels.pod }}: replica {{ $value | humanizeDuration }} behind",
            "The standby lags the primary by more than 30 s; a failover now would lose recent writes.",
        ),
        Alert(
            "ExpenseTrackerWALArchivingFailing",
            f"increase(cnpg_pg_stat_archiver_failed_count{in_app}[15m]) > 0"
            f" and cnpg_pg_stat_archiver_last_failed_time{in_app} > cnpg_pg_stat_archiver_last_archived_time{in_app}",
            "5m",
            "critical",
            "{{ $labels.namespace }}: WAL archiving to S3 is failing",
            "WAL segments are not reaching the backup bucket: point-in-time recovery is at risk and the volume fills.",
        ),
        Alert(
            "ExpenseTrackerBackupTooOld",
            f"time() - max by (namespace) (cnpg_collector_last_available_backup_timestamp{in_app}) > 26 * 3600",
            "15m",
            "warning",
            "{{ $labels.namespace }}: last successful backup is older than 26 hours",
            "The daily base backup has not succeeded for more than a day.",
        ),
        Alert(
            "ExpenseTrackerVolumeAlmostFull",
            f"kubelet_volume_stats_used_bytes{in_app} / kubelet_volume_stats_capacity_bytes{in_app} > 0.8",
            "10m",
            "warning",
            "{{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} is {{ $value | humanizePercentage }} full",
            "A volume of the app's database is over 80 % full.",
        ),
        Alert(
            "CertificateExpiringSoon",
            "certmanager_certificate_expiration_timestamp_seconds - time() < 14 * 86400",
            "1h",
            "warning",
            "Certificate {{ $labels.namespace }}/{{ $labels.name }} expires within 14 days",
            "cert-manager has not renewed the certificate, which it normally does 30 days before expiry.",
        ),
        Alert(
            "ArgoCDApplicationOutOfSync",
            'max by (name, sync_status) (argocd_app_info{sync_status!="Synced"}) == 1',
            "15m",
            "warning",
            "ArgoCD application {{ $labels.name }} is {{ $labels.sync_status }}",
            "The cluster has differed from git for 15 minutes: a failed sync, a hook that never finishes, or drift.",
        ),
        Alert(
            "ArgoCDApplicationDegraded",
            'max by (name, health_status) (argocd_app_info{health_status=~"Degraded|Missing"}) == 1',
            "15m",
            "critical",
            "ArgoCD application {{ $labels.name }} is {{ $labels.health_status }}",
            "Resources of the application have been unhealthy for 15 minutes.",
        ),
    ]


# The recurring-expenses job runs every 15 minutes (RECURRING_SCHEDULE_CRON) and catches up whatever a missed run
# left: an hour without success is four slots in a row that failed or never ran.
RECURRING_STALE_SECONDS = 3600


def recurring_job_alerts() -> list[Alert]:
    """The CronJob's runs, watched through what they record (the app exposes it from ``job_run``), not through the
    CronJob: that also sees a run that starts but fails inside the app, and a schedule that stopped altogether."""
    up = f"max by (namespace) (up{{{APP_JOB}}}) == 1"
    return [
        Alert(
            "ExpenseTrackerRecurringJobFailed",
            f"{jobs.last_run_failed(APP)} == 1",
            "10m",
            "warning",
            "{{ $labels.namespace }}: the last recurring-expenses run failed",
            "`expense-tracker recurring run` ended in an error and no run has succeeded since: due recurring "
            "expenses (and the trash purge) wait for the next successful run, which catches up.",
        ),
        Alert(
            "ExpenseTrackerRecurringJobNotRunning",
            # The second half: the app is up but has never seen a successful run (the job never ran, or never got
            # far enough to record one). `for` outlasts a new environment's first slot, up to 15 minutes away.
            f"(time() - {jobs.last_success(APP)} > {RECURRING_STALE_SECONDS}) or "
            f"({up} unless on (namespace) {jobs.last_success(APP)})",
            "20m",
            "warning",
            "{{ $labels.namespace }}: no successful recurring-expenses run for over an hour",
            "The CronJob has not completed `expense-tracker recurring run` for more than an hour (four 15-minute "
            "slots), or never: recurring expenses are not being created.",
        ),
    ]


def all_alerts() -> list[Alert]:
    return slo_alerts() + platform_alerts() + recurring_job_alerts()
