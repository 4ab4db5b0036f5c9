"""Issue #11, defect 18: the GitHub OIDC role is the read-only `terraform plan` role, with exactly the read rights that
`terraform init` + `terraform plan -lock=false -refresh=true` need, and no write right at all.

The table below is the independent truth: every Terraform resource and data source type this root declares or makes
the registry modules create with our inputs, mapped to the AWS API calls the provider's read function makes for it.
Sources read (the same ~> constraints as terraform/*.tf; newest matching tags at the time of writing):

* terraform-aws-modules/terraform-aws-eks v20.37.2 — main.tf, node_groups.tf, modules/eks-managed-node-group/main.tf,
  modules/_user_data/main.tf: which resources exist for our inputs (authentication_mode API, access_entries,
  cluster_addons, create_kms_key=false, enable_irsa default true, eks_managed_node_groups with the module's launch
  template; use_latest_ami_release_version default false, so no aws_ssm_parameter read; no Fargate/self-managed/EFA).
* terraform-aws-modules/terraform-aws-vpc v5.21.0 — main.tf, vpc-flow-logs.tf (manage_default_security_group,
  manage_default_network_acl, manage_default_route_table default true; one NAT gateway; flow log to a log group the
  module creates with its role).
* terraform-aws-modules/terraform-aws-iam v5.60.0 — modules/iam-role-for-service-accounts-eks/{main,policies}.tf.
* hashicorp/terraform-provider-aws, read functions (internal/service/…): ec2/vpc_.go resourceVPCRead (DescribeVpcs,
  DescribeVpcAttribute x3, default NACL/main route table/default SG lookups); s3/bucket_data_source.go (findBucket and
  findBucketRegion = HeadBucket, findBucketWebsite = GetBucketWebsite); iam/session_context_data_source.go
  (findRoleByName = GetRole on the assumed role); secretsmanager/secret.go resourceSecretRead (DescribeSecret,
  GetResourcePolicy — never GetSecretValue). The other rows follow the same files' find* functions
  (iam/role.go, iam/policy.go, kms/key.go, logs/group.go, ec2/ec2_eip.go, route53/zone.go, eks/*.go).
* hashicorp/terraform internal/backend/remote-state/s3/backend_state.go: Workspaces() lists the bucket with prefix
  "<workspace_key_prefix>/" ("env:/") and the default workspace's state is the object at `key`.

IAM action names for the API calls: the AWS Service Authorization Reference (HeadBucket is authorised as
s3:ListBucket, GetBucketWebsite as s3:GetBucketWebsite, ListObjects as s3:ListBucket).
"""

from __future__ import annotations

import fnmatch
import functools
import re
from typing import Any

import pytest
from manifests_py import cluster, names

from tests.terraform.test_terraform import TERRAFORM, _all

ACCOUNT = "111122223333"
REGION = "eu-west-1"
STATE_BUCKET = "acme-terraform-state-111122223333"
BACKUP_BUCKET = f"arn:aws:s3:::gitops-delivery-cluster-db-backups-{ACCOUNT}"
ZONE_ID = "Z0123456789ABCDEFGHIJ"

# Example ARNs of the objects each call touches (as AWS authorises them), written out here rather than read from the
# policy. `*` where the API supports no resource-level permission.
_EKS = f"arn:aws:eks:{REGION}:{ACCOUNT}"
_IAM = f"arn:aws:iam::{ACCOUNT}"
ROLE = f"{_IAM}:role/gitops-delivery-cluster-cluster-20260101000000000000000001"
NODE_ROLE = f"{_IAM}:role/system-a-eks-node-group-20260101000000000000000002"
FLOW_LOG_ROLE = f"{_IAM}:role/vpc-flow-log-role-20260101000000000000000003"
IRSA_ROLE = f"{_IAM}:role/gitops-delivery-cluster-external-dns"
PLAN_ROLE = f"{_IAM}:role/gitops-delivery-cluster-github-actions"
POLICY = f"{_IAM}:policy/gitops-delivery-cluster-db-backup-staging"
OIDC = f"{_IAM}:oidc-provider/oidc.eks.{REGION}.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
LOG_GROUP = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/eks/gitops-delivery-cluster/cluster"
FLOW_LOG_GROUP = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/vpc/gitops-delivery-cluster/flow-logs"
SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:expense-tracker/production/app-AbCdEf"
ZONE = f"arn:aws:route53:::hostedzone/{ZONE_ID}"

