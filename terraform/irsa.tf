# IAM roles for service accounts: each trusted by exactly one namespace:serviceaccount of this cluster's OIDC
# provider, each with only the permissions its controller needs, on only this stack's resources.
module "irsa" {
  source   = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks"
  version  = "~> 5.55"
  for_each = local.service_accounts

  role_name = "${var.cluster_name}-${replace(each.key, "_", "-")}"

  attach_cluster_autoscaler_policy = each.key == "cluster_autoscaler"
  cluster_autoscaler_cluster_names = [var.cluster_name]

  attach_ebs_csi_policy = each.key == "ebs_csi"
  ebs_csi_kms_cmk_ids   = [aws_kms_key.main.arn]

  attach_external_secrets_policy = each.key == "external_secrets"
  external_secrets_secrets_manager_arns = concat(
    [for secret in aws_secretsmanager_secret.app : secret.arn],
    [aws_secretsmanager_secret.grafana_admin.arn, aws_secretsmanager_secret.alertmanager.arn],
  )
  external_secrets_kms_key_arns       = [aws_kms_key.main.arn]
  external_secrets_ssm_parameter_arns = []

  attach_cert_manager_policy    = each.key == "cert_manager"
  cert_manager_hosted_zone_arns = [local.zone_arn]

  attach_external_dns_policy    = each.key == "external_dns"
  external_dns_hosted_zone_arns = [local.zone_arn]

  oidc_providers = {
    main = {
      provider_arn               = module.eks.oidc_provider_arn
      namespace_service_accounts = [each.value]
    }
  }
}

module "database_backup_irsa" {
  source   = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks"
  version  = "~> 5.55"
  for_each = local.database_service_accounts

  role_name        = "${var.cluster_name}-db-backup-${each.key}"
  role_policy_arns = { backup = aws_iam_policy.database_backup[each.key].arn }

  oidc_providers = {
    main = {
      provider_arn               = module.eks.oidc_provider_arn
      namespace_service_accounts = [each.value]
    }
  }
}

# Barman Cloud (CloudNativePG) writes base backups and WAL under s3://bucket/<env>/ and reads them back to restore.
resource "aws_iam_policy" "database_backup" {
  for_each    = toset(var.environments)
  name        = "${var.cluster_name}-db-backup-${each.key}"
  description = "CloudNativePG backups of ${each.key}: only its prefix of the backup bucket."
  policy      = data.aws_iam_policy_document.database_backup[each.key].json
}

data "aws_iam_policy_document" "database_backup" {
  for_each = toset(var.environments)

  # barman-cloud checks the bucket (HeadBucket, which needs s3:ListBucket and carries no s3:prefix) before every WAL
  # archive and backup, so a plain `StringLike s3:prefix` condition denied that check and no backup ever ran
  # (issue #11, defect 5). IfExists lets the prefix-less bucket calls through and still refuses a listing under
  # another environment's prefix; object keys are only reachable under this environment's prefix (below).
  statement {
    sid       = "CheckBucketAndListOwnPrefix"
    actions   = ["s3:ListBucket"]
    resources = [data.aws_s3_bucket.backups.arn]
    condition {
      test     = "StringLikeIfExists"
      variable = "s3:prefix"
      values   = ["${each.key}/*", "${each.key}"]
    }
  }

  statement {
    sid       = "LocateBucket"
    actions   = ["s3:GetBucketLocation"]
    resources = [data.aws_s3_bucket.backups.arn]
  }

  # PutObject covers the multipart calls boto3 makes for base backups (Create/UploadPart/Complete); aborting a failed
  # one is a separate permission.
  statement {
    sid       = "ReadWriteOwnPrefix"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = ["${data.aws_s3_bucket.backups.arn}/${each.key}/*"]
  }

  statement {
    sid       = "UseTheBackupKey"
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"]
    resources = [data.aws_kms_alias.backups.target_key_arn]
  }
}
