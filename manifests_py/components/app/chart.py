"""The environment chart: what every object of the app in one environment shares, stamped in one place.

Like a cdk8s ``Chart`` (cdk8s-team/cdk8s-core, src/chart.ts: a chart's namespace and labels apply to every object in
it), the components below never spell out a namespace, the standard labels or a sync-wave annotation themselves: they
ask the chart for an object's metadata by name, component and wave.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from hikaru import HikaruDocumentBase
from hikaru.model.rel_1_28 import v1

from manifests_py import names
from manifests_py.environments import Environment
from manifests_py.objects import Manifest, app_labels, meta, sync_wave

# The app's components, the value of the app.kubernetes.io/component label (the selectors the pods, Services and
# NetworkPolicies match on).
WEB = "web"
MIGRATE = "migrate"
DATABASE = "database"
RECURRING = "recurring"  # the CronJob's pods: `expense-tracker recurring run`


class Wave(IntEnum):
    """Argo CD sync waves of the app's objects: each wave is applied and healthy before the next starts."""

    PREREQUISITES = -2  # service account, settings, NetworkPolicies, RBAC: what the pods need before they start
    DATABASE = -1
    MIGRATION = 1  # a Sync hook: after the database is healthy, before new pods roll onto the new schema
    WORKLOAD = 2  # also the recurring-expenses CronJob: its runs need the migrated schema too


@dataclass(frozen=True)
class EnvironmentChart:
    """One environment of the app: its namespace, the directory its files are written to, and its labels."""

    environment: Environment

    @property
    def namespace(self) -> str:
        return names.app_namespace(self.environment.name)

    @property
    def area(self) -> str:
        return f"apps/{self.environment.name}"

    def labels(self, component: str) -> dict[str, str]:
        """Selector labels of one component (no managed-by label: pod templates and selectors carry only these)."""
        return app_labels(self.environment.name, component)

    def meta(
        self,
        name: str,
        component: str,
        wave: Wave,
        *,
        labels: dict[str, str] | None = None,
        annotations: dict[str, str] | None = None,
    ) -> v1.ObjectMeta:
        """Metadata of an object in the environment's namespace: the component's labels plus ``labels``, the wave
        plus ``annotations``."""
        return meta(
            name,
            self.namespace,
            labels={**self.labels(component), **(labels or {})},
            annotations={**(annotations or {}), **sync_wave(wave)},
        )

    def manifests(self, objects: list[HikaruDocumentBase]) -> list[Manifest]:
        return [Manifest(self.area, obj) for obj in objects]


def namespace(chart: EnvironmentChart) -> v1.Namespace:
    """The namespace itself, under the restricted Pod Security Standard in every mode."""
    pod_security = {f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "audit", "warn")}
    return v1.Namespace(metadata=meta(chart.namespace, labels=pod_security))
