"""Backup and restore drill, for real (issue #11): PostgreSQL + barman-cloud (the tool CloudNativePG runs) against a
local S3 (moto, loopback), configured from the generated production Cluster's `spec.backup`. WAL is archived, a base
backup taken, more rows written around a recovery target time; the backup is restored into a fresh data directory to
that time, and exactly the rows before the target come back. Every S3 request barman-cloud made is then evaluated
against the generated IAM policy of the role the Cluster's service account assumes.

Runs in `nox -s restore_drill` (which installs barman-cloud and moto and sets BARMAN_CLOUD_BIN); elsewhere it skips.
With REQUIRE_RESTORE_DRILL=1 (the nox session sets it) a missing tool is a failure.
Runbook: docs/runbooks/restore-drill.md.

The command lines are CloudNativePG 1.26.0's, which builds them with github.com/cloudnative-pg/barman-cloud v0.3.1
(CNPG go.mod): pkg/archiver/command.go BarmanCloudWalArchiveOptions + pkg/walarchive/cmd.go (the WAL path last),
BarmanCloudCheckWalArchiveOptions, pkg/backup/backup.go GetBarmanCloudBackupOptions, pkg/command/backuplist.go
executeQueryCommand, pkg/command/backupdelete.go DeleteBackupsByPolicy, pkg/utils/barman.go ParsePolicy; and in CNPG
pkg/management/postgres/restore.go restoreDataDir (barman-cloud-restore) and getRestoreWalConfig (restore_command),
api/v1/cluster_funcs.go RecoveryTarget.BuildPostgresOptions. The one addition is `--endpoint-url` (our Cluster sets no
endpointURL, so in EKS boto3 finds S3 itself); CNPG appends it in the same place when endpointURL is set.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from manifests_py.render import REPO_ROOT

from tests.backup.s3 import Authorization, LocalS3, Request, summarise
from tests.security.postgres_server import _bindir
from tests.servers import free_port
from tests.terraform.iam import allowed, database_backup_bindings, database_backup_statements

pytestmark = pytest.mark.restore_drill

REQUIRE = os.environ.get("REQUIRE_RESTORE_DRILL") == "1"
ENVIRONMENT = "production"
CLUSTER_FILE = f"apps/{ENVIRONMENT}/cluster-expense-tracker-db.yaml"
REGION = "eu-west-1"
# Two identities on the local S3: the test's own set-up calls are not recorded, barman-cloud's are.
SETUP_KEY = "AKIADRILLSETUP000000"
BARMAN_KEY = "AKIADRILLBARMAN00000"
SECRET = "drill-secret-not-a-real-one"  # moto accepts any secret

# The rows, with the phase each belongs to: an independent truth for what the restore must bring back.
ROWS = {
    1: "before the base backup",
    2: "before the base backup",
    3: "after the backup, before the target",
    4: "after the backup, before the target",
    5: "after the target",
    6: "after the target",
}
RESTORED = {1, 2, 3, 4}


def _unavailable(reason: str) -> None:
    if REQUIRE:
        pytest.fail(f"REQUIRE_RESTORE_DRILL=1 but {reason}")
    pytest.skip(reason)


# --- the command lines CloudNativePG builds (module docstring has the upstream files) ---------------------------------


def _cloud_provider(store: dict[str, Any]) -> list[str]:
    """appendCloudProviderOptions: s3Credentials (here inheritFromIAMRole) means `--cloud-provider aws-s3`."""
    return ["--cloud-provider", "aws-s3"] if "s3Credentials" in store else []


def _endpoint(store: dict[str, Any]) -> list[str]:
    return ["--endpoint-url", store["endpointURL"]] if store.get("endpointURL") else []


def wal_archive_args(store: dict[str, Any], server: str) -> list[str]:
    wal = store.get("wal", {})
    options = [f"--{wal['compression']}"] if wal.get("compression") else []
    options += ["-e", wal["encryption"]] if wal.get("encryption") else []
    return [*options, *_endpoint(store), *_cloud_provider(store), store["destinationPath"], server]


def check_wal_archive_args(store: dict[str, Any], server: str) -> list[str]:
    return [*_endpoint(store), *_cloud_provider(store), store["destinationPath"], server]


def backup_args(store: dict[str, Any], name: str, server: str) -> list[str]:
    data = store.get("data", {})
    options = ["--user", "postgres", "--name", name]
    options += [f"--{data['compression']}"] if data.get("compression") else []
    options += ["--encryption", data["encryption"]] if data.get("encryption") else []
    options += ["--immediate-checkpoint"] if data.get("immediateCheckpoint") else []
    options += ["--jobs", str(data["jobs"])] if data.get("jobs") else []
    return [*options, *_endpoint(store), *_cloud_provider(store), store["destinationPath"], server]


def backup_list_args(store: dict[str, Any], server: str) -> list[str]:
    return ["--format", "json", *_endpoint(store), *_cloud_provider(store), store["destinationPath"], server]


UNITS = {"d": "DAYS", "w": "WEEKS", "m": "MONTHS"}


def retention_policy(value: str) -> str:
    """ParsePolicy: `30d` → `RECOVERY WINDOW OF 30 DAYS`."""
    match = re.fullmatch(r"([1-9][0-9]*)([dwm])", value)
    assert match, f"CNPG rejects retentionPolicy {value!r}"
    return f"RECOVERY WINDOW OF {match[1]} {UNITS[match[2]]}"


def backup_delete_args(store: dict[str, Any], server: str, policy: str) -> list[str]:
    return [
        *_endpoint(store),
        *_cloud_provider(store),
        "--retention-policy",
        retention_policy(policy),
        store["destinationPath"],
        server,
    ]


def restore_args(store: dict[str, Any], server: str, backup_id: str, pgdata: Path) -> list[str]:
    return [*_endpoint(store), store["destinationPath"], server, backup_id, *_cloud_provider(store), str(pgdata)]


def wal_restore_args(store: dict[str, Any], server: str) -> list[str]:
    return [*_endpoint(store), store["destinationPath"], server, *_cloud_provider(store), "%f", "%p"]


# --- the drill --------------------------------------------------------------------------------------------------------


@dataclass
class Drill:
    cluster: dict[str, Any]
    tools: Path
    pg_bindir: Path
    s3: LocalS3
    root: Path
    log: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def store(self) -> dict[str, Any]:
        # The generated object store, pointed at the local S3 (the only change; see the module docstring).
        return {**self.cluster["spec"]["backup"]["barmanObjectStore"], "endpointURL": self.s3.endpoint_url}

    @property
    def server(self) -> str:
        # serverName defaults to the Cluster's name (BarmanCloudWalArchiveOptions).
        return str(self.store.get("serverName") or self.cluster["metadata"]["name"])

    def env(self, port: int) -> dict[str, str]:
        return {
            "PATH": f"{self.tools}:{self.pg_bindir}:/usr/bin:/bin",
            "LC_ALL": "C.UTF-8",
            "HOME": str(self.root),
            "TMPDIR": str(self.root),
            "AWS_ACCESS_KEY_ID": BARMAN_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true",
            "NO_PROXY": "127.0.0.1",
            "no_proxy": "127.0.0.1",
            "PGHOST": str(self.root),
            "PGPORT": str(port),
        }

    def run(self, port: int, *command: str | Path, timeout: float = 120) -> str:
        """As the postgres user (PostgreSQL refuses root; CNPG runs everything as the postgres uid)."""
        runuser = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        argv = [shutil.which(runuser[0]) or runuser[0], *runuser[1:]] if runuser else []
        argv += [str(part) for part in command]
        self.log.append(" ".join(argv))
        result = subprocess.run(
            argv, env=self.env(port), capture_output=True, text=True, timeout=timeout, cwd=self.root, check=False
        )
        assert result.returncode == 0, f"{argv} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def sql(self, port: int, statement: str) -> str:
        return self.run(port, self.pg_bindir / "psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", "postgres",
                        "-U", "postgres", "-c", statement).strip()  # fmt: skip

    def barman(self, port: int, tool: str, *args: str | Path) -> str:
        return self.run(port, self.tools / tool, *args, timeout=180)


def _pg_log(data: Path) -> str:
    logs = sorted((data.parent).glob(f"{data.name}.log"))
    return logs[0].read_text()[-4000:] if logs else ""


@contextlib.contextmanager
def _postgres(drill: Drill, data: Path, port: int, settings: dict[str, str]) -> Iterator[None]:
    conf = "".join(f"{key} = '{value}'\n" for key, value in settings.items())
    with (data / "postgresql.auto.conf").open("a") as handle:
        handle.write(conf)
    log = data.parent / f"{data.name}.log"
    options = f"-p {port} -c listen_addresses='' -k {drill.root}"
    try:
        drill.run(port, drill.pg_bindir / "pg_ctl", "-D", data, "-l", log, "-o", options, "-w", "-t", "60", "start")
    except AssertionError as error:
        raise AssertionError(f"{error}\n{_pg_log(data)}") from None
    try:
        yield
    finally:
        with contextlib.suppress(AssertionError):
            drill.run(port, drill.pg_bindir / "pg_ctl", "-D", data, "-m", "fast", "-w", "stop")


def _wait(what: str, predicate: Any, timeout: float = 60, log: str | Path = "") -> None:
    """Poll; on a timeout or an error (e.g. the server died: recovery never reached its target) show the server log."""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.2)
        problem = f"timed out after {timeout:.0f}s"
    except AssertionError as error:
        problem = str(error)
    tail = Path(log).read_text()[-3000:] if log else ""
    raise AssertionError(f"waiting for {what}: {problem}\nserver log:\n{tail}")


def _setup_bucket(s3: LocalS3, bucket: str) -> str:
    """The bucket as terraform/backups/main.tf configures it: versioned, SSE-KMS by default with its own key (bucket
    key on). Returns the key's ARN."""
    import boto3

    session = boto3.Session(aws_access_key_id=SETUP_KEY, aws_secret_access_key=SECRET, region_name=REGION)
    kms = session.client("kms", endpoint_url=s3.endpoint_url)
    key_arn = str(kms.create_key(Description="drill: database backups")["KeyMetadata"]["Arn"])
    client = session.client("s3", endpoint_url=s3.endpoint_url)
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    rule = {
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn},
        "BucketKeyEnabled": True,
    }
    client.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [rule]})
    return key_arn


