"""The recurring-expenses job: a CronJob running ``expense-tracker recurring run`` in the app's own pod.

The run is idempotent and catches up (every due occurrence is created once, whenever the run happens; the database
refuses a second copy), so the schedule only bounds how late an expense appears: a skipped or failed run is made good
by the next one. That is what every timing below leans on. Whether runs succeed is watched from the app's metrics
(``JOB_LAST_SUCCESS_METRIC``, ``JOB_LAST_RUN_FAILED_METRIC``; alerts in ``manifests_py.components.alerts``), not from
the CronJob: Argo CD v3.0 has no health check for CronJobs, so a failing run never marks the Application Degraded.
"""

from __future__ import annotations

from hikaru import HikaruDocumentBase
from hikaru.model.rel_1_28 import v1

from expense_tracker.constants import APP_NAME, RECURRING_SCHEDULE_CRON
from manifests_py.components.app.chart import RECURRING, EnvironmentChart, Wave
from manifests_py.components.app.pod import SECRETS_AS_ENV, app_pod

CRONJOB_NAME = f"{APP_NAME}-{RECURRING}"
RECURRING_COMMAND = ["expense-tracker", "recurring", "run"]
# Cron has no time zone of its own: kube-controller-manager's would apply. Occurrences are due in each user's zone
# (the run works that out), so the schedule only needs to be unambiguous.
SCHEDULE_TIME_ZONE = "Etc/UTC"
# A run that could not start within 5 minutes of its slot (controller restart, no node) is skipped, not queued: the
# next slot is at most 15 minutes away and catches up. It also keeps the controller from giving up on the CronJob,
# which it does after 100 missed slots when no deadline is set.
STARTING_DEADLINE_SECONDS = 300
# Shorter than the interval: a hung run is stopped before the next slot, which Forbid would otherwise skip.
ACTIVE_DEADLINE_SECONDS = 600
BACKOFF_LIMIT = 2  # a transient failure (database failover) is retried within the same slot
# Finished Jobs (and their pods' logs) stay a day for the runbook's `kubectl logs`, within the history limits below.
TTL_SECONDS_AFTER_FINISHED = 86400
SUCCESSFUL_JOBS_HISTORY = 3
FAILED_JOBS_HISTORY = 3


def cronjob(chart: EnvironmentChart) -> v1.CronJob:
    labels = chart.labels(RECURRING)
    return v1.CronJob(
        metadata=chart.meta(CRONJOB_NAME, RECURRING, Wave.WORKLOAD, annotations=SECRETS_AS_ENV),
        spec=v1.CronJobSpec(
            schedule=RECURRING_SCHEDULE_CRON,
            timeZone=SCHEDULE_TIME_ZONE,
            # Two runs at once would be safe (the database refuses a second copy of an occurrence) but pointless.
            concurrencyPolicy="Forbid",
            startingDeadlineSeconds=STARTING_DEADLINE_SECONDS,
            successfulJobsHistoryLimit=SUCCESSFUL_JOBS_HISTORY,
            failedJobsHistoryLimit=FAILED_JOBS_HISTORY,
            jobTemplate=v1.JobTemplateSpec(
                metadata=v1.ObjectMeta(labels=labels),
                spec=v1.JobSpec(
                    backoffLimit=BACKOFF_LIMIT,
                    activeDeadlineSeconds=ACTIVE_DEADLINE_SECONDS,
                    ttlSecondsAfterFinished=TTL_SECONDS_AFTER_FINISHED,
                    template=app_pod(
                        chart,
                        labels,
                        container_name=RECURRING,
                        command=RECURRING_COMMAND,
                        pod={"restartPolicy": "Never"},
                    ),
                ),
            ),
        ),
    )


def build(chart: EnvironmentChart) -> list[HikaruDocumentBase]:
    return [cronjob(chart)]
