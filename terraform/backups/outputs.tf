output "backup_bucket" {
  value = aws_s3_bucket.backups.bucket
}

output "backup_key_arn" {
  value = aws_kms_key.backups.arn
}
