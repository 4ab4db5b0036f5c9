"""Cluster-wide configuration synced by the `cluster-config` Application: issuers, storage, the secret store."""

from __future__ import annotations

from hikaru.model.rel_1_28 import v1

from manifests_py import crds, names
from manifests_py.components.gitops import CLUSTER_AREA
from manifests_py.components.platform import ALERTMANAGER_SECRET, GRAFANA_ADMIN_SECRET
from manifests_py.environments import Infrastructure
from manifests_py.objects import Manifest, external_secret, meta

ACME_SERVERS = {
    names.LETSENCRYPT_STAGING: "https://acme-staging-v02.api.letsencrypt.org/directory",
    names.LETSENCRYPT_PRODUCTION: "https://acme-v02.api.letsencrypt.org/directory",
}
ACME_EMAIL = "platform@expenses.example.org"


def build(infrastructure: Infrastructure) -> list[Manifest]:
    issuers = [
        crds.ClusterIssuer(
            metadata=meta(name),
            spec=crds.IssuerSpec(
                acme=crds.ACMEIssuer(
                    server=server,
                    email=ACME_EMAIL,
                    privateKeySecretRef=crds.SecretKeyName(name=f"{name}-account-key"),
                    # DNS-01 through Route 53 with cert-manager's IRSA role: works before the load balancer exists.
                    solvers=[
                        crds.ACMESolver(
                            dns01=crds.DNS01Solver(
                                route53=crds.Route53Solver(
                                    region=infrastructure.aws_region, hostedZoneID=infrastructure.hosted_zone_id
                                )
                            ),
                            selector=crds.SolverSelector(dnsZones=[infrastructure.domain_zone]),
                        )
                    ],
                )
            ),
        )
        for name, server in sorted(ACME_SERVERS.items())
    ]
    storage = v1.StorageClass(
        metadata=meta(
            names.STORAGE_CLASS,
            annotations={
                "storageclass.kubernetes.io/is-default-class": "true",
                # A StorageClass is immutable; replacing it leaves the volumes already provisioned untouched.
                "argocd.argoproj.io/sync-options": "Replace=true",
            },
        ),
        provisioner="ebs.csi.aws.com",
        parameters={"type": "gp3", "encrypted": "true", "fsType": "ext4"},
        # Delete: CNPG replaces an instance's claim when it rebuilds the instance, and Retain would leave the old
        # EBS volume billed forever. Data safety comes from the S3 backups and the standby, not orphaned volumes.
        reclaimPolicy="Delete",
        volumeBindingMode="WaitForFirstConsumer",  # bind in the zone the pod lands in
        allowVolumeExpansion=True,
    )
    database_priority = v1.PriorityClass(
        metadata=meta(names.DATABASE_PRIORITY_CLASS),
        value=1_000_000,  # above the default 0, below system-cluster-critical (2,000,000,000)
        preemptionPolicy="PreemptLowerPriority",
        globalDefault=False,
        description="Database instances: may evict ordinary pods from the on-demand nodes they are pinned to.",
    )
    store = crds.ClusterSecretStore(
        metadata=meta(names.CLUSTER_SECRET_STORE),
        # No auth block: the controller's own service account assumes the external-secrets IRSA role.
        spec=crds.SecretStoreSpec(
            provider=crds.SecretStoreProvider(
                aws=crds.AWSProvider(service="SecretsManager", region=infrastructure.aws_region)
            )
        ),
    )
    grafana_admin = external_secret(
        meta(GRAFANA_ADMIN_SECRET, names.MONITORING_NAMESPACE),
        names.GRAFANA_ADMIN_SECRET_ID,
        ["admin-user", "admin-password"],
    )
    alertmanager_receivers = external_secret(
        meta(ALERTMANAGER_SECRET, names.MONITORING_NAMESPACE),
        names.ALERTMANAGER_SECRET_ID,
        list(names.ALERTMANAGER_SECRET_KEYS),
    )
    return [
        Manifest(CLUSTER_AREA, obj)
        for obj in (*issuers, storage, database_priority, store, grafana_admin, alertmanager_receivers)
    ]
