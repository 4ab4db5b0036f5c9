"""Issue 15: the recurring-expenses CronJob, written out here as literal facts and checked against the render.

What it must be: `expense-tracker recurring run` every 15 minutes in the app's own image (the environment's digest),
with the serving pod's hardening, settings and database credentials; one run at a time, a hung run stopped before the
next slot, failed runs kept for their logs; schema-valid for both Kubernetes versions and for what the API server
checks beyond the schema (name length, schedule, time zone); applied after the migration like the Deployment.
"""

from __future__ import annotations

import copy
import re
import zoneinfo
from pathlib import Path

import pytest
import yaml
from manifests_py.validate import problems, validate_files

from tests.manifests.conftest import Document, one

REPO_ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENTS = ("production", "staging")
NAME = "expense-tracker-recurring"
SCHEDULE_MINUTES = 15

# Written out by hand: what the serving pod has (tests/manifests/test_app_pods.py checks the two stay equal).
POD_SECURITY = {
    "fsGroup": 10001,
    "runAsGroup": 10001,
    "runAsNonRoot": True,
    "runAsUser": 10001,
    "seccompProfile": {"type": "RuntimeDefault"},
}
CONTAINER_SECURITY = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "seccompProfile": {"type": "RuntimeDefault"},
}
CONFIG_KEYS = (
    "APP_ENV",
    "DEV_LOGIN",
    "LOG_LEVEL",
    "PROMETHEUS_MULTIPROC_DIR",
    "PUBLIC_URL",
    "TRUSTED_PROXY_HOPS",
    "WEB_CONCURRENCY",
)
SECRET_KEYS = ("SECRET_KEY", "GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET")
# environments/<name>/settings.toml [resources]
RESOURCES = {
    "production": {"requests": {"cpu": "250m", "memory": "384Mi"}, "limits": {"cpu": "1", "memory": "768Mi"}},
    "staging": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}},
}
LABELS = {
    "app.kubernetes.io/name": "expense-tracker",
    "app.kubernetes.io/component": "recurring",
}


def _cronjob(documents: list[Document], environment: str) -> Document:
    return one(documents, "CronJob", f"expense-tracker-{environment}", NAME)


