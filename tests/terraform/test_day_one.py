"""Issue #11, Terraform side: the inputs we give the registry modules, checked against what those modules do with them
at our pinned versions, so that `terraform apply` on a fresh account succeeds and `destroy` leaves the backups."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from manifests_py import names

from tests.terraform.iam import allowed, database_backup_bindings, database_backup_statements
from tests.terraform.test_terraform import TERRAFORM, _all, _locals, _terraform, _unquote, _variable_default

hcl2 = pytest.importorskip("hcl2", reason="python-hcl2 is part of the test extras")

# Instance shapes (vCPU, GiB) from the EC2 instance-type table; a node group must hold one shape only.
SHAPES = {"t3a.medium": (2, 4), "t3.medium": (2, 4), "t3a.small": (2, 2), "t3.small": (2, 2)}


def _jsonencode(expression: str) -> Any:
    """Evaluate `jsonencode({...})` of literals, as Terraform would, into the JSON EKS receives."""
    match = re.fullmatch(r"\$\{jsonencode\((.*)\)\}", expression, re.DOTALL)
    assert match, f"not a jsonencode() of a literal: {expression!r}"
    value = _unquote(hcl2.loads(f"value = {match.group(1)}\n"))["value"]
    return json.loads(json.dumps(value))


def _flow_log_role_policy_resources(vpc: dict[str, Any]) -> list[str] | None:
    """terraform-aws-modules/vpc v5.21 `vpc-flow-logs.tf` as the operator review read it: the CloudWatch role the module
    creates is allowed to write only to the log group the module creates (`aws_cloudwatch_log_group.flow_log[*].arn`),
    so creating the role without the group yields a policy with no resources (MalformedPolicyDocument). None: no role
    is created by the module."""
    if not vpc.get("enable_flow_log") or vpc.get("flow_log_destination_type") == "s3":
        return None
    if not vpc.get("create_flow_log_cloudwatch_iam_role", False):
        return None
    if vpc.get("create_flow_log_cloudwatch_log_group", True):
        return ["arn:aws:logs:region:account:log-group:created-by-module", "...:log-group:created-by-module:*"]
    return []


def test_the_flow_log_model_reproduces_the_malformed_policy() -> None:
    broken = {
        "enable_flow_log": True,
        "flow_log_destination_type": "cloud-watch-logs",
        "create_flow_log_cloudwatch_log_group": False,
        "create_flow_log_cloudwatch_iam_role": True,
    }
    assert _flow_log_role_policy_resources(broken) == []


def test_vpc_flow_logs_get_a_role_that_can_write_to_an_encrypted_retained_log_group() -> None:
    vpc = _all("module")["vpc"]
    assert vpc["enable_flow_log"] is True
    assert vpc["flow_log_destination_type"] == "cloud-watch-logs"
    resources = _flow_log_role_policy_resources(vpc)
    if resources is None:
        # Our own role instead of the module's: it must be passed in.
        assert vpc.get("flow_log_cloudwatch_iam_role_arn"), "flow logs need a role allowed to write the log group"
    else:
        assert resources, "the module's flow-log role policy would have an empty resource list"
    if vpc.get("create_flow_log_cloudwatch_log_group", True):
        assert vpc["flow_log_cloudwatch_log_group_kms_key_id"] == "${aws_kms_key.main.arn}"
        assert vpc["flow_log_cloudwatch_log_group_retention_in_days"] == "${var.log_retention_days}"
        assert "flow_logs" not in _all("resource").get("aws_cloudwatch_log_group", {}), "one log group, not two"


def test_vpc_cni_add_on_enforces_network_policies() -> None:
    vpc_cni = _all("module")["eks"]["cluster_addons"]["vpc-cni"]
    configuration = _jsonencode(vpc_cni["configuration_values"])
    # The add-on's schema takes the string "true" (it becomes the aws-node container's environment).
    assert configuration["enableNetworkPolicy"] == "true"
    assert vpc_cni["before_compute"] is True, "nodes must join with the configured CNI"


def test_eks_add_ons_are_pinned_and_only_what_something_uses() -> None:
    addons = _all("module")["eks"]["cluster_addons"]
    # IRSA is how every controller here gets AWS credentials; nothing uses EKS Pod Identity.
    assert set(addons) == {"vpc-cni", "coredns", "kube-proxy", "aws-ebs-csi-driver"}
    assert "aws_eks_pod_identity_association" not in _all("resource")
    for name, addon in addons.items():
        assert "most_recent" not in addon, f"{name}: most_recent changes the cluster on any apply"
        assert re.fullmatch(r"v\d+\.\d+\.\d+-eksbuild\.\d+", addon["addon_version"]), name
    # kube-proxy is built per Kubernetes minor: it must be the control plane's.
    assert addons["kube-proxy"]["addon_version"].startswith(f"v{_variable_default('cluster_version')}.")


def test_kubernetes_minor_has_one_source_shared_with_the_manifests() -> None:
    assert _variable_default("cluster_version") == names.EKS_VERSION
    assert re.fullmatch(r"1\.\d+", names.EKS_VERSION)


def _plan_outputs(tmp_path: Path, az_count: int) -> dict[str, Any]:
    """Apply the provider-free plan module for real (local state, no provider) and read its outputs."""
    module = tmp_path / f"network_plan_{az_count}"
    shutil.copytree(TERRAFORM / "modules" / "network_plan", module)
    code, output = _terraform("init", "-backend=false", "-input=false", cwd=module)
    assert code == 0, output
    variables = ["-var", "cluster_name=gitops-delivery-cluster", "-var", f"az_count={az_count}"]
    code, output = _terraform("apply", "-auto-approve", "-input=false", *variables, cwd=module)
    assert code == 0, output
    code, output = _terraform("output", "-json", cwd=module)
    assert code == 0, output
    outputs, _ = json.JSONDecoder().raw_decode(output, output.index("{"))  # stderr may follow stdout
    return {name: item["value"] for name, item in outputs.items()}


@pytest.mark.parametrize(("az_count", "min_nodes", "max_nodes"), [(2, 2, 6), (3, 3, 9)])
def test_one_node_group_per_zone_per_size_so_the_autoscaler_can_place_zonal_pods(
    tmp_path: Path, az_count: int, min_nodes: int, max_nodes: int
) -> None:
    groups = _plan_outputs(tmp_path, az_count)["node_groups"]
    by_size: dict[str, list[dict[str, Any]]] = {}
    for group in groups.values():
        assert len({SHAPES[t] for t in group["instance_types"]}) == 1, "cluster-autoscaler needs one shape per group"
        by_size.setdefault(group["labels"]["node-size"], []).append(group)
    assert set(by_size) == {"system", "medium", "small"}
    # Databases and controllers need a node Spot cannot take away: one on-demand node in every zone, always.
    assert {g["capacity_type"] for g in by_size["system"]} == {"ON_DEMAND"}
    assert all(g["min_size"] >= 1 for g in by_size["system"])
    assert {g["capacity_type"] for g in by_size["medium"] + by_size["small"]} == {"SPOT"}
    for size, members in by_size.items():
        assert sorted(m["zone_index"] for m in members) == list(range(az_count)), f"{size}: one group per zone"
        # balance-similar-node-groups treats groups as one pool only when they differ by zone alone.
        shapes = {json.dumps({k: v for k, v in m.items() if k != "zone_index"}, sort_keys=True) for m in members}
        assert len(shapes) == 1, f"{size}: groups differ by more than their zone"
    assert sum(g["min_size"] for g in groups.values()) == min_nodes
    assert sum(g["max_size"] for g in groups.values()) == max_nodes


def test_eks_node_groups_each_sit_in_their_zones_subnet() -> None:
    eks = _all("module")["eks"]
    assert "module.plan.node_groups" in eks["eks_managed_node_groups"]
    assert "module.vpc.private_subnets[group.zone_index]" in eks["eks_managed_node_groups"]
    assert "capacity_type = group.capacity_type" in eks["eks_managed_node_groups"]
    defaults = eks["eks_managed_node_group_defaults"]
    assert defaults["capacity_type"] == "SPOT"
    assert defaults["ami_type"].startswith("AL2023")
    assert _locals().get("node_groups") is None, "the layout has one source: the plan module"


def test_secret_names_are_free_again_right_after_down() -> None:
    secrets = _all("resource")["aws_secretsmanager_secret"]
    assert secrets
    for name, secret in secrets.items():
        # A deleted secret's name is reserved for its recovery window (default 30 days): `up` would fail.
        assert secret["recovery_window_in_days"] == 0, name


def test_backups_and_their_key_live_outside_the_state_that_down_destroys() -> None:
    main = _all("resource")
    assert not [kind for kind in main if kind.startswith("aws_s3_bucket")], "`down` destroys the main state"
    backups = _all("resource", "backups")
    bucket = backups["aws_s3_bucket"]["backups"]
    assert bucket.get("force_destroy", False) is False
    assert bucket["lifecycle"][0]["prevent_destroy"] is True
    key = backups["aws_kms_key"]["backups"]
    assert key["lifecycle"][0]["prevent_destroy"] is True
    assert key["enable_key_rotation"] is True
    sse = backups["aws_s3_bucket_server_side_encryption_configuration"]["backups"]["rule"][0]
    assert sse["apply_server_side_encryption_by_default"][0]["kms_master_key_id"] == "${aws_kms_key.backups.arn}"
    assert backups["aws_s3_bucket_versioning"]["backups"]["versioning_configuration"][0]["status"] == "Enabled"
    # The main state only looks the long-lived bucket and key up, and the database roles use that key.
    data = _all("data")
    assert "aws_s3_bucket" in data
    assert "aws_kms_alias" in data
    policy = data["aws_iam_policy_document"]["database_backup"]["statement"]
    kms = next(s for s in policy if any(a.startswith("kms:") for a in s["actions"]))
    assert kms["resources"] == ["${data.aws_kms_alias.backups.target_key_arn}"]


def test_example_var_file_sets_every_required_variable_of_both_roots_and_nothing_unknown() -> None:
    example = _unquote(hcl2.loads((TERRAFORM / "terraform.tfvars.example").read_text()))
    declared = {**_all("variable", "backups"), **_all("variable")}
    assert set(example) <= set(declared), "a misspelt variable is only a warning in a var file: catch it here"
    # state_bucket is not the var file's: `cluster up|down` pass their --state-bucket, CI its TF_STATE_BUCKET.
    required = {name for name, variable in declared.items() if "default" not in variable} - {"state_bucket"}
    assert required == {"endpoint_public_access_cidrs", "admin_principal_arns"}
    assert required <= set(example)
    assert "0.0.0.0/0" not in example["endpoint_public_access_cidrs"]
    assert not any(arn.endswith(":root") for arn in example["admin_principal_arns"])


BUCKET_ARN = "arn:aws:s3:::gitops-delivery-cluster-db-backups-111122223333"
KEY_ARN = "arn:aws:kms:eu-west-1:111122223333:key/backups"


def _allowed(statements: list[dict[str, Any]], action: str, resource: str, context: dict[str, str]) -> bool:
    return allowed(statements, database_backup_bindings("staging", BUCKET_ARN, KEY_ARN), action, resource, context)


# What barman-cloud (barman 3.x, boto3) calls against S3 for staging's cluster: the bucket check before every archive
# and backup, listings under the server's prefix, (multipart) uploads, downloads for restore, deletions by the
# retention policy, and the abort of a failed multipart upload. Written out here, not read from the policy.
_SERVER = "staging/expense-tracker-db"
BARMAN_CLOUD_CALLS = [
    ("HeadBucket", "s3:ListBucket", BUCKET_ARN, {}),
    ("GetBucketLocation", "s3:GetBucketLocation", BUCKET_ARN, {}),
    ("ListObjectsV2 wals", "s3:ListBucket", BUCKET_ARN, {"s3:prefix": f"{_SERVER}/wals/"}),
    ("ListObjectsV2 base", "s3:ListBucket", BUCKET_ARN, {"s3:prefix": f"{_SERVER}/base/"}),
    ("PutObject wal", "s3:PutObject", f"{BUCKET_ARN}/{_SERVER}/wals/0000000100000000/000000010000000000000001.gz", {}),
    ("UploadPart base", "s3:PutObject", f"{BUCKET_ARN}/{_SERVER}/base/20261202T000000/data.tar.gz", {}),
    ("AbortMultipartUpload", "s3:AbortMultipartUpload", f"{BUCKET_ARN}/{_SERVER}/base/20261202T000000/data.tar", {}),
    ("GetObject restore", "s3:GetObject", f"{BUCKET_ARN}/{_SERVER}/base/20261202T000000/backup.info", {}),
    ("DeleteObjects retention", "s3:DeleteObject", f"{BUCKET_ARN}/{_SERVER}/base/20261101T000000/data.tar.gz", {}),
    ("SSE-KMS upload", "kms:GenerateDataKey", KEY_ARN, {}),
    ("SSE-KMS download", "kms:Decrypt", KEY_ARN, {}),
]


@pytest.mark.parametrize(("call", "action", "resource", "context"), BARMAN_CLOUD_CALLS, ids=lambda v: str(v)[:24])
def test_database_backup_role_allows_every_call_barman_cloud_makes(
    call: str, action: str, resource: str, context: dict[str, str]
) -> None:
    statements = database_backup_statements()
    assert _allowed(statements, action, resource, context), f"barman-cloud's {call} would get 403"


@pytest.mark.parametrize(
    ("action", "resource", "context"),
    [
        ("s3:GetObject", f"{BUCKET_ARN}/production/expense-tracker-db/base/x/backup.info", {}),
        ("s3:PutObject", f"{BUCKET_ARN}/production/expense-tracker-db/wals/x", {}),
        ("s3:DeleteObject", f"{BUCKET_ARN}/production/expense-tracker-db/wals/x", {}),
        ("s3:ListBucket", BUCKET_ARN, {"s3:prefix": "production/"}),
        ("s3:DeleteBucket", BUCKET_ARN, {}),
        ("s3:PutBucketPolicy", BUCKET_ARN, {}),
        ("kms:ScheduleKeyDeletion", KEY_ARN, {}),
        ("s3:GetObject", "arn:aws:s3:::another-bucket/staging/expense-tracker-db/x", {}),
    ],
)
def test_database_backup_role_denies_other_environments_and_the_bucket_itself(
    action: str, resource: str, context: dict[str, str]
) -> None:
    statements = database_backup_statements()
    assert not _allowed(statements, action, resource, context)