@dataclass
class Outcome:
    drill: Drill
    bucket: str
    key_arn: str
    backups_listed: list[dict[str, Any]]
    backups_after_retention: list[dict[str, Any]]
    restored_rows: dict[int, str]
    requests: list[Request]
    archive_command: str


def _tools() -> Path:
    tools = os.environ.get("BARMAN_CLOUD_BIN")
    if not tools:
        _unavailable("the restore drill runs in `nox -s restore_drill` (BARMAN_CLOUD_BIN names barman-cloud's bin dir)")
    path = Path(str(tools))
    if not (path / "barman-cloud-wal-archive").exists():
        _unavailable(f"no barman-cloud-wal-archive in {path}")
    return path


@pytest.fixture(scope="module")
def outcome() -> Iterator[Outcome]:
    tools = _tools()
    pytest.importorskip("moto", reason="moto[server] is installed by `nox -s restore_drill`")
    bindir = _bindir()
    if bindir is None or not (bindir / "initdb").exists():
        _unavailable("PostgreSQL server binaries (pg_config --bindir) are needed")
    assert bindir is not None
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        _unavailable("running as root needs runuser to start PostgreSQL as postgres")

    # The committed render (manifests_check keeps it equal to a fresh one): what Argo CD applies.
    cluster = yaml.safe_load((REPO_ROOT / "manifests" / CLUSTER_FILE).read_text())
    bucket = re.fullmatch(r"s3://([^/]+)/.*", cluster["spec"]["backup"]["barmanObjectStore"]["destinationPath"])
    assert bucket, "destinationPath is not an s3:// URL"

    root = Path(tempfile.mkdtemp(prefix="et-restore-drill-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    try:
        with LocalS3(BARMAN_KEY) as s3:
            key_arn = _setup_bucket(s3, bucket[1])
            drill = Drill(cluster, tools, bindir, s3, root)
            yield _run_drill(drill, bucket[1], key_arn)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _run_drill(drill: Drill, bucket: str, key_arn: str) -> Outcome:
    store, server = drill.store, drill.server
    started = time.monotonic()
    primary, port = drill.root / "primary", free_port()
    drill.run(port, drill.pg_bindir / "initdb", "-D", primary, "-A", "trust", "-U", "postgres", "--no-sync")

    # CNPG checks that a new cluster's WAL destination is empty before its first archive.
    drill.barman(port, "barman-cloud-check-wal-archive", *check_wal_archive_args(store, server))
    archive_command = " ".join([str(drill.tools / "barman-cloud-wal-archive"), *wal_archive_args(store, server), "%p"])
    settings = {
        "wal_level": "replica",
        "archive_mode": "on",
        "archive_command": archive_command,
        "archive_timeout": "5min",  # CNPG's default
        "fsync": "off",
        # CNPG's backups ask for a spread checkpoint (no immediateCheckpoint); with nothing to spread it over, the
        # drill's finishes at once instead of pacing itself over checkpoint_timeout.
        "checkpoint_completion_target": "0",
    }
    with _postgres(drill, primary, port, settings):
        drill.sql(port, "CREATE TABLE drill (id int PRIMARY KEY, phase text NOT NULL)")
        drill.sql(port, _insert(1, 2))
        begin = time.monotonic()
        drill.barman(port, "barman-cloud-backup", *backup_args(store, "drill-base", server))
        drill.timings["base backup"] = time.monotonic() - begin
        drill.sql(port, _insert(3, 4))
        target = drill.sql(port, "SELECT clock_timestamp()")
        time.sleep(0.05)
        drill.sql(port, _insert(5, 6))
        last = drill.sql(port, "SELECT pg_walfile_name(pg_switch_wal())")
        begin = time.monotonic()
        _wait(
            f"{last} to be archived",
            lambda: drill.sql(port, "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver") >= last,
            log=primary.parent / "primary.log",
        )
        drill.timings["archive of the last WAL"] = time.monotonic() - begin

    listing = drill.barman(port, "barman-cloud-backup-list", *backup_list_args(store, server))
    listed = json.loads(listing)["backups_list"]
    assert len(listed) == 1, listed
    backup_id = listed[0]["backup_id"]

    restored, port = drill.root / "restored", free_port()
    restored.mkdir(mode=0o700)
    if os.geteuid() == 0:
        shutil.chown(restored, "postgres", "postgres")
    begin = time.monotonic()
    drill.barman(port, "barman-cloud-restore", *restore_args(store, server, backup_id, restored))
    (restored / "recovery.signal").touch()
    if os.geteuid() == 0:
        shutil.chown(restored / "recovery.signal", "postgres", "postgres")
    recovery = {
        "recovery_target_action": "promote",
        "restore_command": " ".join([str(drill.tools / "barman-cloud-wal-restore"), *wal_restore_args(store, server)]),
        "recovery_target_time": target,
        "recovery_target_inclusive": "true",
        # CNPG writes archive_command = 'false' for the recovery; off keeps the drill from archiving into the
        # original server's prefix after promotion.
        "archive_mode": "off",
    }
    with _postgres(drill, restored, port, recovery):
        _wait("the restored server to promote", lambda: drill.sql(port, "SELECT pg_is_in_recovery()") == "f",
              log=restored.parent / "restored.log")  # fmt: skip
        rows = drill.sql(port, "SELECT id, phase FROM drill ORDER BY id")
    drill.timings["restore and replay"] = time.monotonic() - begin
    restored_rows = {int(i): phase for i, phase in (line.split("|", 1) for line in rows.splitlines())}

    # Two backups from long ago (copies of this one, made with the set-up identity): a 30-day window keeps the newer one
    # (the first backup before the point of recoverability) and deletes the older, so the deletion calls are real.
    for backup_id_then, then in AGED_BACKUPS.items():
        _copy_backup_as_of(drill.s3, bucket, f"{ENVIRONMENT}/{server}/base", backup_id, backup_id_then, then)
    policy = drill.cluster["spec"]["backup"]["retentionPolicy"]
    drill.barman(port, "barman-cloud-backup-delete", *backup_delete_args(store, server, policy))
    after = json.loads(drill.barman(port, "barman-cloud-backup-list", *backup_list_args(store, server)))["backups_list"]
    drill.timings["whole drill"] = time.monotonic() - started
    return Outcome(drill, bucket, key_arn, listed, after, restored_rows, drill.s3.recorder.since(0), archive_command)


AGED_BACKUPS = {"20200101T000000": "2020-01-01 00:00:00+00:00", "20200201T000000": "2020-02-01 00:00:00+00:00"}


def _copy_backup_as_of(s3: LocalS3, bucket: str, base: str, source: str, target: str, then: str) -> None:
    """Copy base/<source>/ to base/<target>/ with backup.info dated `then` (barman reads begin/end_time from it)."""
    import boto3

    client = boto3.Session(aws_access_key_id=SETUP_KEY, aws_secret_access_key=SECRET, region_name=REGION).client(
        "s3", endpoint_url=s3.endpoint_url
    )
    for item in client.list_objects_v2(Bucket=bucket, Prefix=f"{base}/{source}/")["Contents"]:
        body = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
        if item["Key"].endswith("/backup.info"):
            fields = {"backup_id": target, "begin_time": then, "end_time": then, "backup_name": "None"}
            lines = [line.split("=", 1) for line in body.decode().splitlines() if "=" in line]
            body = "".join(f"{k}={fields.get(k, v)}\n" for k, v in lines).encode()
        client.put_object(Bucket=bucket, Key=item["Key"].replace(f"/{source}/", f"/{target}/"), Body=body)


def _insert(first: int, last: int) -> str:
    values = ", ".join(f"({i}, '{ROWS[i]}')" for i in range(first, last + 1))
    return f"INSERT INTO drill (id, phase) VALUES {values}"


# --- the checks -------------------------------------------------------------------------------------------------------


def test_restore_to_the_target_time_brings_back_exactly_the_rows_before_it(outcome: Outcome) -> None:
    expected = {i: phase for i, phase in ROWS.items() if i in RESTORED}
    assert outcome.restored_rows == expected
    print("timings (s):", {k: round(v, 1) for k, v in outcome.drill.timings.items()})


def test_commands_are_cnpgs_for_the_generated_cluster(outcome: Outcome) -> None:
    """The argument lists, written out from CNPG's source for this Cluster (gzip for WAL and data, no encryption
    option, s3Credentials → aws-s3, serverName = the Cluster's name)."""
    endpoint = outcome.drill.s3.endpoint_url
    destination = f"s3://{outcome.bucket}/{ENVIRONMENT}"
    tools = outcome.drill.tools
    assert outcome.archive_command == (
        f"{tools}/barman-cloud-wal-archive --gzip --endpoint-url {endpoint} --cloud-provider aws-s3 "
        f"{destination} expense-tracker-db %p"
    )
    store, server = outcome.drill.store, outcome.drill.server
    assert backup_args(store, "b", server) == [
        "--user", "postgres", "--name", "b", "--gzip", "--endpoint-url", endpoint, "--cloud-provider", "aws-s3",
        destination, "expense-tracker-db",
    ]  # fmt: skip
    assert backup_delete_args(store, server, "30d")[-4:] == [
        "--retention-policy", "RECOVERY WINDOW OF 30 DAYS", destination, "expense-tracker-db",
    ]  # fmt: skip


def test_backup_list_and_retention(outcome: Outcome) -> None:
    assert [b["status"] for b in outcome.backups_listed] == ["DONE"]
    assert outcome.backups_listed[0]["backup_name"] == "drill-base"
    # A 30-day recovery window keeps the fresh backup and the newest one older than 30 days, and deletes the rest.
    kept = [b["backup_id"] for b in outcome.backups_after_retention]
    assert kept == ["20200201T000000", outcome.backups_listed[0]["backup_id"]]


def _role_environment(cluster: dict[str, Any]) -> str:
    """The environment whose policy applies: the one in the name of the IAM role the Cluster's pods assume
    (terraform/irsa.tf names it "${var.cluster_name}-db-backup-${each.key}")."""
    arn = cluster["spec"]["serviceAccountTemplate"]["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
    match = re.fullmatch(r"arn:aws:iam::\d+:role/.+-db-backup-([a-z0-9-]+)", arn)
    assert match, arn
    return match[1]


def _kms_key_of(key_arn: str) -> Any:
    """Objects in the bucket are encrypted by its default SSE-KMS key, and S3 says so on each write and read."""

    def of(request: Request) -> str | None:
        if request.operation in {"CreateMultipartUpload", "UploadPart"}:
            return key_arn  # the bucket default applies to the object being assembled
        if request.response_headers.get("x-amz-server-side-encryption") == "aws:kms":
            return request.response_headers.get("x-amz-server-side-encryption-aws-kms-key-id", key_arn)
        return None

    return of


def test_every_s3_call_barman_cloud_made_is_allowed_by_the_generated_role(outcome: Outcome) -> None:
    assert outcome.requests, "nothing was recorded"
    operations = summarise(outcome.requests)
    print("S3 operations barman-cloud performed:", operations)
    # 404 is barman looking for what is not there (e.g. a just-deleted backup.info, a timeline history file);
    # anything else means a call failed. The authorization of every call, 404s included, is checked below.
    failed = [r for r in outcome.requests if r.status >= 400 and r.status != 404]
    assert not failed, [(r.operation, r.path, r.status) for r in failed]
    environment = _role_environment(outcome.drill.cluster)
    bindings = database_backup_bindings(environment, f"arn:aws:s3:::{outcome.bucket}", outcome.key_arn)
    statements = database_backup_statements()
    denied: dict[str, Authorization] = {}
    checked: set[tuple[str, str, str]] = set()
    for request in outcome.requests:
        for need in request.authorizations(_kms_key_of(outcome.key_arn)):
            checked.add((request.operation, need.action, json.dumps(need.context)))
            if not allowed(statements, bindings, need.action, need.resource, need.context):
                denied.setdefault(request.operation, need)
    print("checked:", sorted(checked))
    assert not denied, f"the {environment} role would refuse: {denied}"
    # The drill did exercise the calls the policy exists for.
    assert {"HeadBucket", "ListObjectsV2", "GetObject"} <= set(operations)
    assert {"PutObject", "CompleteMultipartUpload"} & set(operations)
    assert {"DeleteObjects", "DeleteObject"} & set(operations), "the retention run deleted nothing"
