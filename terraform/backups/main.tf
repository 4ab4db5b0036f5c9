# Long-lived: the database backups and the key they are encrypted with (issue #11, defect 13). They outlive every
# `cluster down`, because a restore after teardown needs both: in the main root, destroy scheduled the key's deletion
# (7–30 days, then every backup is unreadable) and failed on the non-empty bucket. The main root only looks them up
# (data sources, by name). `prevent_destroy` guards against destroying this root by mistake; deleting backups is a
# deliberate, manual act (docs/operations.md "Backups survive teardown").

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

module "plan" {
  source       = "../modules/network_plan"
  cluster_name = var.cluster_name
}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
}

resource "aws_kms_key" "backups" {
  description             = "${var.cluster_name}: database backups (outlives the cluster)"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.backups_key.json

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_kms_alias" "backups" {
  name          = "alias/${var.cluster_name}-backups"
  target_key_id = aws_kms_key.backups.key_id
}

data "aws_iam_policy_document" "backups_key" {
  # checkov:skip=CKV_AWS_109:key policies must name the key itself as "*"; access is limited by the principals
  # checkov:skip=CKV_AWS_111:as above — in a key policy "*" is this key, not every resource
  # checkov:skip=CKV_AWS_356:as above
  # The account administers the key; the database roles get kms:Encrypt/Decrypt/GenerateDataKey through their IAM
  # policies in the main root, which this delegation makes effective.
  statement {
    sid       = "AccountAdministersTheKey"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }
}

# Database backups (CloudNativePG base backups + WAL), one prefix per environment.
resource "aws_s3_bucket" "backups" {
  # checkov:skip=CKV_AWS_18:access logging would need a second bucket; CloudTrail data events cover audit if required
  # checkov:skip=CKV_AWS_144:cross-region replication is a disaster-recovery decision left to the operator (cost)
  # checkov:skip=CKV2_AWS_62:nothing consumes bucket events; backups are checked by the backup-age alert
  bucket = "${module.plan.backup_bucket_name}-${local.account_id}"
  # Never force_destroy: deleting the only copy of the data must be a decision, not a side effect.
  force_destroy = false

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_s3_bucket_versioning" "backups" {
  bucket = aws_s3_bucket.backups.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "backups" {
  bucket = aws_s3_bucket.backups.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.backups.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "backups" {
  bucket                  = aws_s3_bucket.backups.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_lifecycle_configuration" "backups" {
  bucket = aws_s3_bucket.backups.id

  rule {
    id     = "expire-old-versions"
    status = "Enabled"
    filter {}
    # CloudNativePG deletes backups past its retention policy; versioning keeps deleted objects this long more.
    noncurrent_version_expiration {
      noncurrent_days = var.backup_retention_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}