Call = tuple[str, str]  # IAM action, resource ARN
_ROLE_READ: list[Call] = [
    ("iam:GetRole", ROLE),
    ("iam:ListRolePolicies", ROLE),  # inline_policy
    ("iam:ListAttachedRolePolicies", ROLE),  # managed_policy_arns
]

# Terraform type -> what refreshing one instance calls. Types that call no AWS API map to [].
READS: dict[str, list[Call]] = {
    # ---- providers other than AWS, and AWS data sources that need no permission
    "tls_certificate": [],  # HTTPS GET of the OIDC issuer, not an AWS API
    "cloudinit_config": [],
    "time_sleep": [],
    "null_resource": [],
    "aws_iam_policy_document": [],  # rendered locally
    "aws_partition": [],
    "aws_region": [],
    "aws_caller_identity": [],  # sts:GetCallerIdentity needs no permission
    # ---- our own files
    "aws_availability_zones": [("ec2:DescribeAvailabilityZones", "*")],
    "aws_s3_bucket": [("s3:ListBucket", BACKUP_BUCKET), ("s3:GetBucketWebsite", BACKUP_BUCKET)],  # data source
    "aws_kms_alias": [("kms:ListAliases", "*"), ("kms:DescribeKey", KEY)],  # data source resolves the target key
    "aws_kms_key": [
        ("kms:DescribeKey", KEY),
        ("kms:GetKeyPolicy", KEY),
        ("kms:GetKeyRotationStatus", KEY),
        ("kms:ListResourceTags", KEY),
    ],
    "aws_iam_openid_connect_provider": [("iam:GetOpenIDConnectProvider", OIDC)],
    "aws_iam_role": [*_ROLE_READ, *((a, r) for a, _ in _ROLE_READ for r in (NODE_ROLE, FLOW_LOG_ROLE, IRSA_ROLE))],
    "aws_iam_role_policy": [("iam:GetRolePolicy", PLAN_ROLE)],
    "aws_iam_policy": [("iam:GetPolicy", POLICY), ("iam:GetPolicyVersion", POLICY), ("iam:ListPolicyTags", POLICY)],
    "aws_iam_role_policy_attachment": [("iam:ListAttachedRolePolicies", ROLE)],
    "aws_route53_zone": [("route53:GetHostedZone", ZONE), ("route53:ListTagsForResource", ZONE)],
    "aws_secretsmanager_secret": [
        ("secretsmanager:DescribeSecret", SECRET),
        ("secretsmanager:GetResourcePolicy", SECRET),
    ],
    # ---- terraform-aws-modules/eks v20.37
    "aws_iam_session_context": [("iam:GetRole", PLAN_ROLE)],  # the caller is an assumed role: GetRole on it
    "aws_eks_cluster": [("eks:DescribeCluster", f"{_EKS}:cluster/gitops-delivery-cluster")],
    "aws_eks_addon": [("eks:DescribeAddon", f"{_EKS}:addon/gitops-delivery-cluster/vpc-cni/0ac8-1234")],
    "aws_eks_addon_version": [("eks:DescribeAddonVersions", "*")],
    "aws_eks_node_group": [("eks:DescribeNodegroup", f"{_EKS}:nodegroup/gitops-delivery-cluster/system-a/0ac8")],
    "aws_eks_access_entry": [
        ("eks:DescribeAccessEntry", f"{_EKS}:access-entry/gitops-delivery-cluster/role/{ACCOUNT}/platform-admin/0ac8")
    ],
    "aws_eks_access_policy_association": [
        (
            "eks:ListAssociatedAccessPolicies",
            f"{_EKS}:access-entry/gitops-delivery-cluster/role/{ACCOUNT}/platform-admin/0ac8",
        )
    ],
    "aws_cloudwatch_log_group": [
        ("logs:DescribeLogGroups", LOG_GROUP),
        ("logs:ListTagsForResource", LOG_GROUP),
        ("logs:DescribeLogGroups", FLOW_LOG_GROUP),
        ("logs:ListTagsForResource", FLOW_LOG_GROUP),
    ],
    "aws_security_group": [("ec2:DescribeSecurityGroups", "*")],
    "aws_security_group_rule": [("ec2:DescribeSecurityGroups", "*"), ("ec2:DescribeSecurityGroupRules", "*")],
    "aws_launch_template": [("ec2:DescribeLaunchTemplates", "*"), ("ec2:DescribeLaunchTemplateVersions", "*")],
    # ---- terraform-aws-modules/vpc v5.21
    "aws_vpc": [
        ("ec2:DescribeVpcs", "*"),
        ("ec2:DescribeVpcAttribute", f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/vpc-0123456789abcdef0"),
        ("ec2:DescribeNetworkAcls", "*"),
        ("ec2:DescribeRouteTables", "*"),
        ("ec2:DescribeSecurityGroups", "*"),
    ],
    "aws_subnet": [("ec2:DescribeSubnets", "*")],
    "aws_route_table": [("ec2:DescribeRouteTables", "*")],
    "aws_route_table_association": [("ec2:DescribeRouteTables", "*")],
    "aws_route": [("ec2:DescribeRouteTables", "*")],
    "aws_internet_gateway": [("ec2:DescribeInternetGateways", "*")],
    "aws_eip": [("ec2:DescribeAddresses", "*"), ("ec2:DescribeAddressesAttribute", "*")],
    "aws_nat_gateway": [("ec2:DescribeNatGateways", "*")],
    "aws_flow_log": [("ec2:DescribeFlowLogs", "*")],
    "aws_default_security_group": [("ec2:DescribeSecurityGroups", "*")],
    "aws_default_network_acl": [("ec2:DescribeNetworkAcls", "*")],
    "aws_default_route_table": [("ec2:DescribeRouteTables", "*")],
}

# What the registry modules create with the inputs in eks.tf / network.tf / irsa.tf (see the module docstring).
MODULE_TYPES = {
    "eks": {
        "aws_partition", "aws_caller_identity", "aws_iam_session_context", "aws_eks_cluster",
        "aws_cloudwatch_log_group", "aws_eks_access_entry", "aws_eks_access_policy_association", "aws_security_group",
        "aws_security_group_rule", "tls_certificate", "aws_iam_openid_connect_provider", "aws_iam_policy_document",
        "aws_iam_role", "aws_iam_role_policy_attachment", "aws_iam_policy", "aws_eks_addon_version", "aws_eks_addon",
        "time_sleep", "aws_launch_template", "aws_eks_node_group", "cloudinit_config", "null_resource",
    },
    "vpc": {
        "aws_vpc", "aws_subnet", "aws_route_table", "aws_route_table_association", "aws_route", "aws_internet_gateway",
        "aws_eip", "aws_nat_gateway", "aws_default_security_group", "aws_default_network_acl",
        "aws_default_route_table", "aws_region", "aws_caller_identity", "aws_partition", "aws_flow_log",
        "aws_cloudwatch_log_group", "aws_iam_role", "aws_iam_policy_document", "aws_iam_role_policy_attachment",
        "aws_iam_policy",
    },
    "irsa": {
        "aws_partition", "aws_caller_identity", "aws_region", "aws_iam_policy_document", "aws_iam_role",
        "aws_iam_role_policy_attachment", "aws_iam_policy",
    },
}  # fmt: skip
MODULE_VERSIONS = {"eks": "~> 20.37", "vpc": "~> 5.21", "irsa": "~> 5.55", "database_backup_irsa": "~> 5.55"}

# Reads with no write side whose names do not start with Describe/Get/List are not expected here at all.
READ_VERB = re.compile(r"^[a-z0-9-]+:(Describe|Get|List)[A-Za-z]*$")
NEVER = {"secretsmanager:GetSecretValue", "kms:Decrypt", "ssm:GetParameter", "ssm:GetParameters", "iam:PassRole"}

PLACEHOLDERS = {
    "${local.plan_arn_prefix}": "arn:aws",
    "${local.plan_regional}": f"{REGION}:{ACCOUNT}",
    "${local.partition}": "aws",
    "${local.account_id}": ACCOUNT,
    "${var.region}": REGION,
    "${var.state_bucket}": STATE_BUCKET,
    "${var.cluster_name}": names.CLUSTER_NAME,
    "${data.aws_s3_bucket.backups.arn}": BACKUP_BUCKET,
    "${local.zone_arn}": ZONE,
}


def _resolve(value: str) -> str:
    for placeholder, concrete in PLACEHOLDERS.items():
        value = value.replace(placeholder, concrete)
    assert "${" not in value, f"the test does not know how to resolve {value!r}"
    return value


@functools.cache
def _statements() -> list[dict[str, Any]]:
    return _all("data")["aws_iam_policy_document"]["github_actions"]["statement"]  # type: ignore[no-any-return]


def _allowed(action: str, resource: str, context: dict[str, str] | None = None) -> bool:
    """IAM's evaluation for Allow-only statements: a statement must match the action, the resource and every condition;
    a condition on a key the request does not carry fails (no …IfExists operator is used here)."""
    context = context or {}
    for statement in _statements():
        assert statement.get("effect", "Allow") == "Allow"
        assert "not_actions" not in statement
        if not any(fnmatch.fnmatchcase(action, pattern) for pattern in statement["actions"]):
            continue
        if not any(fnmatch.fnmatchcase(resource, _resolve(pattern)) for pattern in statement["resources"]):
            continue
        matched = True
        for condition in statement.get("condition", []):
            operator, key = condition["test"], condition["variable"]
            assert operator in {"StringEquals", "StringLike"}, f"the evaluator does not model {operator}"
            if key not in context:
                matched = False
            elif operator == "StringEquals":
                matched = matched and context[key] in condition["values"]
            else:
                matched = matched and any(fnmatch.fnmatchcase(context[key], v) for v in condition["values"])
        if matched:
            return True
    return False


STATE_CALLS = [
    ("s3:ListBucket", f"arn:aws:s3:::{STATE_BUCKET}", {"s3:prefix": "env:/"}),  # Workspaces()
    ("s3:GetObject", f"arn:aws:s3:::{STATE_BUCKET}/gitops-delivery-cluster/terraform.tfstate", {}),
]


def test_every_type_this_root_declares_has_its_reads_in_the_table() -> None:
    declared = set(_all("resource")) | set(_all("data"))
    assert declared, "no resource found: the test reads the wrong tree"
    assert declared <= set(READS), f"add the provider's read calls for: {sorted(declared - set(READS))}"


def test_the_module_types_in_the_table_are_those_of_the_module_versions_we_read() -> None:
    modules = _all("module")
    for name, version in MODULE_VERSIONS.items():
        assert modules[name]["version"] == version, f"{name}: re-read the module's sources and update MODULE_TYPES"
    for name, types in MODULE_TYPES.items():
        assert types <= set(READS), f"{name}: {sorted(types - set(READS))}"


@pytest.mark.parametrize(("action", "resource", "context"), STATE_CALLS, ids=lambda v: str(v)[:40])
def test_the_plan_role_reads_the_state(action: str, resource: str, context: dict[str, str]) -> None:
    assert _allowed(action, resource, context)


@pytest.mark.parametrize(
    ("kind", "action", "resource"),
    [(kind, action, resource) for kind, calls in sorted(READS.items()) for action, resource in calls],
    ids=lambda v: str(v)[:40],
)
def test_the_plan_role_may_make_every_call_the_refresh_makes(kind: str, action: str, resource: str) -> None:
    assert _allowed(action, resource), f"refreshing {kind} calls {action} on {resource}: it would get AccessDenied"


def test_the_plan_role_grants_only_what_the_table_needs() -> None:
    needed = {action for calls in READS.values() for action, _ in calls} | {action for action, _, _ in STATE_CALLS}
    granted = {action for statement in _statements() for action in statement["actions"]}
    assert granted == needed, f"granted but not needed: {sorted(granted - needed)}; missing: {sorted(needed - granted)}"


def test_the_plan_role_has_no_write_action_and_no_secret_or_data_read() -> None:
    for statement in _statements():
        for action in statement["actions"]:
            assert "*" not in action, action
            assert READ_VERB.match(action) or action == "s3:ListBucket", action
            assert action not in NEVER, action
        if "s3:GetObject" in statement["actions"]:
            assert [_resolve(r) for r in statement["resources"]] == [
                f"arn:aws:s3:::{STATE_BUCKET}/{cluster.STATE_KEY}"
            ], "s3:GetObject on anything but the state object reads data (backups)"


@pytest.mark.parametrize(
    ("action", "resource", "context"),
    [
        ("s3:PutObject", f"arn:aws:s3:::{STATE_BUCKET}/gitops-delivery-cluster/terraform.tfstate", {}),
        ("s3:PutObject", f"arn:aws:s3:::{STATE_BUCKET}/gitops-delivery-cluster/terraform.tfstate.tflock", {}),
        ("s3:DeleteObject", f"arn:aws:s3:::{STATE_BUCKET}/gitops-delivery-cluster/terraform.tfstate.tflock", {}),
        ("s3:GetObject", f"arn:aws:s3:::{STATE_BUCKET}/gitops-delivery-cluster/backups.tfstate", {}),
        ("s3:ListBucket", f"arn:aws:s3:::{STATE_BUCKET}", {"s3:prefix": "gitops-delivery-cluster/"}),
        ("s3:ListBucket", f"arn:aws:s3:::{STATE_BUCKET}", {}),
        ("s3:GetObject", f"{BACKUP_BUCKET}/production/expense-tracker-db/base/x/backup.info", {}),
        ("secretsmanager:GetSecretValue", SECRET, {}),
        ("kms:Decrypt", KEY, {}),
        ("kms:Decrypt", f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/aws/s3", {}),
        ("iam:PassRole", ROLE, {}),
        ("iam:GetRole", "arn:aws:iam::999988887777:role/someone-elses", {}),
        ("eks:DescribeCluster", f"{_EKS}:cluster/another-cluster", {}),
        ("eks:CreateAccessEntry", f"{_EKS}:cluster/gitops-delivery-cluster", {}),
        ("ec2:CreateTags", "*", {}),
        ("ec2:RunInstances", "*", {}),
        ("ssm:GetParameter", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/anything", {}),
        ("route53:ChangeResourceRecordSets", ZONE, {}),
    ],
    ids=lambda v: str(v)[:40],
)
def test_the_plan_role_cannot_write_or_read_data(action: str, resource: str, context: dict[str, str]) -> None:
    assert not _allowed(action, resource, context)


def test_the_state_location_comes_from_variables_not_literals() -> None:
    text = (TERRAFORM / "github.tf").read_text()
    assert "terraform-state" not in text, "a hard-coded state bucket name"
    statement = next(s for s in _statements() if s["sid"] == "ReadStateObject")
    assert statement["resources"] == [
        "${local.plan_arn_prefix}:s3:::${var.state_bucket}/${var.cluster_name}/terraform.tfstate"
    ]
    assert f"{names.CLUSTER_NAME}/terraform.tfstate" == cluster.STATE_KEY  # what `cluster up` writes
    assert "default" not in _all("variable")["state_bucket"]
    settings = cluster.Settings(region=REGION, state_bucket=STATE_BUCKET, var_file="prod.tfvars")
    for step in (*cluster.up_plan(settings), *cluster.down_plan(settings)):
        if step.argv[:2] == ("terraform", "-chdir=terraform") and step.argv[2] in {"apply", "destroy"}:
            assert f"-var=state_bucket={STATE_BUCKET}" in step.argv, step.argv


def test_the_plan_role_is_trusted_by_main_and_this_repositorys_pull_requests_only() -> None:
    trust = _all("data")["aws_iam_policy_document"]["github_trust"]["statement"]
    assert len(trust) == 1
    conditions = {c["variable"]: (c["test"], c["values"]) for c in trust[0]["condition"]}
    assert conditions["token.actions.githubusercontent.com:sub"] == (
        "StringEquals",
        ["repo:${var.github_repository}:ref:refs/heads/main", "repo:${var.github_repository}:pull_request"],
    )
    assert conditions["token.actions.githubusercontent.com:aud"] == ("StringEquals", ["sts.amazonaws.com"])
