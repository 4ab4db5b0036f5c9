"""The one pod the app runs in, whether it serves (the Deployment), migrates the schema (the Job) or creates the
recurring expenses (the CronJob).

All run the same image with the same settings, service account, hardening and writable /tmp; only the command and
what belongs to a role (ports and probes for serving, a restart policy for the Jobs) differ. Building them all from
here is what keeps a hardening change from reaching one and silently missing another.
"""

from __future__ import annotations

from typing import Any

from hikaru.model.rel_1_28 import v1

from expense_tracker.constants import APP_NAME, CONTAINER_GID, CONTAINER_TMP_DIR, CONTAINER_UID
from manifests_py.components.app.chart import EnvironmentChart
from manifests_py.components.app.settings import container_env
from manifests_py.objects import resource_requirements

TMP_VOLUME = "tmp"

# checkov skips are annotations on the object they concern, each with its reason: here every object owning this pod.
SECRETS_AS_ENV = {
    "checkov.io/skip1": "CKV_K8S_35=the app reads its settings from the environment (12-factor); the values come from "
    "an ExternalSecret, are never in git, and only the container's own process sees them"
}


def _pod_security() -> v1.PodSecurityContext:
    return v1.PodSecurityContext(
        runAsNonRoot=True,
        runAsUser=CONTAINER_UID,
        runAsGroup=CONTAINER_GID,
        fsGroup=CONTAINER_GID,
        seccompProfile=v1.SeccompProfile(type="RuntimeDefault"),
    )


def _container_security() -> v1.SecurityContext:
    """The restricted Pod Security Standard's container fields; the root filesystem is read-only too (/tmp is not)."""
    return v1.SecurityContext(
        allowPrivilegeEscalation=False,
        readOnlyRootFilesystem=True,
        runAsNonRoot=True,
        capabilities=v1.Capabilities(drop=["ALL"]),
        seccompProfile=v1.SeccompProfile(type="RuntimeDefault"),
    )


def app_pod(
    chart: EnvironmentChart,
    labels: dict[str, str],
    *,
    container_name: str,
    command: list[str],
    annotations: dict[str, str] | None = None,
    container: dict[str, Any] | None = None,
    pod: dict[str, Any] | None = None,
) -> v1.PodTemplateSpec:
    """A pod template running ``command`` in the app's image. ``container`` and ``pod`` add a role's own fields;
    they cannot override the shared ones (a duplicate keyword is a TypeError)."""
    environment = chart.environment
    return v1.PodTemplateSpec(
        metadata=v1.ObjectMeta(labels=labels, annotations=annotations),
        spec=v1.PodSpec(
            serviceAccountName=APP_NAME,
            automountServiceAccountToken=False,
            securityContext=_pod_security(),
            containers=[
                v1.Container(
                    name=container_name,
                    image=environment.image,
                    command=command,
                    env=container_env(environment),
                    resources=resource_requirements(environment.resources),
                    securityContext=_container_security(),
                    volumeMounts=[v1.VolumeMount(name=TMP_VOLUME, mountPath=CONTAINER_TMP_DIR)],
                    **(container or {}),
                )
            ],
            volumes=[v1.Volume(name=TMP_VOLUME, emptyDir=v1.EmptyDirVolumeSource(sizeLimit="256Mi"))],
            **(pod or {}),
        ),
    )