def _pod(cronjob: Document) -> Document:
    pod: Document = cronjob["spec"]["jobTemplate"]["spec"]["template"]
    return pod


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_one_file_holds_the_cronjob_of_each_environment(files: dict[str, str], environment: str) -> None:
    path = f"apps/{environment}/cronjob-{NAME}.yaml"
    document = yaml.safe_load(files[path])
    assert (document["apiVersion"], document["kind"]) == ("batch/v1", "CronJob")
    assert document["metadata"]["namespace"] == f"expense-tracker-{environment}"
    # The committed tree is this render (`python -m manifests_py check` in CI; here too, for this file).
    assert (REPO_ROOT / "manifests" / path).read_text() == files[path]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_it_runs_the_recurring_command_every_15_minutes_one_run_at_a_time(
    documents: list[Document], environment: str
) -> None:
    spec = _cronjob(documents, environment)["spec"]
    assert spec["schedule"] == "*/15 * * * *"
    assert spec["timeZone"] == "Etc/UTC"
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec.get("suspend") in {None, False}
    # A slot missed by more than 5 minutes is skipped (the next one catches up), never queued behind the deadline.
    assert spec["startingDeadlineSeconds"] == 300
    assert spec["successfulJobsHistoryLimit"] == 3
    assert spec["failedJobsHistoryLimit"] == 3
    job = spec["jobTemplate"]["spec"]
    assert job["backoffLimit"] == 2
    # A hung run is stopped before the next slot: with Forbid it would otherwise skip that slot.
    assert job["activeDeadlineSeconds"] == 600
    assert job["activeDeadlineSeconds"] < SCHEDULE_MINUTES * 60
    assert job["ttlSecondsAfterFinished"] == 86400
    pod = _pod(_cronjob(documents, environment))["spec"]
    assert pod["restartPolicy"] == "Never"
    (container,) = pod["containers"]
    assert container["name"] == "recurring"
    assert container["command"] == ["expense-tracker", "recurring", "run"]
    assert "args" not in container
    # A run serves nothing: no ports, no probes (the Job's exit code is its result).
    assert not {"ports", "startupProbe", "readinessProbe", "livenessProbe"} & set(container)


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_it_runs_the_environments_image_with_the_apps_hardening_settings_and_resources(
    documents: list[Document], environment: str
) -> None:
    pod = _pod(_cronjob(documents, environment))
    spec = pod["spec"]
    (container,) = spec["containers"]
    # Every field, so one added later (hostNetwork, a hostPath volume, privileged) has to be added here on purpose.
    assert set(spec) == {
        "automountServiceAccountToken",
        "containers",
        "restartPolicy",
        "securityContext",
        "serviceAccountName",
        "volumes",
    }
    assert set(container) == {"command", "env", "image", "name", "resources", "securityContext", "volumeMounts"}
    image = (REPO_ROOT / "manifests_py" / "environments" / environment / "image.txt").read_text().strip()
    assert re.fullmatch(r"ghcr\.io/expense-tracker/expense-tracker@sha256:[0-9a-f]{64}", image)
    assert container["image"] == image
    assert spec["serviceAccountName"] == "expense-tracker"
    assert spec["automountServiceAccountToken"] is False
    assert spec["securityContext"] == POD_SECURITY
    assert container["securityContext"] == CONTAINER_SECURITY
    assert container["volumeMounts"] == [{"mountPath": "/tmp", "name": "tmp"}]
    assert spec["volumes"] == [{"emptyDir": {"sizeLimit": "256Mi"}, "name": "tmp"}]
    assert container["resources"] == RESOURCES[environment]
    env = {item["name"]: item["valueFrom"] for item in container["env"]}
    assert list(env) == [*CONFIG_KEYS, *SECRET_KEYS, "DATABASE_URL"]
    for key in CONFIG_KEYS:
        assert env[key] == {"configMapKeyRef": {"key": key, "name": "expense-tracker-config"}}
    for key in SECRET_KEYS:
        assert env[key] == {"secretKeyRef": {"key": key, "name": "expense-tracker-app"}}
    # The database credentials CloudNativePG writes for the app's owner: the same database as the web app.
    assert env["DATABASE_URL"] == {"secretKeyRef": {"key": "uri", "name": "expense-tracker-db-app"}}
    assert pod["metadata"]["labels"] == {**LABELS, "app.kubernetes.io/instance": f"expense-tracker-{environment}"}


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_deployment_serves_the_same_image_and_settings(documents: list[Document], environment: str) -> None:
    namespace = f"expense-tracker-{environment}"
    serving = one(documents, "Deployment", namespace, "expense-tracker")["spec"]["template"]["spec"]["containers"][0]
    (running,) = _pod(_cronjob(documents, environment))["spec"]["containers"]
    assert running["image"] == serving["image"]
    assert running["env"] == serving["env"]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_it_is_applied_with_the_workloads_after_the_migration_and_is_no_hook(
    documents: list[Document], environment: str
) -> None:
    metadata = _cronjob(documents, environment)["metadata"]
    annotations = metadata["annotations"]
    migration = one(documents, "Job", f"expense-tracker-{environment}", "expense-tracker-migrate")["metadata"]
    assert annotations["argocd.argoproj.io/sync-wave"] == "2"
    assert int(annotations["argocd.argoproj.io/sync-wave"]) > int(
        migration["annotations"]["argocd.argoproj.io/sync-wave"]
    )
    # A hook would be deleted and re-created on every sync (losing its Jobs' history); it is a plain resource.
    assert "argocd.argoproj.io/hook" not in annotations
    assert metadata["labels"]["app.kubernetes.io/component"] == "recurring"
    # The Jobs it creates carry the labels the NetworkPolicies select (their pods too, checked above).
    job_labels = _cronjob(documents, environment)["spec"]["jobTemplate"]["metadata"]["labels"]
    assert job_labels == {**LABELS, "app.kubernetes.io/instance": f"expense-tracker-{environment}"}


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_what_the_api_server_checks_beyond_the_schema_holds(documents: list[Document], environment: str) -> None:
    cronjob = _cronjob(documents, environment)
    # pkg/apis/batch/validation: a CronJob's name leaves 11 characters for the Jobs' "-<minutes since epoch>".
    assert len(cronjob["metadata"]["name"]) <= 52
    zoneinfo.ZoneInfo(cronjob["spec"]["timeZone"])  # a zone the tz database knows
    minute, *others = cronjob["spec"]["schedule"].split()
    assert (minute, others) == (f"*/{SCHEDULE_MINUTES}", ["*", "*", "*", "*"])


def test_the_cronjob_is_schema_valid_and_the_validator_would_say_otherwise(files: dict[str, str]) -> None:
    paths = [f"apps/{environment}/cronjob-{NAME}.yaml" for environment in ENVIRONMENTS]
    assert validate_files({path: files[path] for path in paths}) == []
    broken = copy.deepcopy(yaml.safe_load(files[paths[0]]))
    broken["spec"]["concurencyPolicy"] = broken["spec"].pop("concurrencyPolicy")
    assert any("'concurencyPolicy' was unexpected" in line for line in problems(broken))
    broken = copy.deepcopy(yaml.safe_load(files[paths[0]]))
    broken["spec"]["jobTemplate"]["spec"]["backoffLimit"] = "2"
    assert any("backoffLimit" in line for line in problems(broken))
