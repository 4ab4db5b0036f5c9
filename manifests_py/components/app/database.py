"""The app's PostgreSQL: a CloudNativePG Cluster with backups to S3, and its daily ScheduledBackup."""

from __future__ import annotations

from hikaru import HikaruDocumentBase
from hikaru.model.rel_1_28 import v1

from manifests_py import crds, names
from manifests_py.components.app.chart import DATABASE, EnvironmentChart, Wave
from manifests_py.environments import Environment
from manifests_py.objects import resource_requirements

POSTGRES_IMAGE = "ghcr.io/cloudnative-pg/postgresql:16.9"
"""PostgreSQL image for CloudNativePG instances, pinned (the operator's default moves with operator upgrades)."""
POSTGRES_PORT = 5432
CNPG_STATUS_PORT = 8000  # the instance manager's status endpoint, which the operator polls
CNPG_METRICS_PORT = 9187
DATABASE_NAME = "app"
DATABASE_OWNER = "app"


def database_secret(environment: Environment) -> str:
    """The Secret CloudNativePG creates with the owner's credentials; its ``uri`` key is a libpq URI."""
    return f"{names.database_cluster(environment.name)}-app"


def pod_labels(chart: EnvironmentChart) -> dict[str, str]:
    """Labels CloudNativePG puts on the instance pods (not ours: the operator's)."""
    return {"cnpg.io/cluster": names.database_cluster(chart.environment.name)}


def build(chart: EnvironmentChart) -> list[HikaruDocumentBase]:
    environment = chart.environment
    database = environment.database
    cluster_name = names.database_cluster(environment.name)
    cluster = crds.Cluster(
        metadata=chart.meta(cluster_name, DATABASE, Wave.DATABASE),
        spec=crds.ClusterSpec(
            instances=database.instances,
            imageName=POSTGRES_IMAGE,
            primaryUpdateStrategy="unsupervised",
            enableSuperuserAccess=False,
            storage=crds.StorageConfiguration(size=database.storage, storageClass=names.STORAGE_CLASS),
            walStorage=crds.StorageConfiguration(size=database.wal_storage, storageClass=names.STORAGE_CLASS),
            bootstrap=crds.Bootstrap(initdb=crds.InitDB(database=DATABASE_NAME, owner=DATABASE_OWNER)),
            resources=resource_requirements(database.resources),
            affinity=crds.ClusterAffinity(
                enablePodAntiAffinity=True,
                topologyKey="topology.kubernetes.io/zone",
                # Production spreads primary and standby over zones or does not schedule; one instance can't.
                podAntiAffinityType="required" if database.instances > 1 else "preferred",
                # A Spot reclaim gives two minutes' notice: too little for a primary. Instances run on the
                # on-demand nodes, one per zone (issue #11, defect 9).
                nodeSelector=dict(names.ON_DEMAND_NODES),
            ),
            priorityClassName=names.DATABASE_PRIORITY_CLASS,
            postgresql=crds.PostgresConfiguration(
                parameters={"max_connections": "200", "log_min_duration_statement": "1000"}
            ),
            monitoring=crds.ClusterMonitoring(enablePodMonitor=True),
            # CNPG's primary PDB on a single instance blocks every node drain (there is no standby to promote).
            enablePDB=False if database.instances == 1 else None,
            serviceAccountTemplate=crds.ServiceAccountTemplate(
                metadata=v1.ObjectMeta(annotations={"eks.amazonaws.com/role-arn": environment.database_backup_role_arn})
            ),
            backup=crds.BackupConfiguration(
                retentionPolicy=database.retention,
                barmanObjectStore=crds.BarmanObjectStore(
                    destinationPath=f"s3://{environment.infrastructure.backup_bucket}/{environment.name}",
                    s3Credentials=crds.S3Credentials(inheritFromIAMRole=True),
                    wal=crds.Compression(compression="gzip"),
                    data=crds.Compression(compression="gzip"),
                ),
            ),
        ),
    )
    daily = crds.ScheduledBackup(
        metadata=chart.meta(f"{cluster_name}-daily", DATABASE, Wave.DATABASE),
        spec=crds.ScheduledBackupSpec(
            schedule=database.backup_schedule,
            cluster=crds.SecretKeyName(name=cluster_name),
            method="barmanObjectStore",
            backupOwnerReference="self",
            immediate=True,
        ),
    )
    return [cluster, daily]
