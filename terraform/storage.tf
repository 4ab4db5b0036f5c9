# Database backups (CloudNativePG base backups + WAL), one prefix per environment.
resource "aws_s3_bucket" "backups" {
  # checkov:skip=CKV_AWS_18:access logging would need a second bucket; CloudTrail data events cover audit if required
  # checkov:skip=CKV_AWS_144:cross-region replication is a disaster-recovery decision left to the operator (cost)
  # checkov:skip=CKV2_AWS_62:nothing consumes bucket events; backups are checked by the backup-age alert
  bucket = "${module.plan.backup_bucket_name}-${local.account_id}"
  # Backups survive `cluster down` unless the operator opts in: destroying the only copy must be a decision.
  force_destroy = var.backup_bucket_force_destroy
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
      kms_master_key_id = aws_kms_key.main.arn
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
