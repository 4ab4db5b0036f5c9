"""The app's objects as the environment chart stamps them, the one pod both workloads run, and developers' access."""

from __future__ import annotations

import pytest
from manifests_py import names
from manifests_py.environments import ENVIRONMENT_NAMES

from tests.manifests.conftest import Document, of_kind, one

# What the serving pods and the migration pods must share, so a change to one (a new hardening field, a setting, a
# volume) cannot silently miss the other. Written out here, not read from the generator.
SHARED_POD_FIELDS = ("serviceAccountName", "automountServiceAccountToken", "securityContext", "volumes")
SHARED_CONTAINER_FIELDS = ("image", "env", "envFrom", "resources", "securityContext", "volumeMounts")
# Neither pod uses envFrom today; should one start to, the other must too. Every other field must be present.
MAY_BE_ABSENT = {"envFrom"}


def _pods(documents: list[Document], environment: str, other: str) -> tuple[Document, Document]:
    namespace = names.app_namespace(environment)
    serving = one(documents, "Deployment", namespace, "expense-tracker")["spec"]["template"]["spec"]
    if other == "migration":
        migrating = one(documents, "Job", namespace, "expense-tracker-migrate")["spec"]["template"]["spec"]
    else:
        cronjob = one(documents, "CronJob", namespace, "expense-tracker-recurring")
        migrating = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return serving, migrating


@pytest.mark.parametrize("other", ["migration", "recurring"])
@pytest.mark.parametrize("environment", ENVIRONMENT_NAMES)
def test_the_deployment_and_the_jobs_run_the_same_hardened_pod(
    documents: list[Document], environment: str, other: str
) -> None:
    """The migration Job and the recurring-expenses CronJob's pod against the serving pod, field by field."""
    serving, migrating = _pods(documents, environment, other)
    for field in SHARED_POD_FIELDS:
        assert field in serving, f"pod field {field} missing"
        assert migrating.get(field) == serving[field], f"pod {field} differs between the Deployment and the {other}"
    assert len(serving["containers"]) == len(migrating["containers"]) == 1
    app, migrate = serving["containers"][0], migrating["containers"][0]
    for field in SHARED_CONTAINER_FIELDS:
        assert field in app or field in MAY_BE_ABSENT, f"container field {field} missing"
        assert migrate.get(field) == app.get(field), f"container {field} differs between the Deployment and the {other}"
    # The service account both name is the one the chart creates, with no API token either way.
    account = one(documents, "ServiceAccount", names.app_namespace(environment), serving["serviceAccountName"])
    assert account["automountServiceAccountToken"] is False


@pytest.mark.parametrize("environment", ENVIRONMENT_NAMES)
def test_every_app_object_carries_the_environment_labels_and_a_wave(
    documents: list[Document], environment: str
) -> None:
    namespace = names.app_namespace(environment)
    objects = [d for d in documents if d["metadata"].get("namespace") == namespace]
    assert len(objects) > 10
    for document in objects:
        where = f"{document['kind']}/{document['metadata']['name']}"
        labels = document["metadata"]["labels"]
        assert labels["app.kubernetes.io/managed-by"] == "manifests_py", where
        assert labels["app.kubernetes.io/name"] == "expense-tracker", where
        assert labels["app.kubernetes.io/instance"] == f"expense-tracker-{environment}", where
        assert labels["app.kubernetes.io/component"] in {"web", "migrate", "database", "recurring"}, where
        assert int(document["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]) in {-2, -1, 1, 2}, where


# Everything developers may read, by API group; Secrets (and anything that reveals them) are absent on purpose.
DEVELOPER_READABLE = {
    "": {
        "pods",
        "pods/log",
        "services",
        "endpoints",
        "configmaps",
        "events",
        "persistentvolumeclaims",
        "serviceaccounts",
    },
    "apps": {"deployments", "replicasets"},
    "batch": {"jobs", "cronjobs"},  # the runbooks' `kubectl get cronjob,jobs`
    "networking.k8s.io": {"ingresses", "networkpolicies"},
    "autoscaling": {"horizontalpodautoscalers"},
    "policy": {"poddisruptionbudgets"},
    "postgresql.cnpg.io": {"clusters", "backups", "scheduledbackups"},
    "external-secrets.io": {"externalsecrets"},
    "monitoring.coreos.com": {"servicemonitors", "prometheusrules"},
}


@pytest.mark.parametrize("environment", ENVIRONMENT_NAMES)
def test_developers_read_everything_but_secrets(documents: list[Document], environment: str) -> None:
    namespace = names.app_namespace(environment)
    (role,) = of_kind(documents, "Role", namespace)
    granted: dict[str, set[str]] = {}
    for rule in role["rules"]:
        assert rule["verbs"] == ["get", "list", "watch"]
        for group in rule["apiGroups"]:
            granted.setdefault(group, set()).update(rule["resources"])
    assert granted == DEVELOPER_READABLE
    assert all("secrets" not in resources for resources in granted.values())
    (binding,) = of_kind(documents, "RoleBinding", namespace)
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": "developers-read-only",
    }
    assert binding["subjects"] == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "expense-tracker-developers"}
    ]
