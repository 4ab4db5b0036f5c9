# GitHub Actions: OIDC federation for this repository's `terraform plan` job (.github/workflows/review.yml), and only
# for that. GitOps means CI never touches the cluster and never applies Terraform (operators run `cluster up`): the role
# reads the state object and whatever `terraform plan -refresh=true` reads, and nothing else (docs/ci-review.md; the
# action table behind it is tests/terraform/test_plan_role.py).
data "tls_certificate" "github" {
  url = "https://token.actions.githubusercontent.com/.well-known/openid-configuration"
}

resource "aws_iam_openid_connect_provider" "github" {
  url             = "https://token.actions.githubusercontent.com"
  client_id_list  = ["sts.amazonaws.com"]
  thumbprint_list = [data.tls_certificate.github.certificates[0].sha1_fingerprint]
}

data "aws_iam_policy_document" "github_trust" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [aws_iam_openid_connect_provider.github.arn]
    }
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }
    # Pushes to main (drift check) and pull requests of this repository. GitHub issues no OIDC token to workflows of
    # pull requests from forks, and the workflow runs the job only for same-repository pull requests.
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values = [
        "repo:${var.github_repository}:ref:refs/heads/main",
        "repo:${var.github_repository}:pull_request",
      ]
    }
  }
}

resource "aws_iam_role" "github_actions" {
  name                 = "${var.cluster_name}-github-actions"
  description          = "terraform plan from GitHub Actions: reads the state and refreshes; writes nothing."
  assume_role_policy   = data.aws_iam_policy_document.github_trust.json
  max_session_duration = 3600
}

locals {
  plan_arn_prefix = "arn:${local.partition}"
  plan_regional   = "${var.region}:${local.account_id}"
}

# Exactly what `terraform init` + `terraform plan -lock=false -refresh=true` read for the resources and data sources of
# this root and the registry modules it calls with our inputs; each action is traced to the provider's read function in
# tests/terraform/test_plan_role.py. No Create/Put/Delete/Update/Attach/Tag action, no iam:PassRole, no
# secretsmanager:GetSecretValue, no kms:Decrypt, no s3:GetObject outside the state object.
data "aws_iam_policy_document" "github_actions" {
  # The S3 backend: `init` and `plan` list the workspaces (ListObjects with prefix "env:/") and read the state object.
  # -lock=false: the lock file (use_lockfile) is never written. The bucket is SSE-KMS with the AWS managed key aws/s3,
  # whose key policy lets S3 decrypt for any principal of the account that may read the object: no kms:Decrypt here.
  statement {
    sid       = "ListStateWorkspaces"
    actions   = ["s3:ListBucket"]
    resources = ["${local.plan_arn_prefix}:s3:::${var.state_bucket}"]
    condition {
      test     = "StringEquals"
      variable = "s3:prefix"
      values   = ["env:/"]
    }
  }

  statement {
    sid       = "ReadStateObject"
    actions   = ["s3:GetObject"]
    resources = ["${local.plan_arn_prefix}:s3:::${var.state_bucket}/${var.cluster_name}/terraform.tfstate"]
  }

  # data.aws_s3_bucket.backups: HeadBucket (s3:ListBucket) and GetBucketWebsite. Object names are listable, contents
  # are not (no s3:GetObject on this bucket).
  statement {
    sid       = "LookUpBackupBucket"
    actions   = ["s3:ListBucket", "s3:GetBucketWebsite"]
    resources = [data.aws_s3_bucket.backups.arn]
  }

  # These EC2 Describe* calls support no resource-level permissions (DescribeVpcAttribute does: below).
  statement {
    sid = "RefreshNetwork"
    actions = [
      "ec2:DescribeAddresses",
      "ec2:DescribeAddressesAttribute",
      "ec2:DescribeAvailabilityZones",
      "ec2:DescribeFlowLogs",
      "ec2:DescribeInternetGateways",
      "ec2:DescribeLaunchTemplateVersions",
      "ec2:DescribeLaunchTemplates",
      "ec2:DescribeNatGateways",
      "ec2:DescribeNetworkAcls",
      "ec2:DescribeRouteTables",
      "ec2:DescribeSecurityGroupRules",
      "ec2:DescribeSecurityGroups",
      "ec2:DescribeSubnets",
      "ec2:DescribeVpcs",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "RefreshVpcAttributes"
    actions   = ["ec2:DescribeVpcAttribute"]
    resources = ["${local.plan_arn_prefix}:ec2:${local.plan_regional}:vpc/*"]
  }

  statement {
    sid = "RefreshCluster"
    actions = [
      "eks:DescribeAccessEntry",
      "eks:DescribeAddon",
      "eks:DescribeCluster",
      "eks:DescribeNodegroup",
      "eks:ListAssociatedAccessPolicies",
    ]
    resources = [
      "${local.plan_arn_prefix}:eks:${local.plan_regional}:cluster/${var.cluster_name}",
      "${local.plan_arn_prefix}:eks:${local.plan_regional}:nodegroup/${var.cluster_name}/*",
      "${local.plan_arn_prefix}:eks:${local.plan_regional}:addon/${var.cluster_name}/*",
      "${local.plan_arn_prefix}:eks:${local.plan_regional}:access-entry/${var.cluster_name}/*",
    ]
  }

  statement {
    sid       = "LookUpAddonVersions"
    actions   = ["eks:DescribeAddonVersions"]
    resources = ["*"]
  }

  statement {
    sid = "RefreshIdentities"
    actions = [
      "iam:GetOpenIDConnectProvider",
      "iam:GetPolicy",
      "iam:GetPolicyVersion",
      "iam:GetRole",
      "iam:GetRolePolicy",
      "iam:ListAttachedRolePolicies",
      "iam:ListPolicyTags",
      "iam:ListRolePolicies",
    ]
    resources = [
      "${local.plan_arn_prefix}:iam::${local.account_id}:role/*",
      "${local.plan_arn_prefix}:iam::${local.account_id}:policy/*",
      "${local.plan_arn_prefix}:iam::${local.account_id}:oidc-provider/*",
    ]
  }

  statement {
    sid = "RefreshKeys"
    actions = [
      "kms:DescribeKey",
      "kms:GetKeyPolicy",
      "kms:GetKeyRotationStatus",
      "kms:ListResourceTags",
    ]
    resources = ["${local.plan_arn_prefix}:kms:${local.plan_regional}:key/*"]
  }

  statement {
    sid       = "LookUpAliases"
    actions   = ["kms:ListAliases"]
    resources = ["*"]
  }

  statement {
    sid       = "RefreshLogGroups"
    actions   = ["logs:DescribeLogGroups", "logs:ListTagsForResource"]
    resources = ["${local.plan_arn_prefix}:logs:${local.plan_regional}:log-group:*"]
  }

  # Metadata and resource policy only: the values stay unreadable (no GetSecretValue, no kms:Decrypt).
  statement {
    sid       = "RefreshSecretsMetadata"
    actions   = ["secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy"]
    resources = ["${local.plan_arn_prefix}:secretsmanager:${local.plan_regional}:secret:expense-tracker/*"]
  }

  statement {
    sid       = "RefreshZone"
    actions   = ["route53:GetHostedZone", "route53:ListTagsForResource"]
    resources = [local.zone_arn]
  }
}

resource "aws_iam_role_policy" "github_actions" {
  name   = "terraform-plan-read-only"
  role   = aws_iam_role.github_actions.id
  policy = data.aws_iam_policy_document.github_actions.json
}
