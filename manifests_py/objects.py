"""Small helpers every component uses: the output entry type, standard labels, ArgoCD annotations."""

from __future__ import annotations

from dataclasses import dataclass

from hikaru import HikaruDocumentBase
from hikaru.model.rel_1_28.v1 import ObjectMeta, ResourceRequirements

from expense_tracker.constants import APP_NAME
from manifests_py import crds, names
from manifests_py.environments import Resources


@dataclass(frozen=True)
class Manifest:
    """One object and the directory (under ``manifests/``) it is written to."""

    area: str
    obj: HikaruDocumentBase

    @property
    def path(self) -> str:
        meta = self.obj.metadata
        return f"{self.area}/{self.obj.kind.lower()}-{meta.name.lower()}.yaml"


MANAGED_BY = {"app.kubernetes.io/managed-by": "manifests_py"}


def app_labels(environment: str, component: str) -> dict[str, str]:
    """Selector labels of one component of the app in one environment."""
    return {
        "app.kubernetes.io/name": APP_NAME,
        "app.kubernetes.io/instance": f"{APP_NAME}-{environment}",
        "app.kubernetes.io/component": component,
    }


def meta(
    name: str,
    namespace: str | None = None,
    *,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
) -> ObjectMeta:
    return ObjectMeta(
        name=name,
        namespace=namespace,
        labels={**MANAGED_BY, **(labels or {})},
        annotations=dict(annotations) if annotations else None,
    )


def resource_requirements(resources: Resources) -> ResourceRequirements:
    return ResourceRequirements(
        requests={"cpu": resources.cpu_request, "memory": resources.memory_request},
        limits={"cpu": resources.cpu_limit, "memory": resources.memory_limit},
    )


def sync_wave(wave: int) -> dict[str, str]:
    """ArgoCD applies lower waves first and waits for them to be healthy."""
    return {"argocd.argoproj.io/sync-wave": str(wave)}


def external_secret(metadata: ObjectMeta, remote_key: str, keys: list[str]) -> crds.ExternalSecret:
    """A Secret named like the ExternalSecret, with ``keys`` copied from the JSON secret ``remote_key`` in AWS Secrets
    Manager (through the cluster-wide store)."""
    return crds.ExternalSecret(
        metadata=metadata,
        spec=crds.ExternalSecretSpec(
            refreshInterval="1h",
            secretStoreRef=crds.SecretStoreRef(name=names.CLUSTER_SECRET_STORE, kind="ClusterSecretStore"),
            target=crds.ExternalSecretTarget(name=metadata.name, creationPolicy="Owner"),
            data=[
                crds.ExternalSecretData(secretKey=key, remoteRef=crds.RemoteRef(key=remote_key, property=key))
                for key in keys
            ],
        ),
    )
